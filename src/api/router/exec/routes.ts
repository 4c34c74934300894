// /containers/{id}/exec and /exec/*: create, start (hijacked stream), inspect, resize.
import type { ExecConfig, ExecRecord } from '../../../containers/index.ts';
import { InvalidArgumentError } from '../../../errdefs/index.ts';
import { muxFrame } from '../../../logs/index.ts';
import { readJsonBody, sendJson, terminalSize } from '../../http.ts';
import type { Route } from '../../server.ts';

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
          ...consoleSize(b.ConsoleSize),
        });
        sendJson(ctx.res, 201, { Id: id });
      },
    },
    {
      method: 'POST',
      path: '/exec/:id/start',
      handler: async (ctx) => {
        const b = (await readJsonBody<{ Detach?: boolean; Tty?: boolean }>(ctx.req, 'execStart')) ?? {};
        const e = backend.get(ctx.params.id!);
        if (b.Detach) {
          void backend.start(e.id, { onStdout: () => {}, onStderr: () => {} }).catch(() => {});
          ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
          ctx.res.end();
          return;
        }
        const tty = e.config.tty;
        const conn = ctx.hijack(
          tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream',
        );
        conn.on('error', () => {});
        const stdin = e.config.attachStdin ? conn : undefined;
        await backend.start(e.id, {
          ...(stdin ? { stdin } : {}),
          onStdout: (d) => {
            if (e.config.attachStdout) conn.write(tty ? d : muxFrame('stdout', d));
          },
          onStderr: (d) => {
            if (e.config.attachStderr) conn.write(muxFrame('stderr', d));
          },
        });
        conn.end();
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
          DetachKeys: '',
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
