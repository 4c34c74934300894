// The syslog driver (moby daemon/logger/syslog): one message per line, stdout at severity info
// and stderr at err, in the local UNIX format (default), RFC 3164, RFC 5424 or RFC 5424 with
// microseconds; over udp, tcp, tcp+tls (RFC 5425 octet counting for rfc5424), unix or unixgram.
import os from 'node:os';
import { InvalidArgumentError } from '../../errdefs/index.ts';
import type { Instant } from '../k8s-file.ts';
import { renderTag } from './meta.ts';
import { type Address, DatagramConn, parseAddress, StreamConn, tlsOptions } from './transport.ts';
import type { ContainerLogInfo, DriverSpec, LogMessage, LogSink, SinkDeps } from './types.ts';

const FACILITIES = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'ftp',
  '',
  '',
  '',
  '',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
];
const FORMATS = ['', 'rfc3164', 'rfc5424', 'rfc5424micro'];
const PROTOS = ['udp', 'tcp', 'tcp+tls', 'unix', 'unixgram'];
const INFO = 6;
const ERR = 3;

function bad(message: string): InvalidArgumentError {
  return new InvalidArgumentError('INVALID_LOG_OPT', message);
}

function facility(v: string | undefined): number {
  if (!v) return 3;
  const i = FACILITIES.indexOf(v);
  if (i >= 0 && v !== '') return i;
  if (/^\d+$/.test(v) && Number(v) <= 23 && FACILITIES[Number(v)] !== '') return Number(v);
  throw bad(
    `invalid log opt 'syslog-facility' "${v}": use one of ${FACILITIES.filter(Boolean).join(', ')} (or its number)`,
  );
}

function address(opts: Readonly<Record<string, string>>): Address {
  const v = opts['syslog-address'];
  // Docker's default is the local syslog socket.
  if (!v) return { kind: 'unixgram', path: '/dev/log' };
  const a = parseAddress('syslog-address', v, PROTOS, 514);
  if (a.proto === 'unix' || a.proto === 'unixgram') return { kind: a.proto, path: a.path };
  if (a.proto === 'tcp+tls') return { kind: 'tls', host: a.host, port: a.port, tls: {} };
  return { kind: a.proto as 'tcp' | 'udp', host: a.host, port: a.port };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');

/**
 * The last second formatted, per format: lines come many to a second, and a Date with its
 * local-time getters per line was most of the syslog encoder's cost.
 */
const lastStamp = { sec: Number.NaN, text: '' };
const lastRfc3339 = { sec: Number.NaN, date: '', zone: '' };

/** Go's time.Stamp in local time: `Jan _2 15:04:05`. */
export function stamp(t: Instant): string {
  if (t.sec !== lastStamp.sec) {
    const d = new Date(t.sec * 1000);
    lastStamp.text = `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
    lastStamp.sec = t.sec;
  }
  return lastStamp.text;
}

/** RFC 3339 in local time, with 0 or 6 fractional digits. */
export function rfc3339(t: Instant, micro: boolean): string {
  const c = lastRfc3339;
  if (t.sec !== c.sec) {
    const d = new Date(t.sec * 1000);
    const off = -d.getTimezoneOffset();
    c.zone =
      off === 0
        ? 'Z'
        : `${off > 0 ? '+' : '-'}${p2(Math.floor(Math.abs(off) / 60))}:${p2(Math.abs(off) % 60)}`;
    c.date = `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}T${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
    c.sec = t.sec;
  }
  const frac = micro ? `.${String(Math.floor(t.nsec / 1000)).padStart(6, '0')}` : '';
  return `${c.date}${frac}${c.zone}`;
}

/** One message in the chosen format, framed for the transport (without the trailing newline). */
export function formatSyslog(
  format: string,
  pri: number,
  hostname: string,
  tag: string,
  pid: number,
  m: LogMessage,
): string {
  const content = m.line.toString('utf8');
  switch (format) {
    case 'rfc3164':
      return `<${pri}>${stamp(m.time)} ${hostname} ${tag}[${pid}]: ${content}`;
    case 'rfc5424':
    case 'rfc5424micro':
      return `<${pri}>1 ${rfc3339(m.time, format === 'rfc5424micro')} ${hostname} ${tag} ${pid} ${tag} - ${content}`;
    default:
      return `<${pri}>${stamp(m.time)} ${tag}[${pid}]: ${content}`;
  }
}

class SyslogSink implements LogSink {
  readonly #addr: Address;
  readonly #stream: StreamConn | undefined;
  readonly #udp: DatagramConn | undefined;
  readonly #deps: SinkDeps;
  readonly #format: string;
  readonly #facility: number;
  readonly #tag: string;
  readonly #hostname = os.hostname();
  readonly #octetCount: boolean;

  constructor(info: ContainerLogInfo, opts: Readonly<Record<string, string>>, deps: SinkDeps) {
    let addr = address(opts);
    if (addr.kind === 'tls') addr = { ...addr, tls: tlsOptions(opts, 'syslog', addr.host) };
    this.#addr = addr;
    this.#deps = deps;
    this.#format = opts['syslog-format'] ?? '';
    this.#facility = facility(opts['syslog-facility']);
    this.#tag = renderTag(info, opts.tag);
    // Docker frames RFC 5424 over TLS by octet counting (RFC 5425); everything else ends in '\n'.
    this.#octetCount = addr.kind === 'tls' && this.#format.startsWith('rfc5424');
    if (addr.kind === 'udp') this.#udp = new DatagramConn(addr);
    else if (addr.kind !== 'unixgram') this.#stream = new StreamConn(addr);
  }

  async connect(): Promise<void> {
    if (this.#stream) await this.#stream.connect();
    else if (this.#udp) await this.#udp.connect();
    else if (!this.#deps.sendUnixgram)
      throw new Error('unixgram delivery needs berth-unixgram-relay (build Berth with a C compiler)');
  }

  async write(messages: readonly LogMessage[]): Promise<void> {
    const pri = this.#facility * 8;
    const text = messages.map((m) =>
      formatSyslog(
        this.#format,
        pri + (m.stream === 'stderr' ? ERR : INFO),
        this.#hostname,
        this.#tag,
        process.pid,
        m,
      ),
    );
    if (this.#stream) {
      // One string for the batch, one conversion to bytes.
      let all = '';
      if (this.#octetCount) for (const t of text) all += `${Buffer.byteLength(t) + 1} ${t}\n`;
      else for (const t of text) all += `${t}\n`;
      await this.#stream.write(Buffer.from(all));
      return;
    }
    for (const t of text) {
      const b = Buffer.from(`${t}\n`);
      if (this.#udp) await this.#udp.send(b);
      else {
        const send = this.#deps.sendUnixgram;
        if (!send) throw new Error('unixgram delivery needs berth-unixgram-relay');
        await send((this.#addr as { path: string }).path, b);
      }
    }
  }

  reset(): void {
    this.#stream?.reset();
    this.#udp?.reset();
  }

  close(): void {
    this.reset();
  }
}

export const syslogDriver: DriverSpec = {
  name: 'syslog',
  opts: [
    'syslog-address',
    'syslog-facility',
    'syslog-tls-ca-cert',
    'syslog-tls-cert',
    'syslog-tls-key',
    'syslog-tls-skip-verify',
    'syslog-format',
  ],
  remote: {
    validate(opts) {
      const a = address(opts);
      facility(opts['syslog-facility']);
      const f = opts['syslog-format'];
      if (f !== undefined && !FORMATS.includes(f))
        throw bad(`invalid log opt 'syslog-format' "${f}": use rfc3164, rfc5424 or rfc5424micro`);
      const tlsKeys = ['syslog-tls-ca-cert', 'syslog-tls-cert', 'syslog-tls-key', 'syslog-tls-skip-verify'];
      if (a.kind !== 'tls')
        for (const k of tlsKeys)
          if (opts[k] !== undefined) throw bad(`log opt '${k}' needs a tcp+tls:// syslog-address`);
      const sv = opts['syslog-tls-skip-verify'];
      if (sv !== undefined && sv !== 'true' && sv !== 'false')
        throw bad(`invalid log opt 'syslog-tls-skip-verify' "${sv}": use true or false`);
    },
    open: (info, opts, deps) => new SyslogSink(info, opts, deps),
  },
};
