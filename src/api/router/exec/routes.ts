// /containers/{id}/exec and /exec/*: create, start (hijacked stream), inspect, resize.
import type { ExecConfig, ExecRecord } from '../../../containers/index.ts';
import { ConflictError, errorMessage, InvalidArgumentError } from '../../../errdefs/index.ts';
import { muxFrame } from '../../../logs/index.ts';
import { readJsonBody, sendJson, terminalSize } from '../../http.ts';
import type { Route } from '../../server.ts';
import { detachKeyBytes, endHijacked, parseDetachKeys, watchDetachKeys } from '../../streams/detach-keys.ts';
import { apiHas } from '../../versions/index.ts';

export interface ExecBackend {
  create(containerRef: string, config: ExecConfig): string;
  get(id: string): ExecRecord;
  start(
    id: string,
    io: { stdin?: NodeJS.ReadableStream; onStdout(d: Buffer): void; onStderr(d: Buffer): void },
  ): Promise<number>;
  resize(id: string, height: number, width: number): void;
}

function strings(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw new InvalidArgumentError('INVALID_PARAMETER', `invalid ${field}: expected a list of strings`);
}

function consoleSize(v: unknown): { consoleSize?: { height: number; width: number } } {
  if (!Array.isArray(v) || v.length !== 2) return {};
  const [height, width] = v as unknown[];
  if (typeof height !== 'number' || typeof width !== 'number' || height <= 0 || width <= 0) return {};
  return { consoleSize: { height, width } };
}

/**
 * A body field by name, matched case-insensitively as Go's JSON decoding does: docker-py sends
 * `detachKeys` where the spec says `DetachKeys`.
 */
function field(b: Record<string, unknown>, name: string): unknown {
  if (name in b) return b[name];
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(b)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function detachKeysOf(v: unknown): { detachKeys?: string } {
  if (v === undefined || v === null || v === '') return {};
  if (typeof v !== 'string')
    throw new InvalidArgumentError(
      'INVALID_PARAMETER',
      'invalid DetachKeys: expected a string such as "ctrl-p,ctrl-q"',
    );
  parseDetachKeys(v, 'escape');
  return { detachKeys: v };
}

export function execRoutes(backend: ExecBackend): Route[] {
  return [
    {
      method: 'POST',
      path: '/containers/:id/exec',
      handler: async (ctx) => {
        const b = (await readJsonBody(ctx.req, 'execCreate')) ?? {};
        const id = backend.create(ctx.params.id!, {
          cmd: strings(b.Cmd, 'Cmd'),
          env: strings(b.Env, 'Env'),
          user: typeof b.User === 'string' ? b.User : '',
          workingDir: typeof b.WorkingDir === 'string' ? b.WorkingDir : '',
          tty: b.Tty === true,
          privileged: b.Privileged === true,
          attachStdin: b.AttachStdin === true,
          attachStdout: b.AttachStdout === true,
          attachStderr: b.AttachStderr === true,
          // ConsoleSize is API 1.42's.
          ...(apiHas(ctx.version, 'consoleSize') ? consoleSize(b.ConsoleSize) : {}),
          ...detachKeysOf(field(b, 'DetachKeys')),
        });
        sendJson(ctx.res, 201, { Id: id });
      },
    },
    {
      method: 'POST',
      path: '/exec/:id/start',
      handler: async (ctx) => {
        const e = backend.get(ctx.params.id!);
        const b = ((await readJsonBody(ctx.req, 'execStart')) ?? {}) as Record<string, unknown>;
        if (typeof b !== 'object' || Array.isArray(b))
          throw new InvalidArgumentError('INVALID_BODY', 'exec start config must be a JSON object');
        if (e.running || e.exitCode !== null)
          throw new ConflictError('EXEC_STARTED', `Exec ${e.id} has already been started`);
        const override = field(b, 'DetachKeys');
        const keys = parseDetachKeys(
          typeof override === 'string' && override !== '' ? override : e.config.detachKeys,
          'escape',
        );
        if (field(b, 'Detach') === true) {
          void backend.start(e.id, { onStdout: () => {}, onStderr: () => {} }).catch(() => {});
          ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
          ctx.res.end();
          return;
        }
        // The framing follows the start request's Tty, not the exec's (as Docker's router does):
        // a client that starts a TTY exec with Tty false reads the terminal's output as stdout
        // frames, and one that asks for Tty gets raw bytes even from pipes.
        const raw = field(b, 'Tty') === true;
        const upgrade = ctx.req.headers.upgrade !== undefined;
        // Docker names the multiplexed type only from API 1.42, and only on an upgrade.
        const multiplexedType = upgrade && !raw && apiHas(ctx.version, 'multiplexedContentType');
        const conn = ctx.hijack(
          multiplexedType ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream',
        );
        conn.on('error', () => {});
        let detached = false;
        let onDetach = () => {};
        const detach = new Promise<void>((resolve) => {
          onDetach = resolve;
        });
        // Only a terminal watches for the detach keys; then the exec keeps running after it.
        const stdin = !e.config.attachStdin
          ? undefined
          : e.config.tty
            ? watchDetachKeys(conn, keys, () => {
                detached = true;
                onDetach();
              })
            : conn;
        const send = (stream: 'stdout' | 'stderr', d: Buffer) => {
          if (!detached && !conn.destroyed) conn.write(raw ? d : muxFrame(stream, d));
        };
        const running = backend.start(e.id, {
          ...(stdin ? { stdin } : {}),
          onStdout: (d) => {
            if (e.config.attachStdout) send('stdout', d);
          },
          onStderr: (d) => {
            if (e.config.attachStderr) send('stderr', d);
          },
        });
        running.catch(() => {});
        try {
          await Promise.race([running, detach]);
        } catch (err) {
          // The stream is open: the error can only be told in it, on stdout and framed like any
          // output without a terminal (as Docker does); unframed, the docker CLI read the text
          // as a frame header ("Unrecognized input header").
          const text = Buffer.from(`${errorMessage(err)}\r\n`);
          if (!conn.destroyed) conn.write(raw ? text : muxFrame('stdout', text));
        }
        endHijacked(conn, detached);
      },
    },
    {
      method: 'GET',
      path: '/exec/:id/json',
      handler: (ctx) => {
        const e = backend.get(ctx.params.id!);
        sendJson(ctx.res, 200, {
          ID: e.id,
          ContainerID: e.containerId,
          Running: e.running,
          ExitCode: e.exitCode,
          Pid: e.pid,
          OpenStdin: e.config.attachStdin,
          OpenStdout: e.config.attachStdout,
          OpenStderr: e.config.attachStderr,
          CanRemove: false,
          // Docker's inspect carries the raw key bytes, hence base64 in JSON.
          DetachKeys: (detachKeyBytes(e.config.detachKeys ?? '') ?? Buffer.alloc(0)).toString('base64'),
          ProcessConfig: {
            tty: e.config.tty,
            entrypoint: e.config.cmd[0],
            arguments: e.config.cmd.slice(1),
            privileged: e.config.privileged,
            user: e.config.user,
          },
        });
      },
    },
    {
      method: 'POST',
      path: '/exec/:id/resize',
      handler: (ctx) => {
        const { height, width } = terminalSize(ctx.query);
        backend.resize(ctx.params.id!, height, width);
        ctx.res.writeHead(200);
        ctx.res.end();
      },
    },
  ];
}
