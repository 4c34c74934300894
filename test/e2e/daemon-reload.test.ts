// SIGHUP: berthd re-reads daemon.json and applies what Docker reloads (debug, log-level,
// labels, registry mirrors, insecure registries), as `docker info` then shows; a broken file
// changes nothing and is logged; a key that needs a restart is logged as such.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { until } from '../helpers/e2e.ts';

let d: TestDaemon;
const first = {
  'log-level': 'warn',
  labels: ['tier=one'],
  'registry-mirrors': ['https://mirror-a.invalid'],
};

before(async () => {
  // No --log-level flag: the file's log-level and debug are the daemon's to reload.
  d = await startTestDaemon({ config: first, logLevelFlag: false });
});
after(async () => {
  await d?.cleanup();
});

async function writeConfig(text: string): Promise<void> {
  // Written as an editor would replace it (temp + rename): berthd never reads half a file.
  const file = path.join(d.dir, 'daemon.json');
  await fsp.writeFile(`${file}.tmp`, text);
  await fsp.rename(`${file}.tmp`, file);
}

/** Sends SIGHUP and waits for berthd's log line that the reload finished (or failed). */
async function hup(expect: RegExp): Promise<void> {
  const before = d.logs().length;
  process.kill(d.pid, 'SIGHUP');
  await until('the reload to be logged', async () => expect.test(d.logs().slice(before)), 10_000);
}

const info = async (format: string) => {
  const r = await d.docker(['info', '--format', format]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
};

describe('SIGHUP reload', () => {
  test('labels, debug, log-level, mirrors and insecure registries change live; docker info shows them', async () => {
    assert.equal(await info('{{json .Labels}}'), '["tier=one"]');
    assert.equal(await info('{{.Debug}}'), 'false');
    assert.equal(await info('{{json .RegistryConfig.Mirrors}}'), '["https://mirror-a.invalid/"]');
    // At warn, a request is not logged.
    const quiet = d.logs().length;
    await d.request('GET', '/_ping');
    assert.doesNotMatch(d.logs().slice(quiet), /"msg":"request"/);

    await writeConfig(
      JSON.stringify({
        debug: true,
        labels: ['tier=two', 'zone=b'],
        'registry-mirrors': ['https://mirror-b.invalid'],
        'insecure-registries': ['registry.test:5000', '10.77.0.0/16'],
      }),
    );
    await hup(/"msg":"reloaded configuration"/);
    assert.match(
      d.logs(),
      /"changed":\{[^\n]*"labels":\{"from":\["tier=one"\],"to":\["tier=two","zone=b"\]\}/,
    );
    assert.equal(d.pid > 0 && isAlive(d.pid), true, 'berthd survives SIGHUP');

    assert.equal(await info('{{json .Labels}}'), '["tier=two","zone=b"]');
    assert.equal(await info('{{.Debug}}'), 'true');
    assert.equal(await info('{{json .RegistryConfig.Mirrors}}'), '["https://mirror-b.invalid/"]');
    assert.equal(
      await info('{{json .RegistryConfig.InsecureRegistryCIDRs}}'),
      '["::1/128","127.0.0.0/8","10.77.0.0/16"]',
    );
    assert.equal(await info('{{(index .RegistryConfig.IndexConfigs "registry.test:5000").Secure}}'), 'false');
    // debug: true without log-level means level debug: requests are logged now.
    const loud = d.logs().length;
    await d.request('GET', '/_ping');
    await until('a debug request line', async () => /"msg":"request"/.test(d.logs().slice(loud)), 5_000);

    // The docker CLI's plain `info` lists them as Docker's does.
    const plain = await d.docker(['info']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(
      plain.stdout,
      /Insecure Registries:\n {2}registry\.test:5000\n {2}::1\/128\n {2}127\.0\.0\.0\/8\n {2}10\.77\.0\.0\/16\n/,
    );
    assert.match(plain.stdout, /Registry Mirrors:\n {2}https:\/\/mirror-b\.invalid\/\n/);
    assert.match(plain.stdout, /Labels:\n {2}tier=two\n {2}zone=b\n/);
    assert.match(plain.stdout, /Debug Mode: true/);
  });

  test('a broken file changes nothing and the error is logged; the daemon keeps serving', async () => {
    await writeConfig('{"labels": ["tier=three"], ');
    await hup(/"msg":"error reconfiguring the daemon[^\n]*invalid JSON/);
    assert.equal(await info('{{json .Labels}}'), '["tier=two","zone=b"]');
    for (const [text, why] of [
      [
        '{"labels": "tier=three"}',
        /cannot unmarshal string into Go struct field Config\.labels of type \[\]string/,
      ],
      ['{"labels": ["tier=three"], "colour": "blue"}', /don't match any configuration option: colour/],
      ['{"labels": ["no-equals-sign"]}', /bad attribute format: no-equals-sign/],
    ] as const) {
      await writeConfig(text);
      await hup(new RegExp(`"msg":"error reconfiguring the daemon[^\\n]*${why.source}`));
      assert.equal(await info('{{json .Labels}}'), '["tier=two","zone=b"]', text);
    }
  });

  test('a key that needs a restart is reported and left as it was', async () => {
    await writeConfig(JSON.stringify({ labels: ['tier=four'], 'default-runtime': 'crun' }));
    await hup(
      /"msg":"these daemon.json changes take effect at the next start of berthd"[^\n]*"default-runtime"/,
    );
    assert.equal(await info('{{json .Labels}}'), '["tier=four"]');
    assert.equal(await info('{{.DefaultRuntime}}'), 'runc');
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
