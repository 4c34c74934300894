// systemd's readiness protocol (sd_notify): with Type=notify, systemd waits for "READY=1" on
// the datagram socket named by $NOTIFY_SOCKET before it counts berthd as started, and is told
// "STOPPING=1" when the shutdown begins. Node has no unix datagram sockets, so the daemon's
// unixgram relay sends them; the unit therefore says NotifyAccess=all.

/**
 * Takes $NOTIFY_SOCKET out of the environment before any helper is spawned: runc reads the
 * same variable and, given it, would wait for every container to report ready itself.
 */
export function takeNotifySocket(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const socket = env.NOTIFY_SOCKET;
  delete env.NOTIFY_SOCKET;
  return socket ? socket : undefined;
}

export type Notify = (state: string) => Promise<void>;

/** A sender for `socket` (a path, or "@name" in the abstract namespace); a no-op without one. */
export function notifier(
  socket: string | undefined,
  send: ((path: string, data: Buffer) => Promise<void>) | undefined,
  warn: (msg: string, err: string) => void,
): Notify {
  if (!socket) return async () => {};
  if (!send) {
    warn('NOTIFY_SOCKET is set but berth-unixgram-relay is missing: systemd is not told berthd is ready', '');
    return async () => {};
  }
  return (state) =>
    send(socket, Buffer.from(state)).catch((err) =>
      warn(`sd_notify to ${socket} failed`, String((err as Error).message ?? err)),
    );
}
