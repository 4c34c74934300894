// Test certificates made with the real openssl: a CA, a server certificate for 127.0.0.1 and
// localhost, and client certificates, as docs/remote.md tells an operator to make them.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Makes `<name>-ca.pem` and `<name>-ca-key.pem` in dir. */
export function makeCa(dir: string, name = 'ca'): { cert: string; key: string } {
  const key = path.join(dir, `${name}-key.pem`);
  const cert = path.join(dir, `${name}.pem`);
  openssl(dir, ['genrsa', '-out', key, '2048']);
  openssl(dir, [
    'req',
    '-new',
    '-x509',
    '-days',
    '30',
    '-key',
    key,
    '-sha256',
    '-subj',
    `/CN=${name}`,
    '-out',
    cert,
  ]);
  return { cert, key };
}

export interface IssueOpts {
  readonly kind: 'server' | 'client';
  /** Validity window, as openssl x509's -not_before/-not_after would; default: 30 days from now. */
  readonly expired?: boolean;
}

/** Issues `<name>-cert.pem` and `<name>-key.pem` signed by the CA. */
export function issue(
  dir: string,
  ca: { cert: string; key: string },
  name: string,
  opts: IssueOpts,
): { cert: string; key: string } {
  const key = path.join(dir, `${name}-key.pem`);
  const csr = path.join(dir, `${name}.csr`);
  const cert = path.join(dir, `${name}-cert.pem`);
  const ext = path.join(dir, `${name}.ext`);
  openssl(dir, ['genrsa', '-out', key, '2048']);
  openssl(dir, [
    'req',
    '-new',
    '-key',
    key,
    '-subj',
    `/CN=${opts.kind === 'server' ? 'localhost' : name}`,
    '-out',
    csr,
  ]);
  writeFileSync(
    ext,
    opts.kind === 'server'
      ? 'subjectAltName = DNS:localhost,IP:127.0.0.1\nextendedKeyUsage = serverAuth\n'
      : 'extendedKeyUsage = clientAuth\n',
  );
  // An expired certificate: openssl x509 cannot back-date, so `ca` with explicit dates does it.
  if (opts.expired) {
    const db = path.join(dir, `${name}-db`);
    writeFileSync(`${db}.txt`, '');
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
    writeFileSync(`${db}.serial`, '1000\n');
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
  } else {
    openssl(dir, [
      'x509',
      '-req',
      '-days',
      '30',
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
  }
  return { cert, key };
}
