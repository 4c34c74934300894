import type { Log } from '../base/log.ts';
// The Docker Engine API over HTTP: version negotiation, routing, error mapping. Handlers live in
// router/<area>/ and see the daemon only through their role interfaces.
import { type IncomingMessage, ServerResponse } from 'node:http';
import { Duplex } from 'node:stream';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import { traceEnabled, traceRequest } from '../base/trace.ts';
import { InvalidArgumentError, NotFoundError } from '../errdefs/index.ts';
import { writeError } from './errors.ts';
import type { RequestContext } from './http.ts';
import { API_VERSION, compareVersions, MIN_API_VERSION } from './versions/index.ts';

export { API_VERSION, MIN_API_VERSION } from './versions/index.ts';

export type Handler = (ctx: RequestContext) => Promise<void> | void;

export interface Route {
  readonly method: HTTPMethod;
  readonly path: string;
  readonly handler: Handler;
}

export interface ApiServerOptions {
  readonly routes: readonly Route[];
  readonly serverHeader: string;
  readonly log: Log;
}

const VERSION_PREFIX = /^\/v(\d+\.\d+)(\/.*)$/;

/**
 * The path with its object id replaced ("/containers/:id/start"), only worked out when tracing,
 * so 20 runs of one command group under one label.
 */
function routeLabel(pathname: string): string {
  if (!traceEnabled()) return pathname;
  const bare = VERSION_PREFIX.exec(pathname)?.[2] ?? pathname;
  return bare.replace(/^\/(containers|exec|networks|volumes)\/(?!json$|create$|prune$)[^/]+/, '/$1/:id');
}

export interface ApiHandlers {
  request(req: IncomingMessage, res: ServerResponse): void;
  /** http.Server 'upgrade' events: attach and exec hijack the connection. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /**
   * Shutdown: ends every open request at once — hijacked attach/exec sockets (which the http
   * server no longer tracks, and whose wait held `server.close` until the forced exit) and
   * streaming answers (logs -f, events, wait) — and refuses new ones.
   */
  closeSessions(): void;
}

export function createApiHandler(opts: ApiServerOptions): ApiHandlers {
  const router = FindMyWay({ ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 1024 });
  const handlers: Handler[] = [];
  for (const r of opts.routes) {
    handlers.push(r.handler);
    router.on(r.method, r.path, () => {}, { index: handlers.length - 1 });
  }

  // Everything a request holds open, so shutdown can end it; entries leave when they close.
  const open = new Set<{ destroy(): unknown }>();
  let closing = false;
  const track = (x: { destroy(): unknown; once(e: 'close', f: () => void): unknown }) => {
    open.add(x);
    x.once('close', () => open.delete(x));
  };

  const handle = (req: IncomingMessage, res: ServerResponse, upgraded?: { socket: Duplex; head: Buffer }) => {
    if (closing) {
      (upgraded?.socket ?? res).destroy();
      return;
    }
    track(res);
    if (upgraded) track(upgraded.socket);
    const started = performance.now();
    res.setHeader('Server', opts.serverHeader);
    res.setHeader('Api-Version', API_VERSION);
    res.setHeader('Docker-Experimental', 'false');
    res.setHeader('Ostype', 'linux');
    const url = new URL(req.url ?? '/', 'http://berth');
    let pathname = url.pathname;
    let version = API_VERSION;
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const finish = () =>
      opts.log('debug', 'request', {
        method: req.method,
        path: url.pathname,
        status: res.statusCode,
        ms: Math.round(performance.now() - started),
      });
    res.on('finish', finish);
    // A client that half-closes once its request is sent (dial-stdio at its stdin's EOF) still
    // gets a plain answer (the listener is half-open), but a stream it left (events, logs -f)
    // ends, as Go's server cancels the request at EOF. Hijacked streams keep their half-close.
    let carriesStream = false;
    if (!upgraded) {
      const onEnd = () => {
        if (res.headersSent && !res.writableFinished && !carriesStream) res.destroy();
      };
      req.socket.once('end', onEnd);
      res.once('close', () => req.socket.off('end', onEnd));
    }

    const run = async () => {
      const m = VERSION_PREFIX.exec(pathname);
      if (m) {
        version = m[1]!;
        pathname = m[2]!;
        if (compareVersions(version, API_VERSION) > 0) {
          throw new InvalidArgumentError(
            'API_VERSION_TOO_NEW',
            `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`,
          );
        }
        if (compareVersions(version, MIN_API_VERSION) < 0) {
          throw new InvalidArgumentError(
            'API_VERSION_TOO_OLD',
            `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`,
          );
        }
      }
      const found = router.find((req.method ?? 'GET') as HTTPMethod, pathname);
      if (!found) {
        throw new NotFoundError(
          'ROUTE_NOT_FOUND',
          `page not found: ${req.method} ${url.pathname} is not an Engine API endpoint`,
        );
      }
      const index = (found.store as { index: number }).index;
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(found.params)) if (v !== undefined) params[k] = v;
      const hijack = (contentType = 'application/vnd.docker.raw-stream'): Duplex => {
        if (upgraded) {
          const { socket, head } = upgraded;
          res.detachSocket(socket as never);
          socket.write(
            `HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`,
          );
          if (head.length > 0) socket.unshift(head);
          return socket;
        }
        // No upgrade asked: a plain response carries the stream (dockerode without hijack).
        carriesStream = true;
        res.writeHead(200, { 'Content-Type': contentType });
        res.flushHeaders();
        return streamOf(req, res);
      };
      await handlers[index]!({
        req,
        res,
        params,
        query: url.searchParams,
        version,
        signal: abort.signal,
        hijack,
      });
    };
    // The record is labelled by the route pattern, so 20 runs of one command group together.
    const traced = traceRequest(`${req.method} ${routeLabel(pathname)}`, run);
    res.once('close', traced.end);
    traced.result.catch((err: unknown) => {
      // A client that hung up aborts its handler: nothing failed.
      if (abort.signal.aborted && (err as Error)?.name === 'AbortError') return;
      if ((err as { kind?: string }).kind === undefined) {
        opts.log('error', 'handler failed', {
          path: url.pathname,
          err: String((err as Error)?.stack ?? err),
        });
      }
      // Let the client finish sending its upload first (bounded), so it reads the error reply
      // instead of a reset connection while it is still writing.
      drainRequest(req, 5_000).then(() => writeError(res, err));
    });
  };
  const apiHandlers: ApiHandlers = {
    closeSessions: () => {
      closing = true;
      for (const x of [...open]) x.destroy();
      open.clear();
    },
    request: (req, res) => handle(req, res),
    upgrade: (req, socket, head) => {
      if (closing) {
        socket.destroy();
        return;
      }
      track(socket);
      // Node does not parse the body of an upgrade request: it arrives in `head` or on the socket.
      // Read Content-Length bytes first so the handler sees its JSON and the stream starts clean.
      const want = Number(req.headers['content-length'] ?? 0);
      // Once the body was read (below), the second pass must not wait for it again: that wait
      // never ended whenever the body came in a later packet than the headers, which hung
      // `docker exec` now and then under load.
      const haveBody = (req as { berthBody?: Buffer }).berthBody !== undefined;
      if (want > 0 && !haveBody && head.length < want) {
        const chunks = [head];
        let have = head.length;
        const onData = (c: Buffer) => {
          chunks.push(c);
          have += c.length;
          if (have >= want) {
            socket.off('data', onData);
            socket.pause();
            const all = Buffer.concat(chunks);
            if (all.length > want) socket.unshift(all.subarray(want));
            (req as { berthBody?: Buffer }).berthBody = all.subarray(0, want);
            apiHandlers.upgrade(req, socket, Buffer.alloc(0));
          }
        };
        socket.on('data', onData);
        // The http server pauses an upgraded socket; a 'data' listener alone does not resume it.
        socket.resume();
        return;
      }
      if (want > 0 && (req as { berthBody?: Buffer }).berthBody === undefined) {
        (req as { berthBody?: Buffer }).berthBody = head.subarray(0, want);
        head = head.subarray(want);
      }
      const res = new ServerResponse(req);
      res.assignSocket(socket as never);
      res.shouldKeepAlive = false;
      socket.on('error', () => socket.destroy());
      handle(req, res, { socket, head });
    },
  };
  return apiHandlers;
}

/** A Duplex view of a request/response pair, for raw streams without the upgrade. */
function streamOf(req: IncomingMessage, res: ServerResponse): Duplex {
  const d = new Duplex({
    read() {
      req.resume();
    },
    write(chunk, _enc, cb) {
      res.write(chunk, cb);
    },
    final(cb) {
      res.end(cb);
    },
  });
  req.on('data', (c: Buffer) => {
    if (!d.push(c)) req.pause();
  });
  req.on('end', () => d.push(null));
  res.on('close', () => d.destroy());
  return d;
}

function drainRequest(req: IncomingMessage, maxMs: number): Promise<void> {
  if (req.readableEnded || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, maxMs);
    function done() {
      clearTimeout(timer);
      req.off('end', done);
      req.off('close', done);
      resolve();
    }
    req.on('end', done);
    req.on('close', done);
    req.resume();
  });
}
