import { compileRegex } from '../../../base/patterns/index.ts';
import { ConflictError, InvalidArgumentError, NotImplementedError } from '../../../errdefs/index.ts';
import type {
  ContainerConfig,
  ContainerRecord,
  HostConfig,
  NetworkingConfig,
  WaitCondition,
} from '../../../containers/index.ts';
import { formatTimestamp, logFramingFor, muxLogRecords, readRotatedBatches } from '../../../logs/index.ts';
import {
  boolParam,
  intParam,
  parseFilters,
  readJsonBody,
  sendJson,
  sendNoContent,
  terminalSize,
} from '../../http.ts';
import { FILTERS, type Filters, labelsMatch, parseTimestamp } from '../../filters.ts';
import type { Route } from '../../server.ts';
import { adaptCreateBody, apiHas } from '../../versions/index.ts';
import { attachRoute } from './attach.ts';
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

/** One value of `publish=`/`expose=` as a port range and protocol (checked by FILTERS). */
function portFilter(v: string): { lo: number; hi: number; proto: string } {
  const [range = '', proto = 'tcp'] = v.toLowerCase().split('/');
  const [lo = '0', hi = lo] = range.split('-');
  return { lo: Number(lo), hi: Number(hi), proto };
}

const inPorts = (want: string[], have: { port: number; proto: string }[]) =>
  want.map(portFilter).some((w) => have.some((h) => h.proto === w.proto && h.port >= w.lo && h.port <= w.hi));

/**
 * `docker ps` filters, as moby's daemon/list.go applies them. `name=` values are Go regexes
 * compiled once per request by the linear-time engine (a JavaScript RegExp backtracks: `^(a|a)*$`
 * froze the daemon); as in Docker an exact name matches first, with or without the leading '/'.
 */
function listFilters(
  backend: ContainersBackend,
  all: readonly ContainerRecord[],
  f: Filters,
): ContainerRecord[] {
  const names = f.get('name')?.map((v) => ({ exact: v, re: compileRegex(v, 'name filter') }));
  const nameOk = (n: string) =>
    names!.some((p) => p.exact === n || p.exact === `/${n}` || p.re.test(`/${n}`) || p.re.test(n));
  // before/since name containers, which must exist (a 404 otherwise, as in Docker).
  const before = f.get('before')?.map((ref) => backend.find(ref).created);
  const since = f.get('since')?.map((ref) => backend.find(ref).created);
  const isTask = f.get('is-task')?.[0];
  return all.filter((r) => {
    if (f.has('id') && !f.get('id')!.some((v) => r.id.startsWith(v))) return false;
    if (names && !nameOk(r.name)) return false;
    if (f.has('status') && !f.get('status')!.includes(r.state.status)) return false;
    if (f.has('exited')) {
      const st = r.state;
      if (!(st.status === 'exited' && f.get('exited')!.some((v) => Number(v) === st.exitCode))) return false;
    }
    if (!labelsMatch(r.config.Labels, f)) return false;
    if (f.has('ancestor') && !f.get('ancestor')!.some((a) => r.config.Image === a || r.imageId.includes(a)))
      return false;
    if (before && !before.every((t) => r.created < t)) return false;
    if (since && !since.every((t) => r.created > t)) return false;
    if (f.has('health')) {
      const h = r.state.status === 'running' && r.health ? r.health.Status : 'none';
      if (!f.get('health')!.includes(h)) return false;
    }
    // Berth runs no swarm tasks.
    if (isTask !== undefined && (isTask === 'true' || isTask === '1')) return false;
    if (f.has('isolation') && !f.get('isolation')!.includes('default')) return false;
    if (f.has('volume')) {
      const mounts = r.mounts ?? [];
      if (!f.get('volume')!.some((v) => mounts.some((m) => m.Name === v || m.Destination === v)))
        return false;
    }
    if (f.has('network') || f.has('publish')) {
      const nets = backend.networks(r);
      if (
        f.has('network') &&
        !f
          .get('network')!
          .some((n) => nets.endpoints.some((e) => e.networkName === n || e.networkId.startsWith(n)))
      )
        return false;
      if (
        f.has('publish') &&
        !inPorts(
          f.get('publish')!,
          nets.ports.map((p) => ({ port: p.hostPort, proto: p.proto })),
        )
      )
        return false;
    }
    if (f.has('expose')) {
      const exposed = Object.keys(r.config.ExposedPorts ?? {}).map((k) => {
        const [port = '0', proto = 'tcp'] = k.split('/');
        return { port: Number(port), proto };
      });
      if (!inPorts(f.get('expose')!, exposed)) return false;
    }
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
        const body = await readJsonBody<CreateBody>(ctx.req, 'containerCreate');
        // Attached to the body, so endpoint settings the version rules add reach the service.
        if (body) {
          body.HostConfig ??= {};
          body.NetworkingConfig ??= {};
          body.NetworkingConfig.EndpointsConfig ??= {};
        }
        const endpoints = (body?.NetworkingConfig?.EndpointsConfig ?? {}) as Record<
          string,
          Record<string, unknown> | null
        >;
        // The body as this request's API version means it (versions/create.ts).
        const adapted = body
          ? adaptCreateBody(ctx.version, {
              config: body as Record<string, unknown>,
              hostConfig: body.HostConfig as Record<string, unknown>,
              endpoints,
            })
          : { warnings: [], extraEndpoints: [] };
        const { config, hostConfig, networkingConfig } = parseCreateBody(body);
        const name = ctx.query.get('name') ?? undefined;
        const r = await backend.create({
          ...(name ? { name } : {}),
          config,
          hostConfig,
          ...(networkingConfig ? { networkingConfig } : {}),
        });
        // API >= 1.44: the other networks of EndpointsConfig, connected before the reply; a
        // failure removes the new container, so a create succeeds or leaves nothing.
        for (const [net, settings] of adapted.extraEndpoints) {
          try {
            await backend.connectNetwork(net, r.id, settings ?? {});
          } catch (err) {
            await backend.remove(r.id, { force: true, volumes: true }).catch(() => {});
            throw err;
          }
        }
        sendJson(ctx.res, 201, { Id: r.id, Warnings: [...r.warnings, ...adapted.warnings] });
      },
    },
    {
      method: 'GET',
      path: '/containers/json',
      handler: async (ctx) => {
        const f = parseFilters(ctx.query, FILTERS.containerList);
        let recs = backend.list();
        if (!boolParam(ctx.query, 'all') && !f.has('status') && !f.has('exited')) {
          recs = recs.filter((r) => r.state.status === 'running' || r.state.status === 'paused');
        }
        recs = listFilters(backend, recs, f);
        recs.sort((a, b) => (a.created < b.created ? 1 : -1));
        const limit = intParam(ctx.query, 'limit');
        if (limit !== undefined && limit > 0) recs = recs.slice(0, limit);
        // `size=1` (ps -s): each container's SizeRw and SizeRootFs, as Docker adds them.
        const sized = boolParam(ctx.query, 'size');
        const views = recs.map(async (r) => {
          const v = summaryView(r, backend.networks(r), ctx.version);
          if (!sized) return v;
          const s = await backend.sizes(r);
          return { ...v, SizeRw: s.rw, SizeRootFs: s.rootFs };
        });
        sendJson(ctx.res, 200, await Promise.all(views));
      },
    },
    {
      method: 'GET',
      path: '/containers/:id/json',
      handler: async (ctx) => {
        const rec = backend.find(ctx.params.id!);
        const view = inspectView(rec, backend.graphDriver(rec), backend.networks(rec), ctx.version);
        if (!boolParam(ctx.query, 'size')) return sendJson(ctx.res, 200, view);
        const s = await backend.sizes(rec);
        sendJson(ctx.res, 200, { ...view, SizeRw: s.rw, SizeRootFs: s.rootFs });
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
        // `signal` is API 1.42's; older clients never meant one.
        const signal = apiHas(ctx.version, 'stopSignal') ? ctx.query.get('signal') || undefined : undefined;
        await backend.stop(ctx.params.id!, intParam(ctx.query, 't'), signal);
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
        // API < 1.30 has no condition (it waits for not-running) and answers only at the exit.
        const current = apiHas(ctx.version, 'waitCondition');
        const c = (current && ctx.query.get('condition')) || 'not-running';
        if (!['not-running', 'next-exit', 'removed'].includes(c)) {
          throw new InvalidArgumentError(
            'INVALID_CONDITION',
            `invalid condition: "${c}"; use not-running, next-exit or removed`,
          );
        }
        // An unknown container is a 404 before the 200 goes out (the docker CLI printed "EOF").
        backend.find(ctx.params.id!);
        const done = backend.wait(ctx.params.id!, c as WaitCondition, ctx.signal);
        if (current) {
          // Headers go out as soon as the wait is registered: clients start the container after.
          ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
          ctx.res.flushHeaders();
        }
        const r = await done;
        // API < 1.34: a failed removal under condition=removed ends the answer without a body.
        if (r.error && c === 'removed' && !apiHas(ctx.version, 'waitRemovalError')) {
          if (!ctx.res.headersSent) ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
          ctx.res.end();
          return;
        }
        const text = JSON.stringify({ StatusCode: r.code, Error: r.error ? { Message: r.error } : null });
        if (!ctx.res.headersSent) ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
        ctx.res.end(`${text}\n`);
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
        const signal = apiHas(ctx.version, 'stopSignal') ? ctx.query.get('signal') || undefined : undefined;
        await backend.restart(ctx.params.id!, intParam(ctx.query, 't'), signal);
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
        const f = parseFilters(ctx.query, FILTERS.containerPrune);
        const until = f.get('until')?.[0];
        const untilMs = until !== undefined ? parseTimestamp(until) : undefined;
        const removed = await backend.prune((r) => {
          if (untilMs !== undefined && !(Date.parse(r.created) < untilMs)) return false;
          return labelsMatch(r.config.Labels, f);
        });
        sendJson(ctx.res, 200, { ContainersDeleted: removed.length > 0 ? removed : null, SpaceReclaimed: 0 });
      },
    },
    {
      method: 'DELETE',
      path: '/containers/:id',
      handler: async (ctx) => {
        // A bare name has no parent: there is no link to remove, and the container must stay.
        if (boolParam(ctx.query, 'link'))
          throw new ConflictError(
            'NOT_A_LINK',
            `${ctx.params.id} is a container, not a link: give the link as <parent>/<alias>`,
          );
        await backend.remove(ctx.params.id!, {
          force: boolParam(ctx.query, 'force'),
          volumes: boolParam(ctx.query, 'v'),
        });
        sendNoContent(ctx.res);
      },
    },
    {
      // A legacy link's name (`/parent/alias`, as `docker rm --link` sends it).
      method: 'DELETE',
      path: '/containers/:parent/:alias',
      handler: async (ctx) => {
        if (!boolParam(ctx.query, 'link'))
          throw new InvalidArgumentError(
            'LINK_NOT_ASKED',
            `${ctx.params.parent}/${ctx.params.alias} names a link: remove it with link=1 (docker rm --link), or remove the container by its own name`,
          );
        await backend.removeLink(ctx.params.parent!, ctx.params.alias!);
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
        // Checked before the stream opens: `none`, or a remote driver with cache-disabled=true.
        const policy = backend.logPolicy(rec);
        if (!policy.readable)
          throw new NotImplementedError(
            'LOGS_NOT_READABLE',
            'configured logging driver does not support reading',
          );
        ctx.res.writeHead(200, {
          'Content-Type':
            tty || !apiHas(ctx.version, 'multiplexedContentType')
              ? 'application/vnd.docker.raw-stream'
              : 'application/vnd.docker.multiplexed-stream',
        });
        ctx.res.flushHeaders();
        const exited = follow
          ? backend.wait(rec.id, 'not-running', ctx.signal).then(() => {})
          : Promise.resolve();
        exited.catch(() => {});
        // Batches (one per 256 KiB read) framed in one buffer: per-record writes cap throughput.
        // --details: the attributes chosen by the labels/env log options, before each line.
        const details = boolParam(ctx.query, 'details')
          ? Buffer.from(
              `${Object.keys(policy.details)
                .sort()
                .map((k) => `${k}=${policy.details[k]}`)
                .join(',')} `,
            )
          : undefined;
        // Merged frames for the docker CLI, Docker's frame per line for others (see logFramingFor).
        const framing = logFramingFor(ctx.req.headers['user-agent']);
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
            : muxLogRecords(batch, { timestamps, framing });
          if (!ctx.res.write(out)) await new Promise((res) => ctx.res.once('drain', res));
        }
        ctx.res.end();
      },
    },
    attachRoute(backend),
  ];
}
