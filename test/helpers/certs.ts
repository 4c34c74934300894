// Throwaway PKI for the TLS tests, made with the real openssl CLI as docs/remote.md tells an
// operator to: a CA, a server certificate for 127.0.0.1 and localhost (IP and DNS SANs, so the
// clients' hostname checks are real), a client certificate, and the bad material the refusal and
// start-up tests need: an expired client and server certificate, and a second, unrelated CA with
// a client certificate of its own.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface KeyPair {
  readonly cert: string;
  readonly key: string;
}

export interface TestPki {
  /** The directory holding every file; the caller removes it. */
  readonly dir: string;
  /** The CA the daemon trusts (and that signed the server certificate). */
  readonly ca: string;
  readonly server: KeyPair;
  readonly client: KeyPair;
  /** Signed by `ca`, but its validity ended in 2020. */
  readonly expiredClient: KeyPair;
  readonly expiredServer: KeyPair;
  /** A CA the daemon does not trust, and a client certificate it signed. */
  readonly otherCa: string;
  readonly otherClient: KeyPair;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
}

// P-256 keys: as good as RSA 2048 for a test and an order of magnitude faster to make.
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(dir: string, name: string): KeyPair {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}-key.pem`);
  openssl(dir, [
    'req',
    '-x509',
    ...EC_KEY,
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
  ]);
  return { cert, key };
}

type Kind = 'server' | 'client';

/** Issues `<name>-cert.pem` and `<name>-key.pem` signed by `ca`; `expired`: valid only in January 2020. */
function issue(dir: string, ca: KeyPair, name: string, kind: Kind, expired = false): KeyPair {
  const key = path.join(dir, `${name}-key.pem`);
  const csr = path.join(dir, `${name}.csr`);
  const cert = path.join(dir, `${name}-cert.pem`);
  const ext = path.join(dir, `${name}.ext`);
  writeFileSync(
    ext,
    kind === 'server'
      ? 'subjectAltName = DNS:localhost,IP:127.0.0.1\nextendedKeyUsage = serverAuth\n'
      : 'extendedKeyUsage = clientAuth\n',
  );
  openssl(dir, ['req', ...EC_KEY, '-keyout', key, '-out', csr, '-subj', `/CN=${name}`]);
  if (!expired) {
    openssl(dir, [
      'x509',
      '-req',
      '-days',
      '2',
      '-sha256',
      '-in',
      csr,
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
      '-CAcreateserial',
      '-out',
      cert,
      '-extfile',
      ext,
    ]);
    return { cert, key };
  }
  // openssl 3.0's x509 cannot back-date a certificate; `openssl ca` with explicit dates can.
  const db = path.join(dir, `${name}-db`);
  writeFileSync(`${db}.txt`, '');
  writeFileSync(`${db}.serial`, '1000\n');
  writeFileSync(
    `${db}.cnf`,
    [
      '[ca]',
      'default_ca = c',
      '[c]',
      `database = ${db}.txt`,
      `new_certs_dir = ${dir}`,
      `serial = ${db}.serial`,
      'default_md = sha256',
      'policy = p',
      'unique_subject = no',
      '[p]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  openssl(dir, [
    'ca',
    '-batch',
    '-config',
    `${db}.cnf`,
    '-cert',
    ca.cert,
    '-keyfile',
    ca.key,
    '-in',
    csr,
    '-out',
    cert,
    '-startdate',
    '20200101000000Z',
    '-enddate',
    '20200201000000Z',
    '-extfile',
    ext,
    '-notext',
  ]);
  return { cert, key };
}

/** Makes every file of a TestPki in a new temporary directory. */
export function makePki(): TestPki {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-pki-'));
  const ca = makeCa(dir, 'ca');
  const other = makeCa(dir, 'other-ca');
  return {
    dir,
    ca: ca.cert,
    server: issue(dir, ca, 'server', 'server'),
    client: issue(dir, ca, 'client', 'client'),
    expiredClient: issue(dir, ca, 'expired-client', 'client', true),
    expiredServer: issue(dir, ca, 'expired-server', 'server', true),
    otherCa: other.cert,
    otherClient: issue(dir, other, 'other-client', 'client'),
  };
}

/** The docker CLI's flags for mutual TLS with `pair` against `host`. */
export function tlsVerifyFlags(pki: TestPki, host: string, pair: KeyPair = pki.client): string[] {
  return ['--tlsverify', '--tlscacert', pki.ca, '--tlscert', pair.cert, '--tlskey', pair.key, '-H', host];
}

/** berthd's flags for a mutual-TLS listener on a free loopback port (see tlsHostOf). */
export function daemonTlsArgs(pki: TestPki, listen = 'tcp://127.0.0.1:0'): string[] {
  return [
    '-H',
    listen,
    '--tlsverify',
    '--tlscacert',
    pki.ca,
    '--tlscert',
    pki.server.cert,
    '--tlskey',
    pki.server.key,
  ];
}

/**
 * The `tcp://` address berthd bound (its "API listening" log line): with port 0 in -H, the
 * kernel picks a free port, so parallel test files never collide. berthd opens its listeners in
 * turn and the test harness is ready once the unix socket answers, so this waits (bounded) for
 * the TCP one.
 */
export async function tlsHostOf(daemonLogs: () => string, ms = 10_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    for (const line of daemonLogs().split('\n')) {
      if (!line.includes('"API listening"')) continue;
      const rec = JSON.parse(line) as { host?: string; tls?: boolean };
      if (rec.host?.startsWith('tcp://') && rec.tls) return rec.host;
    }
    if (Date.now() > end)
      throw new Error(`berthd logged no TLS listener address:\n${daemonLogs().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A DOCKER_CERT_PATH directory (ca.pem, cert.pem, key.pem) for `pair`, inside pki.dir so it goes
 * with it.
 */
export function certPathDir(pki: TestPki, pair: KeyPair = pki.client): string {
  const dir = mkdtempSync(path.join(pki.dir, 'certpath-'));
  copyFileSync(pki.ca, path.join(dir, 'ca.pem'));
  copyFileSync(pair.cert, path.join(dir, 'cert.pem'));
  copyFileSync(pair.key, path.join(dir, 'key.pem'));
  return dir;
}
