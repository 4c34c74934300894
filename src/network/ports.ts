// Published ports. Each binding is served by a small proxy inside berthd listening on the host
// address (Docker's userland proxy does the same): it works from the host's loopback and from
// other containers without DNAT tricks. Trade-off: while berthd is down, published ports do not
// answer (containers keep running); the next berthd serves them again from the endpoint records.
import dgram from 'node:dgram';
import net from 'node:net';
import { ConflictError, InvalidArgumentError } from '../errdefs/index.ts';
import type { PortBinding } from './store.ts';

/** HostConfig.PortBindings / PublishAllPorts / ExposedPorts → bindings (hostPort 0 = pick one). */
export function planBindings(
  portBindings: Record<string, { HostIp?: string; HostPort?: string }[] | null> | undefined,
  publishAll: boolean,
  exposed: Record<string, unknown> | undefined,
): PortBinding[] {
  const out: PortBinding[] = [];
  const parseKey = (k: string) => {
    const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(k);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535)
      throw new InvalidArgumentError('INVALID_PORT', `invalid container port "${k}": use PORT[/tcp|udp]`);
    if (m[2] === 'sctp')
      throw new InvalidArgumentError('INVALID_PORT', `sctp ports are not supported by Berth`);
    return { containerPort: Number(m[1]), proto: (m[2] ?? 'tcp') as 'tcp' | 'udp' };
  };
  const seen = new Set<string>();
  for (const [k, list] of Object.entries(portBindings ?? {})) {
    const cp = parseKey(k);
    seen.add(`${cp.containerPort}/${cp.proto}`);
    for (const b of list ?? [{}]) {
      const hp = b.HostPort ?? '';
      // A range `8000-8001` here means "any free port in it"; Docker's CLI already splits ranges.
      const m = /^(\d+)(?:-(\d+))?$/.exec(hp);
      if (hp !== '' && (!m || Number(m[1]) > 65535))
        throw new InvalidArgumentError('INVALID_PORT', `invalid host port "${hp}" for ${k}`);
      const hostIp = b.HostIp ?? '';
      if (hostIp !== '' && net.isIP(hostIp) === 0)
        throw new InvalidArgumentError('INVALID_PORT', `invalid host IP "${hostIp}" for ${k}`);
      out.push({ ...cp, hostIp, hostPort: hp === '' ? 0 : Number(m![1]) });
    }
  }
  if (publishAll) {
    for (const k of Object.keys(exposed ?? {})) {
      const cp = parseKey(k);
      if (seen.has(`${cp.containerPort}/${cp.proto}`)) continue;
      out.push({ ...cp, hostIp: '', hostPort: 0 });
    }
  }
  return out;
}

export interface PortProxy {
  readonly binding: PortBinding;
  close(): Promise<void>;
}

/** Starts proxies for all bindings, or none: on any failure the started ones are closed. */
export async function startProxies(bindings: readonly PortBinding[], target: string): Promise<PortProxy[]> {
  const started: PortProxy[] = [];
  try {
    for (const b of bindings)
      started.push(b.proto === 'udp' ? await udpProxy(b, target) : await tcpProxy(b, target));
  } catch (err) {
    await Promise.all(started.map((p) => p.close()));
    throw err;
  }
  return started;
}

function inUse(b: PortBinding, err: NodeJS.ErrnoException): Error {
  const where = `${b.hostIp || '0.0.0.0'}:${b.hostPort}`;
  if (err.code === 'EADDRINUSE')
    return new ConflictError(
      'PORT_IN_USE',
      `Bind for ${where} failed: port is already allocated; choose another host port (-p OTHER:${b.containerPort})`,
    );
  return new InvalidArgumentError('PORT_BIND', `cannot listen on ${where}/${b.proto}: ${err.message}`);
}

function tcpProxy(b: PortBinding, target: string): Promise<PortProxy> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: target, port: b.containerPort });
    sockets.add(client).add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(inUse(b, err)));
    server.listen({ host: b.hostIp || '0.0.0.0', port: b.hostPort, exclusive: true }, () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        binding: { ...b, hostPort: port },
        close: () =>
          new Promise((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

function udpProxy(b: PortBinding, target: string): Promise<PortProxy> {
  const sock = dgram.createSocket('udp4');
  // One upstream socket per client address, so replies find their way back.
  const flows = new Map<string, dgram.Socket>();
  sock.on('message', (msg, rinfo) => {
    const key = `${rinfo.address}:${rinfo.port}`;
    let up = flows.get(key);
    if (!up) {
      up = dgram.createSocket('udp4');
      up.on('message', (reply) => sock.send(reply, rinfo.port, rinfo.address));
      up.on('error', () => {});
      flows.set(key, up);
    }
    up.send(msg, b.containerPort, target);
  });
  return new Promise((resolve, reject) => {
    sock.once('error', (err) => reject(inUse(b, err)));
    sock.bind({ address: b.hostIp || '0.0.0.0', port: b.hostPort, exclusive: true }, () => {
      resolve({
        binding: { ...b, hostPort: sock.address().port },
        close: async () => {
          for (const f of flows.values()) f.close();
          await new Promise<void>((r) => sock.close(() => r()));
        },
      });
    });
  });
}
