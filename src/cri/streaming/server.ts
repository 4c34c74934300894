// The CRI streaming server: Exec, Attach and PortForward RPCs answer with a URL on this HTTP
// server (`/exec/<token>`, `/attach/<token>`, `/portforward/<token>`), and the kubelet or crictl
// connects there and upgrades. As the kubelet's own (k8s.io/kubelet/pkg/cri/streaming): the
// request waits under a single-use token for a minute; an unknown, used or expired token is
// 404; GET and POST are both accepted. Transports: SPDY/3.1 (remotecommand v1-v4,
// portforward.k8s.io: what the kubelet and crictl use) and websocket with the remotecommand
// channel protocols (v5/v4/base64/channel.k8s.io) and port-forward's v4 channels.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { status } from '@grpc/grpc-js';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Log } from '../../base/log.ts';
import { CriError, invalidField } from '../errors.ts';
import type { Handlers, Msg } from '../server.ts';
import { parseStreamingAddress } from './address.ts';
import type { SessionIO, StreamingBackend } from './backend.ts';
import { servePortForwardWs, portForwardChannels } from './portforward.ts';
import { serveRemoteCommand } from './remotecommand.ts';
import type { SpdyConnection } from './spdy.ts';
import {
  PORTFORWARD_SPDY,
  REMOTECOMMAND_SPDY,
  servePortForwardSpdy,
  serveRemoteCommandSpdy,
  upgradeSpdy,
} from './spdy-sessions.ts';
import { RequestTokens } from './tokens.ts';
import {
  ChannelConn,
  type ChannelKind,
  type ChannelProtocol,
  negotiateProtocol,
  offeredProtocols,
} from './ws-channels.ts';

/** The kubelet's default idle timeout of a streaming connection. */
const IDLE_TIMEOUT_MS = 4 * 60 * 60 * 1000;

type Pending =
  | {
      readonly kind: 'exec';
      readonly containerId: string;
      readonly cmd: readonly string[];
      readonly opts: StreamOpts;
    }
  | { readonly kind: 'attach'; readonly containerId: string; readonly opts: StreamOpts }
  | { readonly kind: 'portforward'; readonly sandboxId: string; readonly ports: readonly number[] };

interface StreamOpts {
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
}

/** Websocket subprotocols of exec/attach (remotecommand/websocket.go, plus v5's close signal). */
const REMOTECOMMAND_WS: Record<string, ChannelProtocol & { readonly jsonStatus: boolean }> = {
  'v5.channel.k8s.io': { base64: false, closeSignal: true, jsonStatus: true },
  'v4.channel.k8s.io': { base64: false, closeSignal: false, jsonStatus: true },
  'v4.base64.channel.k8s.io': { base64: true, closeSignal: false, jsonStatus: true },
  'channel.k8s.io': { base64: false, closeSignal: false, jsonStatus: false },
  'base64.channel.k8s.io': { base64: true, closeSignal: false, jsonStatus: false },
  '': { base64: false, closeSignal: false, jsonStatus: false },
};
/** Websocket subprotocols of port-forward (portforward/websocket.go). */
const PORTFORWARD_WS: Record<string, ChannelProtocol> = {
  'v4.channel.k8s.io': { base64: false, closeSignal: false },
  'v4.base64.channel.k8s.io': { base64: true, closeSignal: false },
  '': { base64: false, closeSignal: false },
};

const ROUTE = /^\/(exec|attach|portforward)\/([A-Za-z0-9_-]+)$/;

export interface StreamingServerOptions {
  /** host:port to listen on; `127.0.0.1:0` picks a free loopback port. */
  readonly address: string;
  readonly backend: StreamingBackend;
  readonly log: Log;
  /** For tests of expiry: the tokens' clock. */
  readonly now?: () => number;
}

function httpError(socket: Duplex, code: number, text: string, message: string): void {
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${code} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export class StreamingServer {
  readonly #http: http.Server;
  readonly #wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  readonly #tokens: RequestTokens<Pending>;
  readonly #backend: StreamingBackend;
  readonly #log: Log;
  readonly #spdyConns = new Set<SpdyConnection>();
  #base = '';

  private constructor(opts: StreamingServerOptions) {
    this.#backend = opts.backend;
    this.#log = opts.log;
    this.#tokens = new RequestTokens(opts.now ? { now: opts.now } : {});
    this.#http = http.createServer((req, res) => this.#plain(req, res));
    this.#http.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#upgrade(req, socket, head),
    );
  }

  static async start(opts: StreamingServerOptions): Promise<StreamingServer> {
    const { host, port } = parseStreamingAddress(opts.address);
    const s = new StreamingServer(opts);
    await new Promise<void>((resolve, reject) => {
      s.#http.once('error', (err) =>
        reject(new Error(`cannot listen for CRI streaming on ${opts.address}: ${err.message}`)),
      );
      s.#http.listen(port, host, () => resolve());
    });
    const a = s.#http.address() as AddressInfo;
    // An unspecified bind address is not an address a client can use: hand out loopback.
    const urlHost =
      a.address === '0.0.0.0'
        ? '127.0.0.1'
        : a.address === '::'
          ? '[::1]'
          : a.family === 'IPv6'
            ? `[${a.address}]`
            : a.address;
    s.#base = `http://${urlHost}:${a.port}`;
    if (!(a.address.startsWith('127.') || a.address === '::1'))
      opts.log(
        'warn',
        'the CRI streaming server listens beyond loopback without TLS: a URL is its only credential',
        {
          address: opts.address,
        },
      );
    opts.log('info', 'CRI streaming server listening', { url: s.#base });
    return s;
  }

  /** http://HOST:PORT of the listening server. */
  get baseUrl(): string {
    return this.#base;
  }

  async close(): Promise<void> {
    for (const ws of this.#wss.clients) ws.terminate();
    for (const c of this.#spdyConns) c.destroy();
    this.#http.closeAllConnections();
    await new Promise<void>((r) => this.#http.close(() => r()));
  }

  /** The Exec/Attach/PortForward RPC handlers. */
  handlers(): Handlers {
    const b = this.#backend;
    return {
      Exec: async (req) => {
        const containerId = String(req.container_id ?? '');
        const opts = streamOpts(req);
        const cmd = ((req.cmd ?? []) as unknown[]).map(String);
        if (cmd.length === 0) throw invalidField('cmd', 'must name the command to run');
        if (!b.exec)
          throw new CriError(
            status.UNIMPLEMENTED,
            'Exec needs CRI containers, which this berthd does not serve yet',
          );
        await b.checkContainer?.(containerId);
        return { url: this.#url('exec', { kind: 'exec', containerId, cmd, opts }) };
      },
      Attach: async (req) => {
        const containerId = String(req.container_id ?? '');
        const opts = streamOpts(req);
        if (!b.attach)
          throw new CriError(
            status.UNIMPLEMENTED,
            'Attach needs CRI containers, which this berthd does not serve yet',
          );
        await b.checkContainer?.(containerId);
        return { url: this.#url('attach', { kind: 'attach', containerId, opts }) };
      },
      PortForward: async (req) => {
        const ref = String(req.pod_sandbox_id ?? '');
        if (!ref) throw invalidField('pod_sandbox_id', 'must not be empty');
        const ports = ((req.port ?? []) as unknown[]).map(Number);
        for (const p of ports)
          if (!Number.isInteger(p) || p < 1 || p > 65535)
            throw invalidField('port', `${p} is not a TCP port (1-65535)`);
        const sandboxId = await b.checkSandbox(ref);
        return { url: this.#url('portforward', { kind: 'portforward', sandboxId, ports }) };
      },
    };
  }

  #url(route: string, p: Pending): string {
    return `${this.#base}/${route}/${this.#tokens.insert(p)}`;
  }

  /** Routes and consumes the token; answers the error itself and returns undefined. */
  #take(
    req: http.IncomingMessage,
    fail: (code: number, text: string, msg: string) => void,
  ): Pending | undefined {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = ROUTE.exec(url.pathname);
    if (!m) return void fail(404, 'Not Found', '404 page not found');
    if (req.method !== 'GET' && req.method !== 'POST')
      return void fail(405, 'Method Not Allowed', `${req.method} is not allowed: use GET or POST`);
    const p = this.#tokens.consume(m[2] as string);
    // A token of another kind is as unknown as a made-up one (the kubelet's answer too).
    if (!p || p.kind !== m[1]) return void fail(404, 'Not Found', '404 page not found');
    return p;
  }

  /** A request without an upgrade: the token is spent, and the answer says what was missing. */
  #plain(req: http.IncomingMessage, res: http.ServerResponse): void {
    const fail = (code: number, _text: string, msg: string) => {
      res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${msg}\n`);
    };
    if (!this.#take(req, fail)) return;
    fail(
      400,
      'Bad Request',
      'unable to upgrade: the streaming server needs a websocket upgrade (Upgrade: websocket)',
    );
  }

  #upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const fail = (code: number, text: string, msg: string) => httpError(socket, code, text, msg);
    const p = this.#take(req, fail);
    if (!p) return;
    const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
    if (upgrade.split(',').some((u) => u.trim() === 'spdy/3.1')) {
      this.#spdy(req, socket, head, p);
      return;
    }
    if (upgrade !== 'websocket') {
      fail(
        400,
        'Bad Request',
        `unable to upgrade to "${req.headers.upgrade}": this server speaks SPDY/3.1 and websocket`,
      );
      return;
    }
    const table = p.kind === 'portforward' ? PORTFORWARD_WS : REMOTECOMMAND_WS;
    const served = Object.keys(table);
    const offered = offeredProtocols(req.headers['sec-websocket-protocol']);
    const chosen = negotiateProtocol(offered, served);
    if (chosen === undefined) {
      fail(
        400,
        'Bad Request',
        `requested protocol(s) are not supported: ${offered.join(', ')}; supports ${served.filter((s) => s).join(', ')}`,
      );
      return;
    }
    let ports: readonly number[] = [];
    if (p.kind === 'portforward') {
      const q = portsOf(p.ports, new URL(req.url ?? '/', 'http://x').searchParams.getAll('ports'));
      if (typeof q === 'string') {
        fail(400, 'Bad Request', q);
        return;
      }
      ports = q;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const proto = table[chosen] as ChannelProtocol & { jsonStatus?: boolean };
      if (p.kind === 'portforward') {
        const conn = new ChannelConn(ws, portForwardChannels(ports), proto, IDLE_TIMEOUT_MS);
        servePortForwardWs(conn, p.sandboxId, ports, (port, signal) =>
          this.#backend.portForward(p.sandboxId, port, signal),
        ).catch((err: Error) => {
          this.#log('warn', 'port-forward session failed', { sandbox: p.sandboxId, err: err.message });
          conn.close(1011, 'internal error');
        });
        return;
      }
      this.#remoteCommand(ws, p, proto as ChannelProtocol & { jsonStatus: boolean });
    });
  }

  #spdy(req: http.IncomingMessage, socket: Duplex, head: Buffer, p: Pending): void {
    const served = p.kind === 'portforward' ? PORTFORWARD_SPDY : REMOTECOMMAND_SPDY;
    const up = upgradeSpdy(req, socket, head, served, IDLE_TIMEOUT_MS);
    if (!up) return;
    this.#spdyConns.add(up.conn);
    up.conn.on('close', () => this.#spdyConns.delete(up.conn));
    if (p.kind === 'portforward') {
      void servePortForwardSpdy(up.conn, p.sandboxId, (port, signal) =>
        this.#backend.portForward(p.sandboxId, port, signal),
      );
      return;
    }
    serveRemoteCommandSpdy(up.conn, up.protocol, p.opts, p.kind === 'exec' ? p.cmd : [], (io) =>
      this.#run(p, io),
    ).then(
      (outcome) => {
        if (outcome?.kind === 'error')
          this.#log('warn', `${p.kind} session failed`, { container: p.containerId, err: outcome.message });
      },
      (err: Error) => {
        this.#log('warn', `${p.kind} session failed`, { container: p.containerId, err: err.message });
        void up.conn.close();
      },
    );
  }

  async #run(p: Extract<Pending, { kind: 'exec' | 'attach' }>, io: SessionIO): Promise<number | undefined> {
    const b = this.#backend;
    if (p.kind === 'exec') {
      if (!b.exec) throw new Error('exec is not served');
      return b.exec(p.containerId, p.cmd, io);
    }
    if (!b.attach) throw new Error('attach is not served');
    await b.attach(p.containerId, io);
    return undefined;
  }

  #remoteCommand(
    ws: WebSocket,
    p: Extract<Pending, { kind: 'exec' | 'attach' }>,
    proto: ChannelProtocol & { jsonStatus: boolean },
  ): void {
    const o = p.opts;
    const kinds: ChannelKind[] = [
      o.stdin ? 'read' : 'ignore',
      o.stdout ? 'write' : 'ignore',
      o.stderr ? 'write' : 'ignore',
      'write',
      'read',
    ];
    const conn = new ChannelConn(ws, kinds, proto, IDLE_TIMEOUT_MS);
    const ac = new AbortController();
    conn.closed.then(() => ac.abort(new Error('the streaming client went away')));
    // An empty message on the lowest writable channel tells the client the session is up.
    void conn.send(o.stdout ? 1 : o.stderr ? 2 : 3, Buffer.alloc(0));
    serveRemoteCommand(
      {
        tty: o.tty,
        ...(o.stdin ? { stdin: conn.readable(0) } : {}),
        ...(o.stdout ? { stdout: conn.writable(1) } : {}),
        ...(o.stderr ? { stderr: conn.writable(2) } : {}),
        resize: conn.readable(4),
        writeError: (d) => conn.send(3, d),
        jsonStatus: proto.jsonStatus,
      },
      p.kind === 'exec' ? p.cmd : [],
      ac.signal,
      (io) => this.#run(p, io),
    )
      .then((outcome) => {
        if (outcome.kind === 'error')
          this.#log('warn', `${p.kind} session failed`, { container: p.containerId, err: outcome.message });
      })
      .finally(() => conn.close());
  }
}

function streamOpts(req: Msg): StreamOpts {
  if (!String(req.container_id ?? '')) throw invalidField('container_id', 'must not be empty');
  const o = {
    stdin: req.stdin === true,
    stdout: req.stdout === true,
    stderr: req.stderr === true,
    tty: req.tty === true,
  };
  // A terminal has one output stream: the kubelet refuses both, as does this.
  if (o.tty && o.stderr)
    throw invalidField('stderr', 'tty and stderr cannot both be true (a terminal merges them)');
  if (!o.stdin && !o.stdout && !o.stderr)
    throw invalidField('stdin', 'one of stdin, stdout, or stderr must be set');
  return o;
}

/** The request's ports, else the `ports` query parameter (the kubelet's own websocket form). */
function portsOf(fromRequest: readonly number[], query: string[]): readonly number[] | string {
  if (fromRequest.length > 0) return fromRequest;
  if (query.length === 0) return 'query parameter "ports" is required (no port was given to PortForward)';
  const out: number[] = [];
  for (const q of query)
    for (const s of q.split(',')) {
      const n = /^\d{1,5}$/.test(s) ? Number(s) : Number.NaN;
      if (!(n >= 1 && n <= 65535)) return `unable to parse "${s}" as a port: must be 1-65535`;
      out.push(n);
    }
  return out;
}
