// A TLS front for a test berthd's unix socket: requires a client certificate signed by the CA and
// forwards each connection's bytes both ways, half-closes included (exec -i ends its input and
// still reads the output). Stands in for berthd's own TLS listener in the client-side tests.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { TestPki } from './tls-certs.ts';

export interface TlsFront {
  readonly port: number;
  close(): Promise<void>;
}

export async function startTlsFront(socketPath: string, pki: TestPki): Promise<TlsFront> {
  const open = new Set<net.Socket>();
  const server = tls.createServer(
    {
      cert: readFileSync(pki.serverCert),
      key: readFileSync(pki.serverKey),
      ca: readFileSync(pki.ca),
      requestCert: true,
      rejectUnauthorized: true,
      allowHalfOpen: true,
    },
    (client) => {
      const back = net.connect({ path: socketPath, allowHalfOpen: true });
      open.add(client);
      open.add(back);
      client.pipe(back);
      back.pipe(client);
      const drop = () => {
        client.destroy();
        back.destroy();
        open.delete(client);
        open.delete(back);
      };
      client.on('error', drop);
      back.on('error', drop);
      client.on('close', drop);
      back.on('close', drop);
    },
  );
  server.on('tlsClientError', () => {});
  // Sockets still in (or refused at) the handshake never reach the handler above; track the raw
  // connections too so close() does not wait on them.
  server.on('connection', (raw: net.Socket) => {
    open.add(raw);
    raw.on('close', () => open.delete(raw));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of open) s.destroy();
      }),
  };
}
