// Port forwarding over a websocket, as the kubelet's portforward/websocket.go serves it: the
// ports come with the request; each port i gets channel 2i for data (both ways) and 2i+1 for
// errors (server to client), and the first message on each is the port as 2 bytes, little
// endian. One TCP connection per port per websocket; the socket closes once every port is done.
import { pipeline } from 'node:stream/promises';
import type { Duplex } from 'node:stream';
import type { ChannelConn, ChannelKind } from './ws-channels.ts';

export function portForwardChannels(ports: readonly number[]): ChannelKind[] {
  return ports.flatMap((): ChannelKind[] => ['readwrite', 'write']);
}

function portPrefix(port: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(port);
  return b;
}

/** The message the kubelet puts on a port's error channel. */
export function forwardError(port: number, sandboxId: string, err: Error): string {
  return `error forwarding port ${port} to pod ${sandboxId}, uid : ${err.message}`;
}

export async function servePortForwardWs(
  conn: ChannelConn,
  sandboxId: string,
  ports: readonly number[],
  dial: (port: number, signal: AbortSignal) => Promise<Duplex>,
): Promise<void> {
  const ac = new AbortController();
  conn.closed.then(() => ac.abort());
  await Promise.all(
    ports.map(async (port, i) => {
      const data = 2 * i;
      await conn.send(data, portPrefix(port));
      await conn.send(data + 1, portPrefix(port));
      const errors: Error[] = [];
      const target = await dial(port, ac.signal).catch((e: Error) => void errors.push(e));
      if (!target) {
        if (!ac.signal.aborted)
          await conn.send(data + 1, Buffer.from(forwardError(port, sandboxId, errors[0] as Error)));
        return;
      }
      target.on('error', (err: Error) => errors.push(err));
      // Both directions; the target ends when the pod's side closes (or the dial fails).
      const inbound = pipeline(conn.readable(data), target).catch((e: Error) => errors.push(e));
      await pipeline(target, conn.writable(data)).catch((e: Error) => errors.push(e));
      void inbound;
      const first = errors.find((e) => e.name !== 'AbortError' && !/premature close/i.test(e.message));
      if (first && !ac.signal.aborted)
        await conn.send(data + 1, Buffer.from(forwardError(port, sandboxId, first)));
    }),
  );
  conn.close();
}
