// berthd's TLS start-up checks (issue 21): each certificate problem (missing file, a directory
// where a file should be, not PEM, a key that is not the certificate's, an expired server
// certificate, a bad CA) stops berthd with exit 1 and an error naming the file and the problem,
// and `berthd --validate` says the same; a TCP listener off loopback without --tlsverify is
// refused with the message naming the fixes. None of these daemons gets as far as listening.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, promises as fsp, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { makePki } from '../helpers/certs.ts';
import { ROOT, run, startTestDaemon } from '../helpers/daemon.ts';

const BERTHD = path.join(ROOT, 'dist/berthd.mjs');
const pki = makePki();
const file = (name: string, content: string) => {
  const p = path.join(pki.dir, name);
  writeFileSync(p, content);
  return p;
};
const missing = path.join(pki.dir, 'nope-cert.pem');
const aDirectory = path.join(pki.dir, 'a-directory.pem');
mkdirSync(aDirectory);
const notPem = file('not-pem.pem', 'this is not a certificate\n');
const notPemKey = file('not-pem-key.pem', 'this is not a key either\n');
// A PEM block whose body is not a certificate: the CA file looks right until it is parsed.
const badCa = file(
  'bad-ca.pem',
  '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n',
);

after(async () => {
  await fsp.rm(pki.dir, { recursive: true, force: true });
});

interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

const tlsArgs = (f: TlsFiles = {}) => [
  '-H',
  'tcp://127.0.0.1:0',
  '--tlsverify',
  '--tlscacert',
  f.ca ?? pki.ca,
  '--tlscert',
  f.cert ?? pki.server.cert,
  '--tlskey',
  f.key ?? pki.server.key,
];

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Each problem with the files that cause it and what the error must say (file and problem). */
const cases: { name: string; files: TlsFiles; error: RegExp }[] = [
  {
    name: 'a missing certificate file',
    files: { cert: missing },
    error: new RegExp(`TLS certificate ${esc(missing)}: the file does not exist; .*--tlscert`),
  },
  {
    name: 'a key path that is a directory (unreadable as a file)',
    files: { key: aDirectory },
    error: new RegExp(`TLS key ${esc(aDirectory)}: it is a directory; name the PEM file with --tlskey`),
  },
  {
    name: 'a certificate that is not PEM',
    files: { cert: notPem },
    error: new RegExp(`TLS certificate ${esc(notPem)} holds no PEM certificate`),
  },
  {
    name: 'a key that is not PEM',
    files: { key: notPemKey },
    error: new RegExp(`TLS key ${esc(notPemKey)} is not a PEM private key`),
  },
  {
    name: 'a key that is not the certificate’s',
    files: { key: pki.client.key },
    error: new RegExp(
      `TLS key ${esc(pki.client.key)} does not match the certificate ${esc(pki.server.cert)}`,
    ),
  },
  {
    name: 'an expired server certificate',
    files: { cert: pki.expiredServer.cert, key: pki.expiredServer.key },
    error: new RegExp(`TLS certificate ${esc(pki.expiredServer.cert)} has expired: it ended on 2020-02-01`),
  },
  {
    name: 'a CA file whose certificate does not parse',
    files: { ca: badCa },
    error: new RegExp(`TLS CA certificate ${esc(badCa)} is not a valid certificate`),
  },
  {
    name: 'a missing CA file',
    files: { ca: missing },
    error: new RegExp(`TLS CA certificate ${esc(missing)}: the file does not exist; .*--tlscacert`),
  },
];

/** Starts a test berthd that must fail: it is cleaned up (and the test fails) if it starts. */
async function startMustFail(extraArgs: string[]): Promise<string> {
  let message = '';
  try {
    const d = await startTestDaemon({ extraArgs });
    await d.cleanup();
  } catch (err) {
    message = (err as Error).message;
  }
  assert.notEqual(message, '', 'berthd started although its TLS material is bad');
  assert.match(message, /berthd exited with [1-9]/);
  return message;
}

async function validate(extraArgs: string[]) {
  const dir = await fsp.mkdtemp(path.join(pki.dir, 'validate-'));
  const config = path.join(dir, 'daemon.json');
  await fsp.writeFile(config, '{}\n');
  const r = await run(process.execPath, [
    BERTHD,
    '--validate',
    '--config-file',
    config,
    '--data-root',
    path.join(dir, 'data'),
    '--exec-root',
    path.join(dir, 'exec'),
    ...extraArgs,
  ]);
  assert.equal(existsSync(path.join(dir, 'data')), false, '--validate created state');
  return r;
}

describe('berthd refuses bad TLS material at start, naming the file and the problem', () => {
  for (const c of cases) {
    test(c.name, async () => {
      assert.match(await startMustFail(tlsArgs(c.files)), c.error);
      const v = await validate(tlsArgs(c.files));
      assert.equal(v.code, 1, v.stdout);
      assert.match(v.stderr, c.error);
      assert.equal(v.stdout, '');
    });
  }

  test('the good material passes --validate (the cases above fail for their file alone)', async () => {
    const v = await validate(tlsArgs());
    assert.deepEqual([v.code, v.stdout, v.stderr], [0, 'configuration OK\n', '']);
  });
});

describe('an unauthenticated TCP listener off loopback is refused', () => {
  const fixes =
    /use --tlsverify with --tlscacert, --tlscert and --tlskey .*or the unix socket, or ssh:\/\/, or bind to 127\.0\.0\.1/;

  test('no TLS at all', async () => {
    const args = ['-H', 'tcp://0.0.0.0:0'];
    const message = await startMustFail(args);
    assert.match(
      message,
      /refusing to listen on tcp:\/\/0\.0\.0\.0:0: an unauthenticated TCP socket off loopback/,
    );
    assert.match(message, fixes);
    const v = await validate(args);
    assert.equal(v.code, 1);
    assert.match(v.stderr, fixes);
  });

  test('--tls without --tlsverify (encrypted, but any client is let in)', async () => {
    const args = ['-H', 'tcp://0.0.0.0:0', '--tls', '--tlscert', pki.server.cert, '--tlskey', pki.server.key];
    const message = await startMustFail(args);
    assert.match(message, /with --tls but without --tlsverify accepts any client/);
    assert.match(message, fixes);
    const v = await validate(args);
    assert.equal(v.code, 1);
    assert.match(v.stderr, fixes);
  });
});
