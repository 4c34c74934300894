// The Engine API over TCP with mutual TLS, against the real docker CLI: a client with a
// certificate from the daemon's CA is served; one without is refused and the daemon keeps serving.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { issue, makeCa } from '../helpers/certs.ts';
import { run, startTestDaemon, type TestDaemon } from '../helpers/daemon.ts';

const certs = mkdtempSync(path.join(os.tmpdir(), 'berth-tls-'));
const ca = makeCa(certs);
const server = issue(certs, ca, 'server', { kind: 'server' });
const client = issue(certs, ca, 'client', { kind: 'client' });
const PORT = 20_000 + (process.pid % 20_000);
const HOST = `tcp://127.0.0.1:${PORT}`;
let d: TestDaemon;

before(async () => {
  d = await startTestDaemon({
    extraArgs: [
      '-H',
      HOST,
      '--tlsverify',
      '--tlscacert',
      ca.cert,
      '--tlscert',
      server.cert,
      '--tlskey',
      server.key,
    ],
  });
});
after(async () => {
  await d?.cleanup();
  rmSync(certs, { recursive: true, force: true });
});

const tlsFlags = () => [
  '--tlsverify',
  '--tlscacert',
  ca.cert,
  '--tlscert',
  client.cert,
  '--tlskey',
  client.key,
  '-H',
  HOST,
];

test('the docker CLI with a client certificate reaches berthd over mutual TLS', async () => {
  const r = await run('docker', [...tlsFlags(), 'version', '--format', '{{.Server.Version}}']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\d+\.\d+/);
});

test('a client without a certificate is refused and the daemon keeps serving', async () => {
  // curl trusts the CA but shows no certificate: the handshake itself must fail.
  const r = await run('curl', ['-s', '--cacert', ca.cert, `https://127.0.0.1:${PORT}/_ping`]);
  assert.notEqual(r.code, 0);
  const plain = await run('curl', ['-s', `http://127.0.0.1:${PORT}/_ping`]);
  assert.notEqual(plain.stdout, 'OK');
  const again = await run('docker', [...tlsFlags(), 'version', '--format', '{{.Server.Version}}']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(d.logs(), /TLS handshake refused/);
});
