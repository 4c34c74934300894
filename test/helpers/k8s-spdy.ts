// A SPDY/3.1 client of the Kubernetes streaming protocols, on spdy-transport (the engine of the
// npm `spdy` package, an independent SPDY implementation): the HTTP upgrade with
// X-Stream-Protocol-Version, then streams opened with Kubernetes' headers (streamtype, port,
// requestid). spdy-transport adds HTTP's :method/:path to each SYN_STREAM; servers ignore them.
import http from 'node:http';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';

const transport = createRequire(import.meta.url)('spdy-transport') as {
  connection: {
    create(
      socket: Duplex,
      o: { protocol: 'spdy'; isServer: false },
    ): {
      start(version: number): void;
      request(
        o: { method: string; path: string; headers: Record<string, string> },
        cb: (err: Error | null, s: Duplex) => void,
      ): void;
      end(): void;
    };
  };
};

export interface SpdyClient {
  readonly protocol: string;
  /** Opens a stream with these headers; resolves once the server replied. */
  open(headers: Record<string, string>): Promise<Duplex>;
  close(): void;
}

/** Upgrades url to SPDY/3.1 offering protocols; rejects with the HTTP status when refused. */
export function upgradeSpdy(url: string, protocols: string[]): Promise<SpdyClient> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'SPDY/3.1',
        'X-Stream-Protocol-Version': protocols.join(','),
      },
    });
    const timer = setTimeout(() => req.destroy(new Error('no upgrade answer')), 10_000);
    req.on('upgrade', (res, socket) => {
      clearTimeout(timer);
      const conn = transport.connection.create(socket, { protocol: 'spdy', isServer: false });
      conn.start(3.1);
      resolve({
        protocol: String(res.headers['x-stream-protocol-version'] ?? ''),
        open: (headers) =>
          new Promise((ok, fail) =>
            // POST: a GET stream would start half-closed (spdy-transport ends it at once).
            conn.request({ method: 'POST', path: '/', headers }, (err, s) => (err ? fail(err) : ok(s))),
          ),
        close: () => socket.destroy(),
      });
    });
    req.on('response', (res) => {
      clearTimeout(timer);
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () =>
        reject(
          Object.assign(new Error(`HTTP ${res.statusCode}: ${body.trim()}`), {
            status: res.statusCode,
            accepted: res.headers['x-accepted-stream-protocol-versions'],
          }),
        ),
      );
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end();
  });
}

/** Everything a stream sends until its end (bounded). */
export function readAll(s: Duplex, ms = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const t = setTimeout(() => reject(new Error(`stream did not end; had ${JSON.stringify(text)}`)), ms);
    s.on('data', (d: Buffer) => {
      text += d.toString();
    });
    const done = () => {
      clearTimeout(t);
      resolve(text);
    };
    s.once('end', done);
    s.once('close', done);
  });
}
