// The API's start-up on its sockets: the hosts (-H) parsed and their TLS certificates checked
// before anything is opened or locked, then one server per socket once the handler exists.
// The sockets themselves are listeners.ts's; this is the order berthd does it in.
import { promises as fsp } from 'node:fs';
import type https from 'node:https';
import type { ApiHandlers } from '../api/server.ts';
import { takeActivationFds } from './activation.ts';
import { type DaemonConfig, type Listener, parseHost } from './config.ts';
import { apiServer, listen, listenTargets } from './listeners.ts';
import type { Log } from './log.ts';
import { tlsServerOptions } from './tls.ts';

export interface ApiListeners {
  readonly listeners: readonly Listener[];
  readonly tlsOptions: https.ServerOptions | undefined;
  /** The sockets systemd handed over (LISTEN_FDS). */
  readonly handedFds: readonly number[];
}

/** Checks every host and certificate; a bad one fails here, naming itself. */
export function planListeners(config: DaemonConfig): ApiListeners {
  const listeners: Listener[] = config.hosts.map((h) => parseHost(h, config));
  // Certificates are checked before anything is opened or locked: a bad file names itself.
  const tlsOptions = listeners.some((l) => l.kind === 'tcp' && l.tls) ? tlsServerOptions(config) : undefined;
  // Taken first: no helper berthd spawns may inherit LISTEN_FDS/LISTEN_PID.
  const handedFds = takeActivationFds();
  listenTargets(listeners, handedFds); // a bad fd:// fails before anything is opened
  return { listeners, tlsOptions, handedFds };
}

/** Serves the API on every socket; each server's close goes to `cleanups` once it listens. */
export async function serveApi(
  plan: ApiListeners,
  handler: Pick<ApiHandlers, 'request' | 'upgrade' | 'closeSessions'>,
  group: string,
  log: Log,
  cleanups: (() => Promise<void>)[],
): Promise<void> {
  for (const l of listenTargets(plan.listeners, plan.handedFds)) {
    const server = apiServer(l, plan.tlsOptions, handler, log);
    await listen(server, l, group, log);
    cleanups.push(async () => {
      await new Promise<void>((r) => {
        server.close(() => r());
        // Hijacked sessions are no longer the http server's: without this, close waited for
        // every open exec/attach to end, past the forced exit, and nothing below ran.
        handler.closeSessions();
        server.closeAllConnections();
      });
      if (l.kind === 'unix') await fsp.rm(l.path, { force: true });
    });
  }
}
