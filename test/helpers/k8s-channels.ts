// A client of the Kubernetes websocket channel protocols (channel.k8s.io and its v4/v5 and
// base64 forms) on the `ws` library, as kubectl's and client-node's websocket clients speak it:
// collects what arrives per channel and sends framed messages. Every wait is bounded.
import { WebSocket } from 'ws';

export interface ChannelClient {
  readonly ws: WebSocket;
  readonly protocol: string;
  /** Bytes received so far on channel n (all messages concatenated). */
  received(n: number): Buffer;
  /** How many messages arrived on channel n (an empty one counts). */
  messages(n: number): Buffer[];
  send(n: number, data: Buffer | string): void;
  /** The v5 CLOSE signal for channel n. */
  closeChannel(n: number): void;
  /** Resolves when pred holds for channel n's bytes; rejects after ms. */
  until(n: number, pred: (b: Buffer) => boolean, ms?: number): Promise<Buffer>;
  /** Resolves with the close code once the server closed (bounded). */
  closed(ms?: number): Promise<number>;
}

/** Opens url (http:// is turned into ws://); rejects with the HTTP status on a refused upgrade. */
export function openChannels(url: string, protocols: string[]): Promise<ChannelClient> {
  const ws = new WebSocket(url.replace(/^http/, 'ws'), protocols);
  const base64 = (p: string) => p.includes('base64');
  const got = new Map<number, Buffer[]>();
  const waiters = new Set<() => void>();
  let closeCode: number | undefined;
  ws.on('message', (raw: Buffer) => {
    if (raw.length === 0) return;
    const b64 = base64(ws.protocol);
    const ch = b64 ? (raw[0] as number) - 0x30 : (raw[0] as number);
    const payload = b64 ? Buffer.from(raw.subarray(1).toString('latin1'), 'base64') : raw.subarray(1);
    got.set(ch, [...(got.get(ch) ?? []), payload]);
    for (const w of waiters) w();
  });
  ws.on('close', (code) => {
    closeCode = code;
    for (const w of waiters) w();
  });
  const client: ChannelClient = {
    ws,
    get protocol() {
      return ws.protocol;
    },
    received: (n) => Buffer.concat(got.get(n) ?? []),
    messages: (n) => got.get(n) ?? [],
    send: (n, data) => {
      const d = Buffer.from(data);
      if (base64(ws.protocol)) ws.send(String.fromCharCode(0x30 + n) + d.toString('base64'));
      else ws.send(Buffer.concat([Buffer.from([n]), d]));
    },
    closeChannel: (n) => ws.send(Buffer.from([255, n])),
    until: (n, pred, ms = 10_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const b = client.received(n);
          if (pred(b)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(b);
          } else if (closeCode !== undefined) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(
              new Error(`socket closed (${closeCode}); channel ${n} had ${JSON.stringify(b.toString())}`),
            );
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`timed out on channel ${n}: had ${JSON.stringify(client.received(n).toString())}`),
          );
        }, ms);
        waiters.add(check);
        check();
      }),
    closed: (ms = 10_000) =>
      new Promise((resolve, reject) => {
        if (closeCode !== undefined) return resolve(closeCode);
        const timer = setTimeout(() => reject(new Error('the server did not close the socket')), ms);
        ws.once('close', (code) => {
          clearTimeout(timer);
          resolve(code);
        });
      }),
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () =>
        reject(
          Object.assign(new Error(`HTTP ${res.statusCode}: ${body.trim()}`), { status: res.statusCode }),
        ),
      );
    });
    ws.once('error', reject);
  });
}
