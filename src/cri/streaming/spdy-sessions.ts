// Exec/attach and port-forward over SPDY/3.1, as the kubelet serves them
// (remotecommand/httpstream.go, portforward/httpstream.go): the upgrade negotiates the
// subprotocol in X-Stream-Protocol-Version; a remotecommand client then opens one stream per
// stdio it asked for plus `error` (and `resize` with a tty from v3), all within 30 s; a
// port-forward client opens a `data` and an `error` stream per connection, paired by
// `requestid`, each naming its `port`.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { SessionIO } from './backend.ts';
import { forwardError } from './portforward.ts';
import { type Outcome, serveRemoteCommand } from './remotecommand.ts';
import { SpdyConnection, type SpdyStream } from './spdy.ts';

export const REMOTECOMMAND_SPDY = [
  'v4.channel.k8s.io',
  'v3.channel.k8s.io',
  'v2.channel.k8s.io',
  'channel.k8s.io',
];
export const PORTFORWARD_SPDY = ['portforward.k8s.io'];
/** The kubelet's stream creation timeout. */
const STREAM_CREATION_MS = 30_000;

function commaValues(h: string | string[] | undefined): string[] {
  return (Array.isArray(h) ? h : h === undefined ? [] : [h])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

function reply(
  socket: Duplex,
  code: number,
  text: string,
  headers: Record<string, string[]>,
  body: string,
): void {
  const lines = Object.entries(headers).flatMap(([k, vs]) => vs.map((v) => `${k}: ${v}\r\n`));
  const b = body ? `${body}\n` : '';
  socket.write(`HTTP/1.1 ${code} ${text}\r\n${lines.join('')}`);
  if (code === 101) socket.write('\r\n');
  else
    socket.end(
      `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(b)}\r\nConnection: close\r\n\r\n${b}`,
    );
}

/**
 * Negotiates and answers the upgrade (httpstream.Handshake + the SPDY response upgrader);
 * resolves to the connection and protocol, or undefined once the refusal was written.
 */
export function upgradeSpdy(
  req: http.IncomingMessage,
  socket: Duplex,
  head: Buffer,
  served: readonly string[],
  idleTimeoutMs: number,
): { conn: SpdyConnection; protocol: string } | undefined {
  const raw = req.headers['x-stream-protocol-version'];
  const offered = commaValues(raw);
  if (offered.length === 0) {
    reply(
      socket,
      400,
      'Bad Request',
      {},
      `unable to upgrade: header X-Stream-Protocol-Version ${raw === undefined ? 'does not exist in request' : 'contains no valid protocols'}`,
    );
    return undefined;
  }
  const protocol = offered.find((p) => served.includes(p));
  if (!protocol) {
    reply(
      socket,
      403,
      'Forbidden',
      { 'X-Accepted-Stream-Protocol-Versions': [...served] },
      `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${served.join(' ')}]`,
    );
    return undefined;
  }
  reply(
    socket,
    101,
    'Switching Protocols',
    { Connection: ['Upgrade'], Upgrade: ['SPDY/3.1'], 'X-Stream-Protocol-Version': [protocol] },
    '',
  );
  if (head.length > 0) socket.unshift(head);
  return { conn: new SpdyConnection(socket, idleTimeoutMs), protocol };
}

export interface StreamOpts {
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
}

/** Waits for the client's streams, runs the session, writes the status, closes. */
export async function serveRemoteCommandSpdy(
  conn: SpdyConnection,
  protocol: string,
  opts: StreamOpts,
  cmd: readonly string[],
  run: (io: SessionIO) => Promise<number | undefined>,
): Promise<Outcome | undefined> {
  const resizable = protocol === 'v4.channel.k8s.io' || protocol === 'v3.channel.k8s.io';
  const want = new Set(['error']);
  if (opts.stdin) want.add('stdin');
  if (opts.stdout) want.add('stdout');
  if (opts.stderr) want.add('stderr');
  if (opts.tty && resizable) want.add('resize');
  const got = new Map<string, SpdyStream>();
  const complete = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), STREAM_CREATION_MS);
    timer.unref();
    conn.on('close', () => resolve(false));
    conn.on('stream', (s) => {
      const type = s.header('streamtype');
      if (!want.has(type) || got.has(type)) {
        s.reset(); // an unexpected stream type (the kubelet logs and ignores it)
        return;
      }
      got.set(type, s);
      void conn.reply(s);
      if (got.size === want.size) {
        clearTimeout(timer);
        resolve(true);
      }
    });
  });
  if (!complete) {
    await conn.close();
    return undefined;
  }
  const ac = new AbortController();
  conn.on('close', () => ac.abort(new Error('the streaming client went away')));
  const error = got.get('error') as SpdyStream;
  const stdin = got.get('stdin');
  const stdout = got.get('stdout');
  const stderr = got.get('stderr');
  const resize = got.get('resize');
  const outcome = await serveRemoteCommand(
    {
      tty: opts.tty,
      ...(stdin ? { stdin } : {}),
      ...(stdout ? { stdout } : {}),
      ...(stderr ? { stderr } : {}),
      ...(resize ? { resize } : {}),
      writeError: (d) => new Promise<void>((r) => error.write(d, () => r())),
      jsonStatus: protocol === 'v4.channel.k8s.io',
    },
    cmd,
    ac.signal,
    run,
  );
  // The error stream's end is what the client waits for (it reads it to EOF).
  await new Promise<void>((r) => error.end(() => r()));
  await conn.close();
  return outcome;
}

/** Port-forward streams, paired by request id; one dial per pair; the client ends the session. */
export function servePortForwardSpdy(
  conn: SpdyConnection,
  sandboxId: string,
  dial: (port: number, signal: AbortSignal) => Promise<Duplex>,
): Promise<void> {
  const ac = new AbortController();
  const pairs = new Map<string, { data?: SpdyStream; error?: SpdyStream; timer: NodeJS.Timeout }>();
  return new Promise((resolve) => {
    conn.on('close', () => {
      ac.abort();
      for (const p of pairs.values()) clearTimeout(p.timer);
      resolve();
    });
    conn.on('stream', (s) => {
      const portText = s.header('port');
      const type = s.header('streamtype');
      const port = /^\d{1,5}$/.test(portText) ? Number(portText) : 0;
      // Refused as the kubelet refuses them: a missing or bad port or stream type.
      if (!(port >= 1 && port <= 65535) || (type !== 'data' && type !== 'error')) return s.reset();
      // Old clients send no request id: their streams come in consecutive pairs (error first).
      const rid = s.header('requestid') || String(type === 'error' ? s.id : s.id - 2);
      let p = pairs.get(rid);
      if (!p) {
        const timer = setTimeout(() => {
          const q = pairs.get(rid);
          q?.error?.end(`(request=${rid}) timed out waiting for streams`);
          q?.data?.reset();
          pairs.delete(rid);
        }, STREAM_CREATION_MS);
        timer.unref();
        p = { timer };
        pairs.set(rid, p);
      }
      if (p[type]) {
        s.end(`error processing stream for request ${rid}: ${type} stream already assigned`);
        return;
      }
      p[type] = s;
      void conn.reply(s);
      if (!p.data || !p.error) return;
      clearTimeout(p.timer);
      pairs.delete(rid);
      void forward(p.data, p.error, port);
    });
  });

  async function forward(data: SpdyStream, error: SpdyStream, port: number): Promise<void> {
    const errors: Error[] = [];
    const target = await dial(port, ac.signal).catch((e: Error) => void errors.push(e));
    if (target) {
      target.on('error', (e: Error) => errors.push(e));
      const inbound = pipeline(data, target).catch((e: Error) => errors.push(e));
      await pipeline(target, data).catch((e: Error) => errors.push(e));
      void inbound;
    }
    const first = errors.find((e) => e.name !== 'AbortError' && !/premature close/i.test(e.message));
    if (first && !ac.signal.aborted) {
      // The message, then a reset of both streams so the client can open a new pair.
      await new Promise<void>((r) => error.write(forwardError(port, sandboxId, first), () => r()));
      data.reset();
      error.reset();
      return;
    }
    error.end();
  }
}
