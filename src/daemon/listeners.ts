// The API's listening sockets: unix (0660, root:<group>), TCP (TLS with --tls/--tlsverify), and
// sockets handed over by systemd (`fd://`).
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type tls from 'node:tls';
import path from 'node:path';
import { FailedPreconditionError } from '../errdefs/index.ts';
import { activationListeners } from './activation.ts';
import type { ApiHandlers } from '../api/server.ts';
import type { Listener } from './config.ts';
import type { Log } from './log.ts';

/** One socket a server listens on: a `fd://` host may stand for several. */
export type ListenTarget = Exclude<Listener, { kind: 'fd' }> | { kind: 'fd'; fd: number };

export function listenTargets(listeners: readonly Listener[], handedFds: readonly number[]): ListenTarget[] {
  return listeners.flatMap((l): ListenTarget[] =>
    l.kind === 'fd' ? activationListeners(l.spec, handedFds).map((fd) => ({ kind: 'fd', fd })) : [l],
  );
}

export type ApiServer = http.Server | https.Server;

/** The HTTP server of one socket: HTTPS on a TLS TCP listener, plain HTTP elsewhere. */
export function apiServer(
  l: ListenTarget,
  tlsOptions: https.ServerOptions | undefined,
  handler: Pick<ApiHandlers, 'request' | 'upgrade'>,
  log: Log,
): ApiServer {
  const opts = { keepAliveTimeout: 30_000, requestTimeout: 0 };
  // allowHalfOpen: a hijacked exec/attach whose client closed its input (`exec -i` at stdin EOF
  // sends close_notify, Go's CloseWrite) still has output to send. http.Server makes its sockets
  // half-open itself; https.Server does not, so without this the output was cut off.
  const server =
    l.kind === 'tcp' && l.tls
      ? https.createServer({ ...opts, ...tlsOptions, allowHalfOpen: true }, handler.request)
      : http.createServer(opts, handler.request);
  // A client may shut down its write side once its request is sent (`berth system dial-stdio`
  // does when its stdin ends, e.g. at the far end of ssh://); Node's default then drops the
  // answer still being made. With this set the socket ends after the last response instead.
  (server as { httpAllowHalfOpen?: boolean }).httpAllowHalfOpen = true;
  server.on('upgrade', handler.upgrade);
  // A refused handshake (no certificate, another CA, plain HTTP on the TLS port) concerns that
  // one client: say so once and keep serving. Node destroys the socket itself.
  // A certificate that fails verification (expired, another CA) is refused by Node after the
  // handshake: the error is then only "socket hang up" and the reason is on the socket.
  server.on('tlsClientError', (err: Error & { code?: string }, socket: tls.TLSSocket) => {
    const reason = socket.authorizationError;
    log('info', 'TLS handshake refused', {
      ...(socket.remoteAddress ? { remote: `${socket.remoteAddress}:${socket.remotePort}` } : {}),
      err: (typeof reason === 'string' ? reason : reason?.message) ?? err.code ?? err.message,
    });
  });
  return server;
}

export async function listen(server: ApiServer, l: ListenTarget, group: string, log: Log): Promise<void> {
  if (l.kind === 'fd') {
    // The socket is systemd's (berthd.socket sets its mode and group): only serve it.
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ fd: l.fd }, () => resolve());
    });
    return;
  }
  if (l.kind === 'unix') {
    await fsp.mkdir(path.dirname(l.path), { recursive: true });
    if (await socketInUse(l.path)) {
      throw new FailedPreconditionError(
        'SOCKET_IN_USE',
        `${l.path} is in use by another daemon; stop it or pick another -H`,
      );
    }
    await fsp.rm(l.path, { force: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(l.path, () => resolve());
    });
    await fsp.chmod(l.path, 0o660);
    const gid = groupId(group);
    if (gid !== undefined) await fsp.chown(l.path, 0, gid).catch(() => {});
    else if (group !== 'berth') log('warn', 'socket group not found; socket stays root-only', { group });
    log('info', 'API listening', { host: `unix://${l.path}` });
  } else {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(l.port, l.host, () => resolve());
    });
    // The bound address, not the asked one: with port 0 the kernel picks the port, and this
    // line is how a supervisor or test learns it.
    const a = server.address() as net.AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    log('info', 'API listening', { host: `tcp://${host}:${a.port}`, tls: l.tls });
  }
}

function socketInUse(p: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(p);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function groupId(name: string): number | undefined {
  try {
    const out = execFileSync('getent', ['group', name], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const gid = Number(out.split(':')[2]);
    return Number.isInteger(gid) ? gid : undefined;
  } catch {
    return undefined;
  }
}
