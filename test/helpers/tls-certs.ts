// Throwaway PKI for TLS tests, made with the openssl CLI: a CA, a server certificate for
// 127.0.0.1 (IP SAN, so hostname verification is real), a client certificate, and a second,
// unrelated CA for the "wrong CA" cases.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from './daemon.ts';

export interface TestPki {
  readonly dir: string;
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  readonly otherCa: string;
}

async function openssl(args: string[]): Promise<void> {
  const r = await run('openssl', args, { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

async function makeCa(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}-key.pem`);
  await openssl(
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'].concat([
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
    ]),
  );
  return { cert, key };
}

async function issue(dir: string, ca: { cert: string; key: string }, name: string, ext: string) {
  const key = path.join(dir, `${name}-key.pem`);
  const csr = path.join(dir, `${name}.csr`);
  const cert = path.join(dir, `${name}-cert.pem`);
  const extFile = path.join(dir, `${name}.ext`);
  writeFileSync(extFile, `${ext}\n`);
  await openssl(
    ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'].concat([
      '-keyout',
      key,
      '-out',
      csr,
      '-subj',
      `/CN=${name}`,
    ]),
  );
  await openssl(
    ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial'].concat([
      '-out',
      cert,
      '-days',
      '2',
      '-extfile',
      extFile,
    ]),
  );
  return { cert, key };
}

export async function makePki(): Promise<TestPki> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-pki-'));
  const ca = await makeCa(dir, 'ca');
  const other = await makeCa(dir, 'other-ca');
  const server = await issue(dir, ca, 'server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth');
  const client = await issue(dir, ca, 'client', 'extendedKeyUsage=clientAuth');
  return {
    dir,
    ca: ca.cert,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    otherCa: other.cert,
  };
}
