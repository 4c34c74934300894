// TLS for the API's TCP listeners (dockerd's --tls/--tlsverify): the certificate files are
// checked at start (and by --validate) so a bad file is named before anything listens, rather
// than surfacing as an opaque handshake failure on the first client.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type tls from 'node:tls';
import { InvalidArgumentError } from '../errdefs/index.ts';

/** dockerd's default certificate directory: $DOCKER_CERT_PATH, else ~/.docker. */
export function defaultCertDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CERT_PATH || path.join(os.homedir(), '.docker');
}

export interface TlsSettings {
  readonly tls: boolean;
  readonly tlsVerify: boolean;
  readonly tlsCaCert: string;
  readonly tlsCert: string;
  readonly tlsKey: string;
}

// TLS 1.2 suites with forward secrecy and AEAD only (no RC4, 3DES, CBC or export); TLS 1.3's
// suites are all strong and Node keeps its defaults for them.
const CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

function bad(msg: string): never {
  throw new InvalidArgumentError('INVALID_TLS_CONFIG', msg);
}

function readPem(file: string, what: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      bad(
        `could not load the TLS ${what} ${file}: the file does not exist; create it (docs/remote.md) or name another with ${flag}`,
      );
    if (code === 'EISDIR')
      bad(`could not load the TLS ${what} ${file}: it is a directory; name the PEM file with ${flag}`);
    if (code === 'EACCES')
      bad(
        `could not load the TLS ${what} ${file}: permission denied; make it readable by the user berthd runs as`,
      );
    bad(`could not load the TLS ${what} ${file}: ${(err as Error).message}`);
  }
}

/** Every certificate in a PEM bundle, each checked to parse and to be valid now. */
function certificates(pem: string, file: string, what: string, now: Date): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0)
    bad(`the TLS ${what} ${file} holds no PEM certificate (no "BEGIN CERTIFICATE" block)`);
  return blocks.map((b) => {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(b);
    } catch (err) {
      bad(`the TLS ${what} ${file} is not a valid certificate: ${(err as Error).message}`);
    }
    const from = new Date(cert.validFrom);
    const to = new Date(cert.validTo);
    if (now < from) bad(`the TLS ${what} ${file} is not valid yet: it starts on ${from.toISOString()}`);
    if (now > to)
      bad(`the TLS ${what} ${file} has expired: it ended on ${to.toISOString()}; issue a new one`);
    return cert;
  });
}

/**
 * The https.Server options for the TCP listeners, after checking every file: missing,
 * unreadable, not PEM, key not the certificate's, outside its validity, CA unparsable.
 */
export function tlsServerOptions(s: TlsSettings, now = new Date()): tls.TlsOptions {
  const certPem = readPem(s.tlsCert, 'certificate', '--tlscert');
  const [leaf] = certificates(certPem, s.tlsCert, 'certificate', now);
  const keyPem = readPem(s.tlsKey, 'key', '--tlskey');
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    bad(`the TLS key ${s.tlsKey} is not a PEM private key (or is encrypted): ${(err as Error).message}`);
  }
  if (!leaf!.checkPrivateKey(key))
    bad(
      `the TLS key ${s.tlsKey} does not match the certificate ${s.tlsCert}; use the key the certificate was issued for`,
    );
  const opts: tls.TlsOptions = {
    cert: certPem,
    key: keyPem,
    minVersion: 'TLSv1.2',
    ciphers: CIPHERS,
    honorCipherOrder: true,
  };
  if (!s.tlsVerify) return opts;
  const caPem = readPem(s.tlsCaCert, 'CA certificate', '--tlscacert');
  certificates(caPem, s.tlsCaCert, 'CA certificate', now);
  // Only clients holding a certificate this CA signed complete the handshake.
  return { ...opts, ca: caPem, requestCert: true, rejectUnauthorized: true };
}
