// POST /containers/{id}/attach: the hijacked stream of a container's stdin and output (from
// its log file, or from the monitor's attach socket for the `none` driver). Kept apart from the
// other container routes: it is the one long-lived, two-way stream among them.
import { promises as fsp } from 'node:fs';
import { errorMessage } from '../../../errdefs/index.ts';
import { muxFrame, readLogs } from '../../../logs/index.ts';
import { boolParam } from '../../http.ts';
import type { Route } from '../../server.ts';
import { endHijacked, parseDetachKeys, watchDetachKeys } from '../../streams/detach-keys.ts';
import { apiHas } from '../../versions/index.ts';
import type { ContainersBackend } from './backend.ts';

export function attachRoute(backend: ContainersBackend): Route {
  return {
    method: 'POST',
    path: '/containers/:id/attach',
    handler: async (ctx) => {
      const rec = backend.find(ctx.params.id!);
      const stream = boolParam(ctx.query, 'stream');
      const logs = boolParam(ctx.query, 'logs');
      const stdout = boolParam(ctx.query, 'stdout');
      const stderr = boolParam(ctx.query, 'stderr');
      const tty = rec.config.Tty;
      // Checked before the stream opens, so a bad value is a plain 400.
      const detachKeys = parseDetachKeys(ctx.query.get('detachKeys'), 'detach');
      // Registered before anything else so an exit right after start is never missed.
      const exited = backend.wait(rec.id, 'next-exit').then(() => {});
      // Where the live output starts, taken before the answer lets the client start the
      // container (docker run -i: attach, then start): a start taken at the first read could
      // already be past what a quick process wrote.
      const startOffset =
        stream && !logs
          ? await fsp.stat(backend.logPath(rec.id)).then(
              (s) => s.size,
              () => 0,
            )
          : undefined;
      exited.catch(() => {});
      // Docker names the multiplexed type from API 1.42, on an upgrade only.
      const multiplexedType =
        !tty && ctx.req.headers.upgrade !== undefined && apiHas(ctx.version, 'multiplexedContentType');
      const conn = ctx.hijack(
        multiplexedType ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream',
      );
      const abort = new AbortController();
      // The stdin relay stops on its own after a detach (below); on a hang-up it is stopped.
      const stdinAbort = new AbortController();
      let detached = false;
      const hangUp = () => {
        abort.abort();
        if (!detached) stdinAbort.abort();
        else setTimeout(() => stdinAbort.abort(), 2000).unref();
      };
      conn.on('close', hangUp);
      conn.on('error', hangUp);
      if (boolParam(ctx.query, 'stdin') && rec.config.OpenStdin && backend.feedStdin) {
        // With a terminal, the detach keys end this session (the output loop below stops on
        // the abort) and leave the container running. What was typed before them still goes
        // in: the relay gets an end of input, which with a terminal leaves the container's
        // stdin open (conmon --leave-stdin-open, as Docker closes stdin only without one).
        let stdin: NodeJS.ReadableStream = conn;
        if (tty) {
          const watched = watchDetachKeys(conn, detachKeys, () => {
            detached = true;
            watched.end();
            abort.abort();
          });
          stdin = watched;
        }
        void backend.feedStdin(rec.id, stdin, stdinAbort.signal).catch(() => {});
      } else {
        // No stdin wanted: read and drop what the client sends (resumed: the socket can come
        // paused, and a 'data' listener alone would leave it so).
        conn.on('data', () => {});
        conn.resume();
      }
      try {
        if (!stdout && !stderr) {
          // stdin alone (docker-py's attach_socket with stdin and stream): no output to
          // follow, the session lasts until the client leaves or detaches, or the container
          // exits.
          if (stream && !abort.signal.aborted)
            await Promise.race([
              exited,
              new Promise((res) => abort.signal.addEventListener('abort', res, { once: true })),
            ]);
        } else if (!backend.logPolicy(rec).localFile) {
          // `none`: no file keeps the output; a stream reads it from the monitor, live (there
          // are no earlier logs to replay).
          if (stream && backend.attachOutput)
            for await (const r of backend.attachOutput(rec.id, abort.signal, exited)) {
              // Only the streams asked for (`-a stdout`), as the log path selects them.
              if (!tty && (r.stream === 'stdout' ? !stdout : !stderr)) continue;
              if (!conn.write(tty ? r.data : muxFrame(r.stream, r.data)))
                await new Promise((res) => conn.once('drain', res));
            }
        } else if (logs || stream) {
          for await (const r of readLogs(backend.logPath(rec.id), {
            follow: stream,
            tail: logs ? 'all' : 0,
            startOffset,
            stdout,
            stderr,
            signal: abort.signal,
            exited,
          })) {
            if (!conn.write(tty ? r.data : muxFrame(r.stream, r.data))) {
              await new Promise((res) => conn.once('drain', res));
            }
          }
        }
      } catch (err) {
        // The stream is open: the error can only be told in it (as Docker does), then closed.
        if (!abort.signal.aborted) conn.write(`${errorMessage(err)}\r\n`);
      }
      endHijacked(conn, detached);
    },
  };
}
