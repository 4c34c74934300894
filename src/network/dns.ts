// The embedded DNS server of a user-defined network: a UDP server in berthd bound to the
// network's gateway address, port 53. It answers A and AAAA queries for the names of the containers on
// that network (name, short ID, aliases) and forwards everything else to the host's resolvers.
// While berthd is down, names do not resolve (containers keep running).
import dgram from 'node:dgram';
import { ip6ToBig } from './ipam6.ts';

/**
 * Forwarded queries in flight per server. Each holds a UDP socket (a file descriptor) for up to
 * 2 s per upstream, and any container on the network can send queries as fast as it likes:
 * unbounded, a flood used up berthd's descriptors and broke every other operation. Past the cap
 * a query is dropped (clients retry), as Docker's embedded resolver does past 1024.
 */
export const MAX_FORWARDS_IN_FLIGHT = 1024;

/**
 * Resolves a lower-case name to the addresses (IPv4 and, on IPv6 networks, IPv6) it has on this
 * network; empty: not ours. `from`: the asking address (links are per container).
 */
export type Lookup = (name: string, from: string) => string[];

interface Question {
  readonly name: string;
  readonly type: number;
  /** Byte offset just after the question section. */
  readonly end: number;
}

export function parseQuestion(msg: Buffer): Question | undefined {
  if (msg.length < 12 || msg.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let off = 12;
  for (;;) {
    if (off >= msg.length) return undefined;
    const len = msg[off]!;
    if (len === 0) break;
    if (len > 63 || off + 1 + len > msg.length) return undefined;
    labels.push(msg.toString('latin1', off + 1, off + 1 + len));
    off += 1 + len;
  }
  if (off + 5 > msg.length) return undefined;
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(off + 1), end: off + 5 };
}

/** A reply to `query` with the given A/AAAA records (rcode 0), or an error rcode. */
export function buildReply(query: Buffer, q: Question, addrs: readonly string[], rcode = 0): Buffer {
  const head = Buffer.from(query.subarray(0, q.end));
  // QR=1, opcode copied, AA=1, RD copied, RA=1.
  head[2] = 0x84 | (query[2]! & 0x79);
  head[3] = 0x80 | rcode;
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(addrs.length, 6);
  head.writeUInt16BE(0, 8);
  head.writeUInt16BE(0, 10);
  const answers = addrs.map((ip) => {
    const v6 = ip6ToBig(ip);
    const a = Buffer.alloc(v6 === undefined ? 16 : 28);
    a.writeUInt16BE(0xc00c, 0); // pointer to the question name
    a.writeUInt16BE(v6 === undefined ? 1 : 28, 2); // A or AAAA
    a.writeUInt16BE(1, 4); // IN
    a.writeUInt32BE(600, 6);
    a.writeUInt16BE(v6 === undefined ? 4 : 16, 10);
    if (v6 === undefined) for (const [i, p] of ip.split('.').entries()) a.writeUInt8(Number(p), 12 + i);
    else for (let i = 0; i < 16; i++) a.writeUInt8(Number((v6 >> BigInt(8 * (15 - i))) & 0xffn), 12 + i);
    return a;
  });
  return Buffer.concat([head, ...answers]);
}

export interface DnsServer {
  close(): Promise<void>;
}

export async function startDns(
  address: string,
  lookup: Lookup,
  upstreams: readonly string[],
): Promise<DnsServer> {
  const sock = dgram.createSocket({ type: 'udp4', reuseAddr: false });
  let inFlight = 0;
  sock.on('message', (msg, rinfo) => {
    const q = parseQuestion(msg);
    if (!q) return;
    const reply = (b: Buffer) => sock.send(b, rinfo.port, rinfo.address);
    const ours = lookup(q.name.replace(/\.$/, ''), rinfo.address);
    if (ours.length > 0) {
      // A and AAAA records exist for container names; other types get an empty NOERROR answer.
      const v6 = (a: string) => a.includes(':');
      reply(
        buildReply(msg, q, q.type === 1 ? ours.filter((a) => !v6(a)) : q.type === 28 ? ours.filter(v6) : []),
      );
      return;
    }
    if (inFlight >= MAX_FORWARDS_IN_FLIGHT) return;
    inFlight++;
    forward(msg, upstreams)
      .then(reply, () => reply(buildReply(msg, q, [], 2)))
      .finally(() => inFlight--);
  });
  sock.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(53, address, () => resolve());
  });
  return { close: () => new Promise((r) => sock.close(() => r())) };
}

/** Asks each upstream in turn (2 s each); resolves with the first reply. */
async function forward(msg: Buffer, upstreams: readonly string[]): Promise<Buffer> {
  for (const up of upstreams) {
    const reply = await new Promise<Buffer | undefined>((resolve) => {
      const s = dgram.createSocket('udp4');
      const timer = setTimeout(() => {
        s.close();
        resolve(undefined);
      }, 2000);
      s.on('message', (r, from) => {
        // Only the upstream's answer to this query: anything else reaching this port (another
        // container spraying ports with forged answers) is ignored.
        if (
          from.address !== up ||
          from.port !== 53 ||
          r.length < 2 ||
          r.readUInt16BE(0) !== msg.readUInt16BE(0)
        )
          return;
        clearTimeout(timer);
        s.close();
        resolve(r);
      });
      s.on('error', () => {
        clearTimeout(timer);
        s.close();
        resolve(undefined);
      });
      s.send(msg, 53, up);
    });
    if (reply) return reply;
  }
  throw new Error('no upstream answered');
}
