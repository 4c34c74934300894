// The SPDY/3.1 server framer against an independent client (spdy-transport over loopback TCP):
// streams with Kubernetes-style headers, data both ways, half close; and hostile input: a
// header block that inflates past the bound closes the connection.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { after, before, test } from 'node:test';
import zlib from 'node:zlib';
import { SpdyConnection, type SpdyStream } from '../../../src/cri/streaming/spdy.ts';

const require = createRequire(import.meta.url);
const transport = require('spdy-transport');
const DICT: Buffer = require('spdy-transport/lib/spdy-transport/protocol/spdy/dictionary.js')['3'];

let server: net.Server;
let port = 0;
const seen: SpdyStream[] = [];
const conns: SpdyConnection[] = [];

before(async () => {
  server = net.createServer((sock) => {
    const c = new SpdyConnection(sock, 0);
    conns.push(c);
    c.on('stream', (s) => {
      seen.push(s);
      void c.reply(s);
      // Echo in upper case, then end our half when the client ends its.
      s.on('data', (d: Buffer) => s.write(d.toString().toUpperCase()));
      s.on('end', () => s.end());
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as net.AddressInfo).port;
});
after(() => {
  for (const c of conns) c.destroy();
  server.close();
});

test('a client stream: its headers, data both ways, FIN each way', async () => {
  const sock = net.connect(port, '127.0.0.1');
  await once(sock, 'connect');
  const conn = transport.connection.create(sock, { protocol: 'spdy', isServer: false });
  conn.start(3.1);
  const s: Duplex = await new Promise((resolve, reject) =>
    conn.request(
      { method: 'POST', path: '/', headers: { streamtype: 'stdout', port: '8080' } },
      (err: Error | null, st: Duplex) => (err ? reject(err) : resolve(st)),
    ),
  );
  let got = '';
  s.on('data', (d: Buffer) => {
    got += d.toString();
  });
  const ended = once(s, 'end');
  s.write('hello ');
  s.end('spdy');
  await ended;
  assert.equal(got, 'HELLO SPDY');
  const last = seen.at(-1) as SpdyStream;
  assert.equal(last.header('streamtype'), 'stdout');
  assert.equal(last.header('port'), '8080');
  assert.equal(last.id % 2, 1, 'client streams are odd');
  sock.destroy();
});

test('a header block that inflates past 256 KiB closes the connection', async () => {
  const sock = net.connect(port, '127.0.0.1');
  await once(sock, 'connect');
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const value = Buffer.alloc(1 << 20, 'a');
  const block = Buffer.concat([u32(1), u32(1), Buffer.from('x'), u32(value.length), value]);
  const z = zlib.deflateSync(block, { dictionary: DICT, flush: zlib.constants.Z_SYNC_FLUSH });
  assert.ok(z.length < 8192, 'the bomb is small on the wire');
  const body = Buffer.concat([u32(1), u32(0), Buffer.from([0, 0]), z]);
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8003, 0);
  head.writeUInt16BE(1, 2);
  head.writeUInt32BE(body.length, 4);
  sock.write(Buffer.concat([head, body]));
  sock.resume();
  const closed = once(sock, 'close');
  const timer = setTimeout(() => sock.destroy(new Error('the server kept the connection')), 5000);
  await closed;
  clearTimeout(timer);
  assert.equal(
    seen.some((s) => s.header('x') !== ''),
    false,
    'no stream was made from it',
  );
});
