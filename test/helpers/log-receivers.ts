// Log receivers for the logging-driver tests, on loopback only: syslog (udp, tcp, tls), a Fluentd
// Forward server (msgpack, with acks), GELF (udp chunks with gzip/zlib/none, tcp), and a unix
// datagram socket (Node has none: a python3 child binds it). Each collects what it receives.
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { promises as fsp } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { decodeMultiStream, encode, ExtData } from '@msgpack/msgpack';

/** Polls until `fn` is true, at most `ms`. */
export async function waitFor(what: string, fn: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export interface Receiver<T> {
  readonly port: number;
  readonly got: T[];
  close(): Promise<void>;
}

export async function udpReceiver(port = 0): Promise<Receiver<Buffer>> {
  const s = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  s.on('message', (m) => got.push(m));
  await new Promise<void>((r) => s.bind(port, '127.0.0.1', () => r()));
  return { port: s.address().port, got, close: () => new Promise((r) => s.close(() => r())) };
}

/** A stream server (tcp or tls) collecting the bytes of every connection, in arrival order. */
export async function streamReceiver(
  opts: { tls?: tls.TlsOptions; port?: number; onConn?: (s: net.Socket) => void } = {},
): Promise<Receiver<Buffer> & { text(): string; server: net.Server }> {
  const got: Buffer[] = [];
  const socks = new Set<net.Socket>();
  const handle = (s: net.Socket) => {
    socks.add(s);
    s.on('close', () => socks.delete(s));
    s.on('error', () => {});
    if (opts.onConn) opts.onConn(s);
    else s.on('data', (b: Buffer) => got.push(b));
  };
  const server = opts.tls ? tls.createServer(opts.tls, handle) : net.createServer(handle);
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    got,
    server,
    text: () => Buffer.concat(got).toString(),
    close: async () => {
      for (const s of socks) s.destroy();
      await new Promise((r) => server.close(() => r(undefined)));
    },
  };
}

export interface FluentRecord {
  tag: string;
  time: number | { sec: number; nsec: number };
  record: Record<string, string>;
}

/**
 * A Fluentd Forward server: decodes Message, Forward and PackedForward modes; answers
 * `{ack: chunk}` when the client asks. `modes` records the mode of each message received.
 */
export async function fluentdReceiver(
  port = 0,
  /**
   * What to do with a message that asks for an ack (default: ack it): `hang-up` closes the
   * connection without acking, `ignore` never acks. `n` counts such messages from 0.
   */
  onChunk: (chunk: string, n: number) => 'ack' | 'hang-up' | 'ignore' = () => 'ack',
): Promise<
  Receiver<FluentRecord> & {
    modes: string[];
    options: Record<string, unknown>[];
    /** Each Forward/Message-mode message: its chunk id (if any) and its records. */
    messages: { chunk?: string; records: FluentRecord[] }[];
  }
> {
  const got: FluentRecord[] = [];
  const modes: string[] = [];
  const options: Record<string, unknown>[] = [];
  const messages: { chunk?: string; records: FluentRecord[] }[] = [];
  let chunks = 0;
  const time = (t: unknown) => {
    if (t instanceof ExtData && t.type === 0) {
      const d = t.data as Uint8Array;
      const v = new DataView(d.buffer, d.byteOffset, 8);
      return { sec: v.getUint32(0), nsec: v.getUint32(4) };
    }
    return t as number;
  };
  const r = await streamReceiver({
    port,
    onConn: (s) => {
      void (async () => {
        try {
          for await (const msg of decodeMultiStream(s)) {
            const m = msg as unknown[];
            const tag = m[0] as string;
            let opt: Record<string, unknown> | undefined;
            const records: FluentRecord[] = [];
            if (Array.isArray(m[1])) {
              modes.push('forward');
              for (const e of m[1] as unknown[][])
                records.push({ tag, time: time(e[0]), record: e[1] as Record<string, string> });
              opt = m[2] as Record<string, unknown> | undefined;
            } else {
              modes.push('message');
              records.push({ tag, time: time(m[1]), record: m[2] as Record<string, string> });
              opt = m[3] as Record<string, unknown> | undefined;
            }
            got.push(...records);
            const chunk = typeof opt?.chunk === 'string' ? opt.chunk : undefined;
            messages.push({ ...(chunk !== undefined ? { chunk } : {}), records });
            if (opt) options.push(opt);
            if (chunk !== undefined) {
              const what = onChunk(chunk, chunks++);
              if (what === 'hang-up') {
                s.destroy();
                return;
              }
              if (what === 'ack') s.write(encode({ ack: chunk }));
            }
          }
        } catch {
          s.destroy();
        }
      })();
    },
  });
  return { port: r.port, got, modes, options, messages, close: r.close };
}

/** GELF over udp: reassembles chunks, inflates gzip/zlib, parses the JSON. */
export async function gelfUdpReceiver(): Promise<
  Receiver<Record<string, unknown>> & { datagrams: Buffer[]; compressions: string[] }
> {
  const u = await udpReceiver();
  const got: Record<string, unknown>[] = [];
  const compressions: string[] = [];
  const partial = new Map<string, Buffer[]>();
  let seen = 0;
  const decode = (b: Buffer) => {
    let kind = 'none';
    let raw = b;
    if (b[0] === 0x1f && b[1] === 0x8b) {
      kind = 'gzip';
      raw = zlib.gunzipSync(b);
    } else if (b[0] === 0x78) {
      kind = 'zlib';
      raw = zlib.inflateSync(b);
    }
    compressions.push(kind);
    got.push(JSON.parse(raw.toString()) as Record<string, unknown>);
  };
  const timer = setInterval(() => {
    while (seen < u.got.length) {
      const d = u.got[seen++]!;
      if (d[0] === 0x1e && d[1] === 0x0f) {
        const id = d.subarray(2, 10).toString('hex');
        const parts = partial.get(id) ?? [];
        parts[d[10]!] = d.subarray(12);
        partial.set(id, parts);
        if (parts.filter(Boolean).length === d[11]) {
          partial.delete(id);
          decode(Buffer.concat(parts));
        }
      } else decode(d);
    }
  }, 20);
  return {
    port: u.port,
    got,
    datagrams: u.got,
    compressions,
    close: async () => {
      clearInterval(timer);
      await u.close();
    },
  };
}

/** A unix datagram socket bound by a python3 child; every datagram is kept (base64 lines in a file). */
export async function unixgramReceiver(
  path: string,
): Promise<{ got(): Promise<Buffer[]>; close(): Promise<void> }> {
  const out = `${path}.received`;
  await fsp.rm(path, { force: true });
  const py = `
import socket, base64, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("ready", flush=True)
with open(sys.argv[2], "a") as f:
    while True:
        d = s.recv(1 << 20)
        f.write(base64.b64encode(d).decode() + "\\n")
        f.flush()
`;
  const child: ChildProcess = spawn('python3', ['-c', py, path, out], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (c) => reject(new Error(`unixgram receiver exited ${c}`)));
  });
  return {
    got: async () =>
      (await fsp.readFile(out, 'utf8').catch(() => ''))
        .split('\n')
        .filter(Boolean)
        .map((l) => Buffer.from(l, 'base64')),
    close: async () => {
      child.kill('SIGKILL');
      await fsp.rm(path, { force: true });
      await fsp.rm(out, { force: true });
    },
  };
}

/** The lines in order of first arrival, and how many arrived again (a batch whose ack was lost). */
export function firstArrivals(lines: readonly string[]): { order: string[]; again: number } {
  const set = new Set<string>();
  const order: string[] = [];
  for (const l of lines) {
    if (set.has(l)) continue;
    set.add(l);
    order.push(l);
  }
  return { order, again: lines.length - order.length };
}

/** `docker run` flags for the fluentd driver to a receiver on `port`, with more `--log-opt`s. */
export function fluentdFlags(port: number, ...logOpts: string[]): string[] {
  return [
    '--log-driver',
    'fluentd',
    ...[`fluentd-address=127.0.0.1:${port}`, ...logOpts].flatMap((o) => ['--log-opt', o]),
  ];
}

/** A busybox `sh -c` script printing `<prefix>-0` … `<prefix>-<n-1>`, running `pause` after each. */
export function countingScript(prefix: string, n: number, pause = ''): string {
  return `i=0; while [ $i -lt ${n} ]; do echo ${prefix}-$i; i=$((i+1));${pause ? ` ${pause};` : ''} done`;
}

/** The lines countingScript prints. */
export function countedLines(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
}
