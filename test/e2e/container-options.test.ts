// Container options beyond the basics: --runtime (daemon.json runtimes), log rotation with
// max-size/max-file, logs --details, --read-only, --tmpfs, --add-host, --env-file, --group-add,
// --domainname, and wait conditions.
import assert from 'node:assert/strict';
import { mkdtempSync, promises as fsp, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { busyboxTar } from '../helpers/fixtures.ts';

let d: TestDaemon;
// A runc wrapper that records each call: proves the named runtime is the one used.
const wrapDir = mkdtempSync(path.join(os.tmpdir(), 'berth-rt-'));
const wrapper = path.join(wrapDir, 'logging-runc');
const callLog = path.join(wrapDir, 'calls.log');

before(async () => {
  writeFileSync(wrapper, `#!/bin/sh\necho "$*" >> ${callLog}\nexec runc "$@"\n`, { mode: 0o755 });
  d = await startTestDaemon({ config: { runtimes: { 'logging-runc': { path: wrapper } } } });
  const r = await d.berth(['import', '-c', 'CMD ["sh"]', busyboxTar(), 'busybox']);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  if (d) {
    const ids = (await d.berth(['ps', '-aq'])).stdout.trim().split('\n').filter(Boolean);
    if (ids.length > 0) await d.berth(['rm', '-f', ...ids]);
    await d.cleanup();
  }
  await fsp.rm(wrapDir, { recursive: true, force: true });
});

function ok(r: { code: number; stdout: string; stderr: string }): string {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

describe('--runtime', () => {
  test('a runtime from daemon.json runs the container and every later runtime call', async () => {
    assert.match(ok(await d.docker(['info', '--format', '{{json .Runtimes}}'])), /logging-runc/);
    const out = ok(
      await d.docker(['run', '--runtime', 'logging-runc', '--name', 'rt1', 'busybox', 'echo', 'via-wrapper']),
    );
    assert.equal(out, 'via-wrapper\n');
    const calls = await fsp.readFile(callLog, 'utf8');
    assert.match(calls, /\bcreate\b/);
    assert.match(calls, /\bstart\b/);
    assert.equal(
      ok(await d.docker(['inspect', '-f', '{{.HostConfig.Runtime}}', 'rt1'])).trim(),
      'logging-runc',
    );
    // exec goes through the same runtime.
    ok(await d.berth(['run', '-d', '--runtime', 'logging-runc', '--name', 'rt2', 'busybox', 'sleep', '300']));
    await fsp.writeFile(callLog, '');
    assert.equal(ok(await d.docker(['exec', 'rt2', 'echo', 'in']))?.trim(), 'in');
    assert.match(await fsp.readFile(callLog, 'utf8'), /\bexec\b/);
    ok(await d.docker(['rm', '-f', 'rt2']));
  });

  test('the default is runc; an unknown runtime is a 400 and creates nothing', async () => {
    ok(await d.docker(['create', '--name', 'rt-default', 'busybox']));
    assert.equal(
      ok(await d.docker(['inspect', '-f', '{{.HostConfig.Runtime}}', 'rt-default'])).trim(),
      'runc',
    );
    const before = ok(await d.docker(['ps', '-aq']));
    const r = await d.docker(['create', '--runtime', 'nope', 'busybox']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown or invalid runtime name: nope/);
    assert.equal(ok(await d.docker(['ps', '-aq'])), before);
  });
});

describe('logs', () => {
  test('max-size + max-file rotate; logs read the kept files oldest first', async () => {
    // ~40 KiB of numbered lines, in bursts so the rotation can keep up, with 16 KiB files x 3.
    const id = ok(
      await d.docker([
        'run',
        '-d',
        '--log-opt',
        'max-size=16k',
        '--log-opt',
        'max-file=3',
        'busybox',
        'sh',
        '-c',
        'i=0; while [ $i -lt 2000 ]; do echo "line-$i-padding-padding"; i=$((i+1)); if [ $((i % 100)) = 0 ]; then sleep 0.3; fi; done',
      ]),
    ).trim();
    ok(await d.docker(['wait', id]));
    const dir = path.join(d.dataRoot, 'containers', id);
    const files = (await fsp.readdir(dir)).filter((f) => f.startsWith('ctr.log'));
    assert.ok(files.includes('ctr.log.1'), `rotated files: ${files.join(' ')}`);
    assert.ok(!files.includes('ctr.log.3'), 'max-file=3 keeps at most ctr.log, .1 and .2');
    for (const f of files)
      assert.ok((await fsp.stat(path.join(dir, f))).size < 40 * 1024, `${f} stays bounded`);
    const lines = ok(await d.docker(['logs', id]))
      .trim()
      .split('\n');
    assert.equal(lines.at(-1), 'line-1999-padding-padding');
    // Whatever was kept is in order and ends with the last line.
    const nums = lines.map((l) => Number(/line-(\d+)/.exec(l)?.[1]));
    for (let i = 1; i < nums.length; i++)
      assert.equal(nums[i], nums[i - 1]! + 1, `line ${i} follows line ${i - 1}`);
    assert.ok(lines.length > (16 * 1024) / 30, 'more than one file worth of lines is kept');
    const tail = ok(await d.docker(['logs', '--tail', '5', id]))
      .trim()
      .split('\n');
    assert.deepEqual(tail, lines.slice(-5));
  });

  test('bad log options are a 400 at create', async () => {
    const r = await d.docker(['create', '--log-opt', 'max-file=0', '--log-opt', 'max-size=1m', 'busybox']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /invalid max-file "0"/);
    const r2 = await d.docker(['create', '--log-opt', 'max-size=ten', 'busybox']);
    assert.match(r2.stderr, /invalid max-size "ten"/);
    const r3 = await d.docker(['create', '--log-opt', 'bogus=1', 'busybox']);
    assert.match(r3.stderr, /unknown log opt 'bogus'/);
    // syslog, fluentd, gelf and journald are drivers now (logging-*.test.ts); awslogs is not.
    const r4 = await d.docker(['create', '--log-driver', 'awslogs', 'busybox']);
    assert.match(r4.stderr, /logging driver "awslogs" is not supported by Berth/);
    const r5 = await d.docker(['create', '--log-driver', 'nosuch', 'busybox']);
    assert.match(r5.stderr, /logger: no log driver named 'nosuch' is registered/);
  });

  test('--details shows the attributes chosen by the labels and env log options', async () => {
    const id = ok(
      await d.docker([
        'run',
        '-d',
        '--label',
        'team=core',
        '-e',
        'STAGE=test',
        '--log-opt',
        'labels=team',
        '--log-opt',
        'env=STAGE',
        'busybox',
        'echo',
        'hello',
      ]),
    ).trim();
    ok(await d.docker(['wait', id]));
    assert.equal(ok(await d.docker(['logs', '--details', id])), 'STAGE=test,team=core hello\n');
    assert.equal(ok(await d.berth(['logs', '--details', id])), 'STAGE=test,team=core hello\n');
    assert.equal(ok(await d.docker(['logs', id])), 'hello\n');
  });
});

describe('filesystem and identity options', () => {
  test('--read-only refuses writes except on --tmpfs mounts', async () => {
    const r = await d.docker(['run', '--rm', '--read-only', 'busybox', 'touch', '/x']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout, /Read-only file system/);
    const ok2 = await d.docker([
      'run',
      '--rm',
      '--read-only',
      '--tmpfs',
      '/scratch:size=1m',
      'busybox',
      'sh',
      '-c',
      'echo hi > /scratch/f && cat /scratch/f && grep " /scratch " /proc/mounts',
    ]);
    assert.match(ok(ok2), /^hi\ntmpfs \/scratch tmpfs .*size=1024k/);
  });

  test('--add-host, --domainname, --hostname and --env-file', async () => {
    const envFile = path.join(d.dir, 'env.list');
    await fsp.writeFile(envFile, '# comment\nFROM_FILE=yes\n\nOTHER=2\n');
    const out = ok(
      await d.docker([
        'run',
        '--rm',
        '--add-host',
        'db.internal:10.1.2.3',
        '--hostname',
        'box',
        '--domainname',
        'example.test',
        '--env-file',
        envFile,
        'busybox',
        'sh',
        '-c',
        'grep db.internal /etc/hosts; hostname; cat /etc/hostname; echo $FROM_FILE $OTHER',
      ]),
    );
    assert.match(out, /^10\.1\.2\.3\s+db\.internal$/m);
    assert.match(out, /^box\nbox\nyes 2$/m);
  });

  test('--group-add adds supplementary groups by name and number', async () => {
    const out = ok(
      await d.berth(['run', '--rm', '--group-add', 'daemon', '--group-add', '1234', 'busybox', 'id', '-G']),
    );
    const groups = out.trim().split(/\s+/);
    assert.ok(groups.includes('1234'), out);
    assert.ok(groups.length >= 3, out);
  });
});

describe('wait conditions', () => {
  test('next-exit waits for the coming exit; removed waits for the removal', async () => {
    const id = ok(await d.docker(['create', 'busybox', 'sh', '-c', 'exit 7'])).trim();
    const next = d.request('POST', `/containers/${id}/wait?condition=next-exit`);
    const removed = d.request('POST', `/containers/${id}/wait?condition=removed`);
    ok(await d.docker(['start', id]));
    const n = await next;
    assert.equal(n.status, 200);
    assert.equal(JSON.parse(n.body.toString()).StatusCode, 7);
    ok(await d.docker(['rm', id]));
    const r = await removed;
    assert.equal(JSON.parse(r.body.toString()).StatusCode, 7);
    const bad = await d.request('POST', `/containers/${id.slice(0, 12)}/wait?condition=bogus`);
    assert.ok(bad.status === 400 || bad.status === 404, String(bad.status));
  });
});
