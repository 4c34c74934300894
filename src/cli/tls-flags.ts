// The global TLS flags and env by the docker CLI's rules (cli/flags/options.go): DOCKER_TLS and
// DOCKER_TLS_VERIFY (any non-empty value) turn --tls / --tlsverify on by default; any --tlsverify
// (even =false) or DOCKER_TLS_VERIFY implies --tls; without verification the connection is only
// encrypted (the server's certificate is not checked, no CA is read). The files default to
// ca.pem, cert.pem and key.pem in $DOCKER_CERT_PATH, else the config dir (~/.docker); a default
// cert or key that does not exist is dropped (no client certificate), a named one must exist.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { TlsSettings } from '../client/index.ts';
import { CliError } from './context.ts';
import { configDir } from './contexts/index.ts';

export interface TlsFlags {
  readonly tls?: boolean | undefined;
  readonly tlsverify?: boolean | undefined;
  readonly tlscacert?: string | undefined;
  readonly tlscert?: string | undefined;
  readonly tlskey?: string | undefined;
}

/** The TLS settings for the default context's tcp:// host, or undefined for plain connections. */
export function tlsFromFlags(
  flags: TlsFlags,
  given: (flag: keyof TlsFlags) => boolean,
  env: NodeJS.ProcessEnv,
): TlsSettings | undefined {
  const verify = given('tlsverify') ? Boolean(flags.tlsverify) : Boolean(env.DOCKER_TLS_VERIFY);
  const on = given('tlsverify') || verify || (given('tls') ? Boolean(flags.tls) : Boolean(env.DOCKER_TLS));
  if (!on) return undefined;
  const certDir = env.DOCKER_CERT_PATH || configDir(env);
  const file = (flag: 'tlscacert' | 'tlscert' | 'tlskey', def: string): string | undefined => {
    if (given(flag) && flags[flag]) return flags[flag];
    const p = path.join(certDir, def);
    // docker keeps a default CA path even when missing (verification then fails naming it).
    return flag === 'tlscacert' || existsSync(p) ? p : undefined;
  };
  const caFile = file('tlscacert', 'ca.pem');
  const certFile = file('tlscert', 'cert.pem');
  const keyFile = file('tlskey', 'key.pem');
  if ((certFile === undefined) !== (keyFile === undefined))
    throw new CliError(
      `could not load X509 key pair: both --tlscert and --tlskey are needed (have ${certFile ?? keyFile} only)`,
    );
  return {
    verify,
    // Without verification docker reads no CA at all.
    ...(verify && caFile ? { ca: readPem(caFile, 'CA certificate') } : {}),
    ...(certFile && keyFile
      ? { cert: readPem(certFile, 'client certificate'), key: readPem(keyFile, 'client key') }
      : {}),
  };
}

export function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CliError(
      `could not read ${what} "${file}": ${(err as Error).message} (set --tlscacert/--tlscert/--tlskey or DOCKER_CERT_PATH)`,
    );
  }
}
