// The gelf driver: GELF 1.1 JSON, over udp (compressed with gzip by default, chunked past 1420
// bytes as Graylog's chunking: magic 0x1e 0x0f, 8-byte message id, sequence number and count,
// at most 128 chunks) or over tcp (uncompressed, each message ended by a NUL byte).
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import zlib from 'node:zlib';
import { InvalidArgumentError } from '../../errdefs/index.ts';
import { extraAttributes, renderTag } from './meta.ts';
import { DatagramConn, parseAddress, StreamConn } from './transport.ts';
import type { ContainerLogInfo, DriverSpec, LogMessage, LogSink } from './types.ts';

/** go-gelf's chunk payload size (a datagram stays under a 1500-byte MTU). */
export const CHUNK_DATA = 1420;
const MAX_CHUNKS = 128;

function bad(message: string): InvalidArgumentError {
  return new InvalidArgumentError('INVALID_LOG_OPT', message);
}

function compression(opts: Readonly<Record<string, string>>): { type: string; level: number } {
  const type = opts['gelf-compression-type'] || 'gzip';
  if (!['gzip', 'zlib', 'none'].includes(type))
    throw bad(`invalid log opt 'gelf-compression-type' "${type}": use gzip, zlib or none`);
  const lv = opts['gelf-compression-level'];
  let level = 1;
  if (lv !== undefined && lv !== '') {
    if (!/^-?\d+$/.test(lv) || Number(lv) < -1 || Number(lv) > 9)
      throw bad(`invalid log opt 'gelf-compression-level' "${lv}": use -1 to 9`);
    level = Number(lv);
  }
  return { type, level };
}

/** Splits one (compressed) message into GELF chunks; a message needing more than 128 is refused. */
export function gelfChunks(msg: Buffer, id: Buffer = randomBytes(8)): Buffer[] {
  if (msg.length <= CHUNK_DATA) return [msg];
  const count = Math.ceil(msg.length / CHUNK_DATA);
  if (count > MAX_CHUNKS)
    throw new Error(`GELF message of ${msg.length} bytes needs more than ${MAX_CHUNKS} chunks`);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const head = Buffer.from([0x1e, 0x0f, ...id, i, count]);
    out.push(Buffer.concat([head, msg.subarray(i * CHUNK_DATA, (i + 1) * CHUNK_DATA)]));
  }
  return out;
}

class GelfSink implements LogSink {
  readonly #udp: DatagramConn | undefined;
  readonly #tcp: StreamConn | undefined;
  readonly #extra: string;
  /** `"version":"1.1","host":…,"short_message":` once: only the line, time and level change. */
  readonly #head = `{"version":"1.1","host":${JSON.stringify(os.hostname())},"short_message":`;
  readonly #comp: { type: string; level: number };

  constructor(info: ContainerLogInfo, opts: Readonly<Record<string, string>>) {
    const a = parseAddress('gelf-address', opts['gelf-address'] ?? '', ['udp', 'tcp'], 12201);
    if (a.proto === 'udp') this.#udp = new DatagramConn(a);
    else this.#tcp = new StreamConn({ kind: 'tcp', host: a.host, port: a.port });
    this.#comp = compression(opts);
    const extra: Record<string, string> = {};
    for (const [k, v] of Object.entries(extraAttributes(opts, info.labels, info.env))) extra[`_${k}`] = v;
    Object.assign(extra, {
      _container_id: info.id,
      _container_name: info.name,
      _image_id: info.imageId,
      _image_name: info.imageName,
      _command: info.command,
      _tag: renderTag(info, opts.tag),
      _created: info.created,
    });
    // The fixed fields once, as JSON text without its braces, spliced into every message.
    this.#extra = JSON.stringify(extra).slice(1, -1);
  }

  #json(m: LogMessage): string {
    const ts = Math.floor(m.time.sec * 1000 + m.time.nsec / 1e6) / 1000;
    return `${this.#head}${JSON.stringify(m.line.toString('utf8'))},"timestamp":${ts},"level":${m.stream === 'stderr' ? 3 : 6},${this.#extra}}`;
  }

  connect(): Promise<void> {
    return this.#udp ? this.#udp.connect() : this.#tcp!.connect().then(() => {});
  }

  async write(messages: readonly LogMessage[]): Promise<void> {
    if (this.#tcp) {
      let all = '';
      for (const m of messages) all += `${this.#json(m)}\0`;
      await this.#tcp.write(Buffer.from(all));
      return;
    }
    for (const m of messages) {
      const raw = Buffer.from(this.#json(m));
      const { type, level } = this.#comp;
      const body =
        type === 'gzip'
          ? zlib.gzipSync(raw, { level })
          : type === 'zlib'
            ? zlib.deflateSync(raw, { level })
            : raw;
      let chunks: Buffer[];
      try {
        chunks = gelfChunks(body);
      } catch {
        // As go-gelf: a message too large for 128 chunks is dropped, not retried forever.
        continue;
      }
      for (const c of chunks) await this.#udp!.send(c);
    }
  }

  reset(): void {
    this.#udp?.reset();
    this.#tcp?.reset();
  }

  close(): void {
    this.reset();
  }
}

export const gelfDriver: DriverSpec = {
  name: 'gelf',
  opts: [
    'gelf-address',
    'gelf-compression-type',
    'gelf-compression-level',
    'gelf-tcp-max-reconnect',
    'gelf-tcp-reconnect-delay',
  ],
  remote: {
    validate(opts) {
      if (!opts['gelf-address'])
        throw bad(`gelf-address is a required parameter: use udp://host:port or tcp://host:port`);
      const a = parseAddress('gelf-address', opts['gelf-address'], ['udp', 'tcp'], 12201);
      compression(opts);
      for (const k of ['gelf-tcp-max-reconnect', 'gelf-tcp-reconnect-delay']) {
        const v = opts[k];
        if (v === undefined) continue;
        if (a.proto !== 'tcp') throw bad(`log opt '${k}' needs a tcp:// gelf-address`);
        if (!/^\d+$/.test(v)) throw bad(`invalid log opt '${k}' "${v}": use a whole number`);
      }
    },
    open: (info, opts) => new GelfSink(info, opts),
  },
};
