// Connections to receivers: a byte stream (tcp, tls, unix) or datagrams (udp, unixgram). Each
// write resolves once the kernel took the bytes; any error breaks the connection and the next
// write opens a new one (the shipper backs off in between).
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { InvalidArgumentError } from '../../errdefs/index.ts';

export type Address =
  | { kind: 'tcp' | 'udp'; host: string; port: number }
  | { kind: 'tls'; host: string; port: number; tls: tls.ConnectionOptions }
  | { kind: 'unix' | 'unixgram'; path: string };

/** Parses `proto://host:port` or `proto:///path` for the protocols a driver allows. */
export function parseAddress(
  opt: string,
  value: string,
  allowed: readonly string[],
  defaultPort: number,
): { proto: string; host: string; port: number; path: string } {
  const bad = (why: string) =>
    new InvalidArgumentError('INVALID_LOG_OPT', `invalid log opt '${opt}' "${value}": ${why}`);
  const m = /^([a-z+]+):\/\/(.*)$/.exec(value);
  if (!m) throw bad(`use ${allowed.map((p) => `${p}://`).join(', ')} followed by the address`);
  const proto = m[1]!;
  const rest = m[2]!;
  if (!allowed.includes(proto))
    throw bad(`unsupported protocol "${proto}": use one of ${allowed.join(', ')}`);
  if (proto === 'unix' || proto === 'unixgram') {
    if (!rest.startsWith('/')) throw bad('a unix socket address needs an absolute path');
    return { proto, host: '', port: 0, path: rest };
  }
  const hp = /^(\[[0-9a-fA-F:.]+\]|[^:/[\]]+)(?::(\d{1,5}))?$/.exec(rest);
  if (!hp) throw bad('use host:port');
  const port = hp[2] === undefined ? defaultPort : Number(hp[2]);
  if (port < 1 || port > 65535) throw bad(`port ${hp[2]} is out of range`);
  return { proto, host: hp[1]!.replace(/^\[|\]$/g, ''), port, path: '' };
}

/** TLS options from Docker's `<prefix>-tls-*` options (files read when the connection opens). */
export function tlsOptions(
  opts: Readonly<Record<string, string>>,
  prefix: string,
  host: string,
): tls.ConnectionOptions {
  const read = (k: string) => {
    const f = opts[`${prefix}-tls-${k}`];
    return f ? readFileSync(f) : undefined;
  };
  const ca = read('ca-cert');
  const cert = read('cert');
  const key = read('key');
  return {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(net.isIP(host) ? {} : { servername: host }),
    rejectUnauthorized: opts[`${prefix}-tls-skip-verify`] !== 'true',
  };
}

/** A byte stream that reconnects on demand. */
export class StreamConn {
  readonly #addr: Address;
  #sock: net.Socket | undefined;
  #opening: Promise<net.Socket> | undefined;
  /** Called with each chunk the receiver sends (fluentd acks). */
  onData: ((b: Buffer) => void) | undefined;
  onBroken: ((err: Error) => void) | undefined;

  constructor(addr: Address) {
    this.#addr = addr;
  }

  async connect(): Promise<net.Socket> {
    if (this.#sock && !this.#sock.destroyed) return this.#sock;
    this.#opening ??= this.#open().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  #open(): Promise<net.Socket> {
    const a = this.#addr;
    return new Promise((resolve, reject) => {
      let s: net.Socket;
      const ready = a.kind === 'tls' ? 'secureConnect' : 'connect';
      if (a.kind === 'tls') s = tls.connect({ host: a.host, port: a.port, ...a.tls });
      else if (a.kind === 'unix') s = net.connect({ path: a.path });
      else if (a.kind === 'tcp') s = net.connect({ host: a.host, port: a.port });
      else throw new Error(`not a stream address: ${a.kind}`);
      const fail = (err: Error) => {
        s.destroy();
        reject(err);
      };
      s.once('error', fail);
      s.setTimeout(10_000, () => fail(new Error(`connect to ${describe(a)} timed out`)));
      s.once(ready, () => {
        s.off('error', fail);
        s.setTimeout(0);
        s.setNoDelay(true);
        s.on('data', (b: Buffer) => this.onData?.(b));
        const broken = (err?: Error) => {
          if (this.#sock === s) this.#sock = undefined;
          this.onBroken?.(err ?? new Error(`${describe(a)} closed the connection`));
        };
        s.on('error', broken);
        s.on('close', () => broken());
        this.#sock = s;
        resolve(s);
      });
    });
  }

  async write(b: Buffer): Promise<void> {
    const s = await this.connect();
    await new Promise<void>((resolve, reject) => s.write(b, (err) => (err ? reject(err) : resolve())));
  }

  reset(): void {
    this.#sock?.destroy();
    this.#sock = undefined;
  }
}

/** Datagrams to one udp peer. */
export class DatagramConn {
  readonly #addr: { host: string; port: number };
  #sock: dgram.Socket | undefined;

  constructor(addr: { host: string; port: number }) {
    this.#addr = addr;
  }

  async connect(): Promise<void> {
    if (this.#sock) return;
    const s = dgram.createSocket(net.isIPv6(this.#addr.host) ? 'udp6' : 'udp4');
    s.on('error', () => this.reset());
    this.#sock = s;
  }

  async send(b: Buffer): Promise<void> {
    await this.connect();
    const s = this.#sock!;
    await new Promise<void>((resolve, reject) =>
      s.send(b, this.#addr.port, this.#addr.host, (err) => (err ? reject(err) : resolve())),
    );
  }

  reset(): void {
    this.#sock?.close();
    this.#sock = undefined;
  }
}

export function describe(a: Address): string {
  if ('path' in a) return `${a.kind}://${a.path}`;
  return `${a.kind}://${a.host}:${a.port}`;
}
