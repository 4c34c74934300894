// Transports besides plain unix/TCP sockets. node:tls is loaded only when a TLS host is used: the
// plain CLI's start-up stays free of it (see wire.ts on why start-up matters).
import type { WireTarget } from './wire.ts';

/** TLS for a tcp:// daemon: verify checks the server's certificate (against ca, or the system roots). */
export interface TlsSettings {
  readonly verify: boolean;
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

type TlsModule = typeof import('node:tls');
let tlsModule: TlsModule | undefined;
// Not import(): the bundled CLI runs without a dynamic-import callback (nor import.meta.url).
const requireBuiltin = (id: string): unknown =>
  (process as unknown as { getBuiltinModule(id: string): unknown }).getBuiltinModule(id);

/** A target that opens a TLS connection per request (the wire client's one-socket-per-request). */
export async function tlsTarget(host: string, port: number, settings: TlsSettings): Promise<WireTarget> {
  tlsModule ??= requireBuiltin('node:tls') as TlsModule;
  const tls = tlsModule;
  const net = requireBuiltin('node:net') as typeof import('node:net');
  return {
    open: () => ({
      stream: tls.connect({
        host,
        port,
        // SNI takes names only; an IP address is still checked against the certificate's IP SANs.
        ...(net.isIP(host) ? {} : { servername: host }),
        rejectUnauthorized: settings.verify,
        ...(settings.ca ? { ca: settings.ca } : {}),
        ...(settings.cert ? { cert: settings.cert } : {}),
        ...(settings.key ? { key: settings.key } : {}),
      }),
      ready: 'secureConnect',
    }),
  };
}

/** Whether an error is the TLS layer's (handshake, certificate), to be reported as such. */
export function isTlsError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code ?? '';
  return (
    /^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|ERR_OSSL_)/.test(code) ||
    /alert|handshake|certificate/i.test((err as Error)?.message ?? '')
  );
}
