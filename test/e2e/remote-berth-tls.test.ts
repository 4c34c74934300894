// The berth CLI over TLS (issue 21, client side): --tlsverify with the CA and a client
// certificate, the same from DOCKER_TLS_VERIFY/DOCKER_CERT_PATH/DOCKER_HOST, --tls (encrypt
// only), refusals (no client certificate, wrong CA), and TLS contexts shared with the docker
// CLI. The endpoint is the test berthd's own mutual-TLS listener on a free loopback port.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { certPathDir, daemonTlsArgs, makePki, tlsHostOf, tlsVerifyFlags } from '../helpers/certs.ts';
import { berthCli, run } from '../helpers/daemon.ts';
import { ok, useBusyboxDaemon } from '../helpers/e2e.ts';

const pki = makePki();
const daemon = useBusyboxDaemon({ extraArgs: daemonTlsArgs(pki) });
let config = '';
let host = '';

// No daemon address from the environment: each case says where and how it connects.
const env = (extra: Record<string, string> = {}) => ({
  DOCKER_HOST: '',
  BERTH_HOST: '',
  DOCKER_CONFIG: config,
  DOCKER_TLS_VERIFY: '',
  DOCKER_CERT_PATH: '',
  ...extra,
});
const berth = (args: string[], extra: Record<string, string> = {}, input?: string) =>
  berthCli(args, { env: env(extra), timeoutMs: 60_000, ...(input !== undefined ? { input } : {}) });
const docker = (args: string[], extra: Record<string, string> = {}) =>
  run('docker', args, { env: env(extra), timeoutMs: 60_000 });

const verifyFlags = () => tlsVerifyFlags(pki, host);
/** Client flags with the CA and client pair given, TLS mode first (`--tls` or `--tlsverify`). */
const withCa = (mode: string, ca: string) => [
  mode,
  '--tlscacert',
  ca,
  '--tlscert',
  pki.client.cert,
  '--tlskey',
  pki.client.key,
  '-H',
  host,
];

describe('berth over TLS', () => {
  before(async () => {
    host = await tlsHostOf(daemon.d.logs);
    config = mkdtempSync(path.join(os.tmpdir(), 'berth-tls-cfg-'));
  });
  after(() => {
    rmSync(pki.dir, { recursive: true, force: true });
    if (config) rmSync(config, { recursive: true, force: true });
  });

  test('--tlsverify with CA and client certificate: version, run --rm attached, exec -i, logs -f', async () => {
    const v = ok(await berth([...verifyFlags(), 'version', '--format', '{{.Server.Version}}']));
    assert.match(v.trim(), /^\d+\.\d+/);
    const out = ok(await berth([...verifyFlags(), 'run', '--rm', 'busybox', 'echo', 'over-tls']));
    assert.equal(out, 'over-tls\n');
    const id = ok(
      await berth([...verifyFlags(), 'run', '-d', 'busybox', 'sh', '-c', 'echo started; sleep 300']),
    ).trim();
    try {
      // stdin reaches the exec and its EOF ends `cat`: the half-close crosses TLS.
      const e = ok(await berth([...verifyFlags(), 'exec', '-i', id, 'cat'], {}, 'piped-through\n'));
      assert.equal(e, 'piped-through\n');
      assert.match(ok(await berth([...verifyFlags(), 'logs', id])), /started/);
    } finally {
      await berth([...verifyFlags(), 'rm', '-f', id]);
    }
  });

  test('DOCKER_TLS_VERIFY, DOCKER_CERT_PATH and DOCKER_HOST=tcp:// configure the same', async () => {
    const e = { DOCKER_HOST: host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certPathDir(pki) };
    const out = ok(await berth(['run', '--rm', 'busybox', 'echo', 'env-tls'], e));
    assert.equal(out, 'env-tls\n');
    // The docker CLI reads the same variables the same way.
    assert.equal(ok(await docker(['run', '--rm', 'busybox', 'echo', 'env-tls'], e)), 'env-tls\n');
  });

  test('--tls without verification encrypts only: a wrong CA is not read', async () => {
    const out = await berth([...withCa('--tls', pki.otherCa), 'version', '--format', '{{.Server.Version}}']);
    assert.equal(out.code, 0, out.stderr);
  });

  test('refused: no client certificate, wrong CA, plain HTTP to a TLS port', async () => {
    const noCert = await berth(['--tlsverify', '--tlscacert', pki.ca, '-H', host, 'version']);
    assert.notEqual(noCert.code, 0);
    assert.match(noCert.stderr, /error during connect: .*TLS: /);
    const wrongCa = await berth([...withCa('--tlsverify', pki.otherCa), 'version']);
    assert.notEqual(wrongCa.code, 0);
    assert.match(wrongCa.stderr, /TLS: .*(certificate|issuer)/i);
    const missing = await berth([
      '--tlsverify',
      '--tlscacert',
      path.join(pki.dir, 'nope.pem'),
      '-H',
      host,
      'ps',
    ]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /could not read CA certificate ".*nope\.pem"/);
    const plain = await berth(['-H', host, 'version']);
    assert.notEqual(plain.code, 0);
  });

  test('TLS contexts: berth-made used by docker --context, docker-made used by berth --context', async () => {
    const tlsOpts = `ca=${pki.ca},cert=${pki.client.cert},key=${pki.client.key}`;
    ok(await berth(['context', 'create', 'tls-b', '--docker', `host=${host},${tlsOpts}`]));
    const inspect = JSON.parse(ok(await berth(['context', 'inspect', 'tls-b'])))[0];
    assert.deepEqual(inspect.TLSMaterial, { docker: ['ca.pem', 'cert.pem', 'key.pem'] });
    assert.equal(
      ok(await docker(['--context', 'tls-b', 'run', '--rm', 'busybox', 'echo', 'ctx-b'])),
      'ctx-b\n',
    );
    assert.equal(
      ok(await berth(['--context', 'tls-b', 'run', '--rm', 'busybox', 'echo', 'ctx-b'])),
      'ctx-b\n',
    );

    ok(await docker(['context', 'create', 'tls-d', '--docker', `host=${host},${tlsOpts}`]));
    assert.equal(
      ok(await berth(['--context', 'tls-d', 'run', '--rm', 'busybox', 'echo', 'ctx-d'])),
      'ctx-d\n',
    );
    ok(await berth(['context', 'use', 'tls-d']));
    assert.match(ok(await berth(['version', '--format', '{{.Server.Version}}'])), /^\d+\.\d+/);
    ok(await berth(['context', 'use', 'default']));

    // skip-tls-verify: the wrong CA is not checked, the client certificate still is sent.
    ok(
      await berth([
        'context',
        'create',
        'tls-skip',
        '--docker',
        `host=${host},ca=${pki.otherCa},cert=${pki.client.cert},key=${pki.client.key},skip-tls-verify=true`,
      ]),
    );
    assert.equal((await berth(['--context', 'tls-skip', 'version'])).code, 0);
    // A context with no client certificate is refused by the daemon.
    ok(await berth(['context', 'create', 'tls-nocert', '--docker', `host=${host},ca=${pki.ca}`]));
    const r = await berth(['--context', 'tls-nocert', 'version']);
    assert.notEqual(r.code, 0);
  });
});
