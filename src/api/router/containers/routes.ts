// /containers/*: create, list, inspect, start, stop, kill, wait, attach, logs, remove.
import { InvalidArgumentError } from '../../../errdefs/index.ts';
import type {
  ContainerConfig,
  ContainerRecord,
  HostConfig,
  NetworkingConfig,
  WaitCondition,
} from '../../../containers/index.ts';
import {
  formatTimestamp,
  muxFrame,
  muxLogRecords,
  readLogs,
  readRotatedBatches,
} from '../../../logs/index.ts';
import {
  boolParam,
  intParam,
  parseFilters,
  readJsonBody,
  sendJson,
  sendNoContent,
  terminalSize,
} from '../../http.ts';
import type { Route } from '../../server.ts';
import type { ContainersBackend } from './backend.ts';
import { resourceRoutes } from './resources.ts';
import { inspectView, summaryView } from './views.ts';

/** The create body once decoded against the Engine API's types (validate/containerCreate). */
interface CreateBody {
  Image?: string;
  Env?: string[];
  Cmd?: string | string[];
  Entrypoint?: string | string[];
  User?: string;
  WorkingDir?: string;
  Hostname?: string;
  Domainname?: string;
  StopSignal?: string;
  MacAddress?: string;
  StopTimeout?: number;
  Healthcheck?: NonNullable<ContainerConfig['Healthcheck']>;
  Labels?: Record<string, string>;
  ExposedPorts?: Record<string, Record<string, never>>;
  Volumes?: Record<string, Record<string, never>>;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  HostConfig?: HostConfig;
  NetworkingConfig?: NetworkingConfig;
}

/** docker's StrSlice: one string is a one-word list. */
function strSlice(v: string | string[] | undefined): string[] | undefined {
  return typeof v === 'string' ? [v] : v;
}

function parseCreateBody(b: CreateBody | undefined) {
  if (!b) {
    throw new InvalidArgumentError('INVALID_BODY', 'config cannot be empty in order to create a container');
  }
  if (!b.Image) {
    throw new InvalidArgumentError('NO_IMAGE', 'no image given: set "Image" in the create request');
  }
  const cmd = strSlice(b.Cmd);
  const entrypoint = strSlice(b.Entrypoint);
  const opt = <K extends keyof CreateBody>(k: K) =>
    (b[k] !== undefined ? { [k]: b[k] } : {}) as { [P in K]?: NonNullable<CreateBody[P]> };
  return {
    config: {
      Image: b.Image,
      Env: b.Env ?? [],
      ...(cmd !== undefined ? { Cmd: cmd } : {}),
      ...(entrypoint !== undefined ? { Entrypoint: entrypoint } : {}),
      ...opt('User'),
      ...opt('WorkingDir'),
      ...opt('Hostname'),
      ...opt('Domainname'),
      ...opt('StopSignal'),
      ...(b.MacAddress ? { MacAddress: b.MacAddress } : {}),
      ...opt('StopTimeout'),
      ...opt('Healthcheck'),
      ...opt('Labels'),
      ...opt('ExposedPorts'),
      ...(b.Volumes && Object.keys(b.Volumes).length > 0 ? { Volumes: b.Volumes } : {}),
      Tty: b.Tty === true,
      OpenStdin: b.OpenStdin === true,
      StdinOnce: b.StdinOnce === true,
      AttachStdin: b.AttachStdin === true,
      AttachStdout: b.AttachStdout === true,
      AttachStderr: b.AttachStderr === true,
    },
    hostConfig: b.HostConfig ?? {},
    ...(b.NetworkingConfig ? { networkingConfig: b.NetworkingConfig } : {}),
  };
}

function listFilters(recs: ContainerRecord[], f: Map<string, string[]>): ContainerRecord[] {
  return recs.filter((r) => {
    if (f.has('id') && !f.get('id')!.some((v) => r.id.startsWith(v))) return false;
    if (f.has('name') && !f.get('name')!.some((v) => new RegExp(v.replace(/^\//, '')).test(r.name)))
      return false;
    if (f.has('status') && !f.get('status')!.includes(r.state.status)) return false;
    if (
      f.has('exited') &&
      !(r.state.status === 'exited' && f.get('exited')!.includes(String(r.state.exitCode)))
    )
      return false;
    if (f.has('label')) {
      for (const l of f.get('label')!) {
        const eq = l.indexOf('=');
        const ok =
          eq === -1 ? Object.hasOwn(r.config.Labels, l) : r.config.Labels[l.slice(0, eq)] === l.slice(eq + 1);
        if (!ok) return false;
      }
    }
    if (f.has('ancestor') && !f.get('ancestor')!.some((a) => r.config.Image === a || r.imageId.includes(a)))
      return false;
    return true;
  });
}

export function containerRoutes(backend: ContainersBackend): Route[] {
  return [
    ...resourceRoutes(backend),
    {
      method: 'POST',
      path: '/containers/create',
      handler: async (ctx) => {
        const { config, hostConfig, networkingConfig } = parseCreateBody(
          await readJsonBody<CreateBody>(ctx.req, 'containerCreate'),
        );
        const name = ctx.query.get('name') ?? undefined;
        const r = await backend.create({
          ...(name ? { name } : {}),
          config,
          hostConfig,
          ...(networkingConfig ? { networkingConfig } : {}),
        });
        sendJson(ctx.res, 201, { Id: r.id, Warnings: r.warnings });
      },
    },
    {
      method: 'GET',
      path: '/containers/json',
      handler: (ctx) => {
        const f = parseFilters(ctx.query, [
          'id',
          'name',
          'label',
          'status',
          'ancestor',
          'exited',
          'before',
          'since',
        ]);
        let recs = backend.list();
        if (!boolParam(ctx.query, 'all') && !f.has('status') && !f.has('exited')) {
          recs = recs.filter((r) => r.state.status === 'running' || r.state.status === 'paused');
        }
        recs = listFilters(recs, f);
        recs.sort((a, b) => (a.created < b.created ? 1 : -1));
        const limit = intParam(ctx.query, 'limit');
        if (limit !== undefined && limit > 0) recs = recs.slice(0, limit);
        sendJson(
          ctx.res,
          200,
          recs.map((r) => summaryView(r, backend.networks(r))),
        );
      },
    },
    {
      method: 'GET',
      path: '/containers/:id/json',
      handler: (ctx) => {
        const rec = backend.find(ctx.params.id!);
        sendJson(ctx.res, 200, inspectView(rec, backend.graphDriver(rec), backend.networks(rec)));
      },
    },
    {
      method: 'POST',
      path: '/containers/:id/start',
      handler: async (ctx) => {
        await backend.start(ctx.params.id!);
        sendNoContent(ctx.res);
      },
    },
    {
      method: 'POST',
      path: '/containers/:id/stop',
      handler: async (ctx) => {
        await backend.stop(ctx.params.id!, intParam(ctx.query, 't'), ctx.query.get('signal') ?? undefined);
        sendNoContent(ctx.res);
      },
    },
    {
      method: 'POST',
      path: '/containers/:id/kill',
      handler: async (ctx) => {
        await backend.kill(ctx.params.id!, ctx.query.get('signal') || 'SIGKILL');
        sendNoContent(ctx.res);
      },
    },
    {
      method: 'POST',
      path: '/containers/:id/wait',
      handler: async (ctx) => {
        const c = ctx.query.get('condition') || 'not-running';
        if (!['not-running', 'next-exit', 'removed'].includes(c)) {
          throw new InvalidArgumentError(
            'INVALID_CONDITION',
            `invalid condition: "${c}"; use not-running, next-exit or removed`,
          );
        }
        const done = backend.wait(ctx.params.id!, c as WaitCondition, ctx.signal);
        // Headers go out as soon as the wait is registered: clients start the container after.
        ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
        ctx.res.flushHeaders();
        const r = await done;
        ctx.res.end(JSON.stringify({ StatusCode: r.code, Error: r.error ? { Message: r.error } : null }));
      },
    },
    ...(['pause', 'unpause'] as const).map(
      (verb): Route => ({
        method: 'POST',
        path: `/containers/:id/${verb}`,
        handler: async (ctx) => {
          await backend[verb](ctx.params.id!);
          sendNoContent(ctx.res);
        },
      }),
    ),
    {
      method: 'GET',
      path: '/containers/:id/top',
      handler: async (ctx) => {
        const r = await backend.top(ctx.params.id!, ctx.query.get('ps_args') || undefined);
        sendJson(ctx.res, 200, { Titles: r.titles, Processes: r.processes });
      },
    },
    {
      method: 'POST',
      path: '/containers/:id/resize',
      handler: async (ctx) => {
        const { height, width } = terminalSize(ctx.query);
        await backend.resize(ctx.params.id!, height, width);
        ctx.res.writeHead(200).end();
      },
    },
    {
      method: 'POST',
      path: '/containers/:id/restart',
      handler: async (ctx) => {
        await backend.restart(ctx.params.id!, intParam(ctx.query, 't'));
        sendNoContent(ctx.res);
      },
    },
    {
      method: 'POST',
      path: '/containers/:id/rename',
      handler: async (ctx) => {
        const name = ctx.query.get('name');
        if (!name)
          throw new InvalidArgumentError(
            'NO_NAME',
            'missing the new name: POST /containers/{id}/rename?name=NEW',
          );
        await backend.rename(ctx.params.id!, name);
        sendNoContent(ctx.res);
      },
    },
    {
      method: 'POST',
      path: '/containers/prune',
      handler: async (ctx) => {
        const f = parseFilters(ctx.query, ['label', 'until']);
        const labels = f.get('label') ?? [];
        const until = f.get('until')?.[0];
        const untilMs = until
          ? Number.isNaN(Date.parse(until))
            ? Date.now() - Number.parseFloat(until) * 1000
            : Date.parse(until)
          : undefined;
        const removed = await backend.prune((r) => {
          if (untilMs !== undefined && !(Date.parse(r.created) < untilMs)) return false;
          return labels.every((l) => {
            const eq = l.indexOf('=');
            return eq === -1
              ? Object.hasOwn(r.config.Labels, l)
              : r.config.Labels[l.slice(0, eq)] === l.slice(eq + 1);
          });
        });
        sendJson(ctx.res, 200, { ContainersDeleted: removed.length > 0 ? removed : null, SpaceReclaimed: 0 });
      },
    },
    {
      method: 'DELETE',
      path: '/containers/:id',
      handler: async (ctx) => {
        await backend.remove(ctx.params.id!, {
          force: boolParam(ctx.query, 'force'),
          volumes: boolParam(ctx.query, 'v'),
        });
        sendNoContent(ctx.res);
      },
    },
    {
      method: 'GET',
      path: '/containers/:id/logs',
      handler: async (ctx) => {
        const rec = backend.find(ctx.params.id!);
        const stdout = boolParam(ctx.query, 'stdout');
        const stderr = boolParam(ctx.query, 'stderr');
        if (!stdout && !stderr) {
          throw new InvalidArgumentError(
            'NO_STREAMS',
            'you must choose at least one stream: stdout or stderr',
          );
        }
        const tailRaw = ctx.query.get('tail');
        const tail = tailRaw === null || tailRaw === 'all' || tailRaw === '' ? 'all' : Number(tailRaw);
        const since = Number(ctx.query.get('since') ?? 0) || undefined;
        const until = Number(ctx.query.get('until') ?? 0) || undefined;
        const follow =
          boolParam(ctx.query, 'follow') && (rec.state.status === 'running' || rec.state.status === 'paused');
        const timestamps = boolParam(ctx.query, 'timestamps');
        const tty = rec.config.Tty;
        ctx.res.writeHead(200, {
          'Content-Type': tty
            ? 'application/vnd.docker.raw-stream'
            : 'application/vnd.docker.multiplexed-stream',
        });
        ctx.res.flushHeaders();
        const exited = follow
          ? backend.wait(rec.id, 'not-running', ctx.signal).then(() => {})
          : Promise.resolve();
        exited.catch(() => {});
        // Batches (one per 256 KiB read) framed in one buffer: per-record writes cap throughput.
        const policy = backend.logPolicy(rec);
        // --details: the attributes chosen by the labels/env log options, before each line.
        const details = boolParam(ctx.query, 'details')
          ? Buffer.from(
              `${Object.keys(policy.details)
                .sort()
                .map((k) => `${k}=${policy.details[k]}`)
                .join(',')} `,
            )
          : undefined;
        for await (const raw of readRotatedBatches(backend.logPath(rec.id), policy.maxFiles, {
          follow,
          tail: Number.isFinite(tail) ? tail : 'all',
          ...(since !== undefined ? { since } : {}),
          ...(until !== undefined ? { until } : {}),
          stdout,
          stderr,
          signal: ctx.signal,
          exited,
        })) {
          const batch = details ? raw.map((r) => ({ ...r, data: Buffer.concat([details, r.data]) })) : raw;
          const out = tty
            ? Buffer.concat(
                batch.map((r) =>
                  timestamps ? Buffer.concat([Buffer.from(`${formatTimestamp(r.time)} `), r.data]) : r.data,
                ),
              )
            : muxLogRecords(batch, { timestamps });
          if (!ctx.res.write(out)) await new Promise((res) => ctx.res.once('drain', res));
        }
        ctx.res.end();
      },
    },
    {
      method: 'POST',
      path: '/containers/:id/attach',
      handler: async (ctx) => {
        const rec = backend.find(ctx.params.id!);
        const stream = boolParam(ctx.query, 'stream');
        const logs = boolParam(ctx.query, 'logs');
        const stdout = boolParam(ctx.query, 'stdout');
        const stderr = boolParam(ctx.query, 'stderr');
        const tty = rec.config.Tty;
        // Registered before anything else so an exit right after start is never missed.
        const exited = backend.wait(rec.id, 'next-exit').then(() => {});
        exited.catch(() => {});
        const conn = ctx.hijack(
          tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream',
        );
        const abort = new AbortController();
        conn.on('close', () => abort.abort());
        conn.on('error', () => abort.abort());
        if (boolParam(ctx.query, 'stdin') && rec.config.OpenStdin && backend.feedStdin) {
          void backend.feedStdin(rec.id, conn, abort.signal).catch(() => {});
        } else {
          conn.on('data', () => {}); // no stdin wanted: read and drop what the client sends
        }
        try {
          if (logs || stream) {
            for await (const r of readLogs(backend.logPath(rec.id), {
              follow: stream,
              tail: logs ? 'all' : 0,
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
          if (!abort.signal.aborted) throw err;
        }
        conn.end();
      },
    },
  ];
}
