// A TLS registry (berth-registry --tls-cert/--tls-key, certificate from a CA this test makes)
// on the test daemon's own bridge address (not loopback: Docker and Berth skip verification for
// loopback registries): refused without the CA, accepted with the CA in the daemon's
// per-registry certs dir, and accepted without a CA when listed in insecure-registries.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, promises as fsp } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';
import { ok } from '../helpers/e2e.ts';
import { busyboxTar } from '../helpers/fixtures.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-tls-'));
const certsDir = path.join(dir, 'certs.d');
let d: TestDaemon;
let other: TestDaemon | undefined;
let server: ChildProcess | undefined;
let gw = '';
let host = '';

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

before(async () => {
  await fsp.mkdir(certsDir);
  d = await startTestDaemon({ config: { 'registry-certs-dirs': [certsDir] } });
  ok(await d.berth(['import', '-c', 'CMD ["sh"]', busyboxTar(), 'local/bb:1']));
  // The default bridge comes up with its first container; its gateway is a host address.
  ok(await d.docker(['run', '-d', '--name', 'keeper', 'local/bb:1', 'sleep', '600']));
  gw = `10.199.${d.netByte}.1`;
  openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '1',
    '-subj',
    '/CN=berth-test-ca',
  ]);
  openssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'srv.key',
    '-out',
    'srv.csr',
    '-subj',
    '/CN=registry',
  ]);
  await fsp.writeFile(path.join(dir, 'ext'), `subjectAltName=IP:${gw},IP:127.0.0.1\n`);
  openssl([
    'x509',
    '-req',
    '-in',
    'srv.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'srv.crt',
    '-days',
    '1',
    '-extfile',
    'ext',
  ]);
  const port = await freePort();
  host = `${gw}:${port}`;
  server = spawn(
    path.join(ROOT, 'bin/berth-registry'),
    [
      'serve',
      '--root',
      path.join(dir, 'store'),
      '--addr',
      host,
      '--tls-cert',
      path.join(dir, 'srv.crt'),
      '--tls-key',
      path.join(dir, 'srv.key'),
    ],
    { stdio: 'ignore' },
  );
  const ca = await fsp.readFile(path.join(dir, 'ca.crt'));
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const r = https.get(`https://${host}/v2/`, { ca }, (res) => {
        res.resume();
        resolve(true);
      });
      r.on('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('berth-registry (TLS) did not start');
});

after(async () => {
  server?.kill('SIGTERM');
  await d?.docker(['rm', '-f', 'keeper']).catch(() => {});
  await d?.cleanup();
  await other?.cleanup();
  await fsp.rm(dir, { recursive: true, force: true });
});

describe('registry over TLS', () => {
  test('without the CA the push is refused with a certificate error', async () => {
    ok(await d.docker(['tag', 'local/bb:1', `${host}/tls/bb:1`]));
    const r = await d.docker(['push', `${host}/tls/bb:1`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout, /certificate/i);
  });

  test('with the CA in <certs dir>/<host:port>/ca.crt push and pull work', async () => {
    await fsp.mkdir(path.join(certsDir, host));
    await fsp.copyFile(path.join(dir, 'ca.crt'), path.join(certsDir, host, 'ca.crt'));
    ok(await d.docker(['push', `${host}/tls/bb:1`]));
    ok(await d.docker(['rmi', `${host}/tls/bb:1`]));
    ok(await d.docker(['pull', `${host}/tls/bb:1`]));
    assert.equal(ok(await d.docker(['run', '--rm', `${host}/tls/bb:1`, 'echo', 'via tls'])), 'via tls\n');
  });

  test('insecure-registries accepts the registry without its CA', async () => {
    other = await startTestDaemon({
      config: { 'insecure-registries': [host], 'registry-certs-dirs': [path.join(dir, 'none')] },
    });
    const r = await other.docker(['pull', `${host}/tls/bb:1`]);
    assert.equal(r.code, 0, r.stderr);
    const strict = await startTestDaemon({ config: { 'registry-certs-dirs': [path.join(dir, 'none')] } });
    try {
      const refused = await strict.docker(['pull', `${host}/tls/bb:1`]);
      assert.notEqual(refused.code, 0, 'the same pull without insecure-registries is refused');
    } finally {
      await strict.cleanup();
    }
  });
});
