// The journald driver: systemd's native journal protocol, one datagram per line to the journal's
// unix datagram socket (sent by the unixgram relay). Fields as Docker's: MESSAGE, PRIORITY,
// CONTAINER_ID, CONTAINER_ID_FULL, CONTAINER_NAME, CONTAINER_TAG, IMAGE_NAME, SYSLOG_IDENTIFIER,
// and the attributes the labels/env options pick (names upper-cased, other characters as `_`).
import { existsSync } from 'node:fs';
import { extraAttributes, renderTag } from './meta.ts';
import type { ContainerLogInfo, DriverSpec, LogMessage, LogSink, SinkDeps } from './types.ts';

/** One journal field: `NAME=value\n`, or the binary form when the value holds a newline. */
export function journalField(name: string, value: Buffer | string): Buffer {
  const v = typeof value === 'string' ? Buffer.from(value) : value;
  if (!v.includes(0x0a)) return Buffer.concat([Buffer.from(`${name}=`), v, Buffer.from('\n')]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(v.length));
  return Buffer.concat([Buffer.from(`${name}\n`), len, v, Buffer.from('\n')]);
}

/** A journal field name: upper case letters, digits and `_`, not starting with `_` or a digit. */
export function journalName(k: string): string {
  const n = k.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  return /^[A-Z]/.test(n) ? n : `X${n}`;
}

class JournaldSink implements LogSink {
  readonly #deps: SinkDeps;
  readonly #fixed: Buffer;

  constructor(info: ContainerLogInfo, opts: Readonly<Record<string, string>>, deps: SinkDeps) {
    this.#deps = deps;
    const tag = renderTag(info, opts.tag);
    const fields: [string, string][] = [
      ['CONTAINER_ID', info.id.slice(0, 12)],
      ['CONTAINER_ID_FULL', info.id],
      ['CONTAINER_NAME', info.name],
      ['CONTAINER_TAG', tag],
      ['IMAGE_NAME', info.imageName],
      ['SYSLOG_IDENTIFIER', tag],
    ];
    for (const [k, v] of Object.entries(extraAttributes(opts, info.labels, info.env)))
      fields.push([journalName(k), v]);
    this.#fixed = Buffer.concat(fields.map(([k, v]) => journalField(k, v)));
  }

  async connect(): Promise<void> {
    if (!existsSync(this.#deps.journalSocket))
      throw new Error(
        `journald is not running here: no journal socket at ${this.#deps.journalSocket}; use another log driver (json-file, local, syslog, fluentd, gelf)`,
      );
    if (!this.#deps.sendUnixgram)
      throw new Error('journald delivery needs berth-unixgram-relay (build Berth with a C compiler)');
  }

  async write(messages: readonly LogMessage[]): Promise<void> {
    await this.connect();
    for (const m of messages) {
      const entry = Buffer.concat([
        journalField('MESSAGE', m.line),
        journalField('PRIORITY', m.stream === 'stderr' ? '3' : '6'),
        this.#fixed,
      ]);
      await this.#deps.sendUnixgram!(this.#deps.journalSocket, entry);
    }
  }

  reset(): void {}
  close(): void {}
}

export const journaldDriver: DriverSpec = {
  name: 'journald',
  opts: [],
  remote: {
    validate() {},
    open: (info, opts, deps) => new JournaldSink(info, opts, deps),
  },
};
