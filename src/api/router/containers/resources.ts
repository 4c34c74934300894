// /containers/{id}/update and /containers/{id}/stats in Docker's JSON shapes.
import type { ContainerRecord } from '../../../containers/index.ts';
import { InvalidArgumentError } from '../../../errdefs/index.ts';
import type { CgroupSample, ResourceFields } from '../../../runtime/index.ts';
import { boolParam, readJsonBody, sendJson } from '../../http.ts';
import type { Route } from '../../server.ts';
import { apiHas } from '../../versions/index.ts';
import type { ContainersBackend } from './backend.ts';

const ZERO_TIME = '0001-01-01T00:00:00Z';

const EMPTY_CPU = {
  cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
  throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
};

/** Docker's stats object; a container that is not running gets zeroes as in Docker. */
export function statsView(rec: ContainerRecord, cur?: CgroupSample, prev?: CgroupSample) {
  return {
    read: cur ? cur.at.toISOString() : ZERO_TIME,
    preread: prev ? prev.at.toISOString() : ZERO_TIME,
    pids_stats: cur?.pids ?? {},
    blkio_stats: {
      io_service_bytes_recursive: cur?.blkio.io_service_bytes_recursive ?? null,
      io_serviced_recursive: cur?.blkio.io_serviced_recursive ?? null,
      io_queue_recursive: null,
      io_service_time_recursive: null,
      io_wait_time_recursive: null,
      io_merged_recursive: null,
      io_time_recursive: null,
      sectors_recursive: null,
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cur?.cpu ?? EMPTY_CPU,
    precpu_stats: prev?.cpu ?? EMPTY_CPU,
    memory_stats: cur?.memory ?? {},
    ...(cur?.networks ? { networks: cur.networks } : {}),
    name: `/${rec.name}`,
    id: rec.id,
  };
}

export function resourceRoutes(backend: ContainersBackend): Route[] {
  return [
    {
      method: 'POST',
      path: '/containers/:id/update',
      handler: async (ctx) => {
        const body = await readJsonBody<ResourceFields>(ctx.req, 'containerUpdate');
        if (!body)
          throw new InvalidArgumentError('INVALID_BODY', 'update needs a JSON object of resource fields');
        // KernelMemory is ignored from API 1.42 (as Docker: no warning either); PidsLimit needs 1.40.
        if (!apiHas(ctx.version, 'kernelMemory')) delete body.KernelMemory;
        if (!apiHas(ctx.version, 'bindNonRecursive')) delete (body as { PidsLimit?: unknown }).PidsLimit;
        const r = await backend.update(ctx.params.id!, body);
        sendJson(ctx.res, 200, { Warnings: r.warnings });
      },
    },
    {
      method: 'GET',
      path: '/containers/:id/stats',
      handler: async (ctx) => {
        const stream = boolParam(ctx.query, 'stream', true);
        const oneShot = apiHas(ctx.version, 'statsOneShot') && boolParam(ctx.query, 'one-shot');
        if (oneShot && stream)
          throw new InvalidArgumentError('INVALID_PARAMETER', 'cannot have stream=true and one-shot=true');
        // Resolve first so an unknown container is a 404, not a broken stream.
        backend.find(ctx.params.id!);
        if (!stream) {
          const s = await backend.stats(ctx.params.id!, { withPrevious: !oneShot });
          sendJson(ctx.res, 200, statsView(s.rec, s.cur, s.prev));
          return;
        }
        ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
        let prev: CgroupSample | undefined;
        // One object a second until the client goes away or the container is removed.
        while (!ctx.signal.aborted) {
          let s: Awaited<ReturnType<ContainersBackend['stats']>>;
          try {
            s = await backend.stats(ctx.params.id!, { withPrevious: false });
          } catch {
            break;
          }
          ctx.res.write(`${JSON.stringify(statsView(s.rec, s.cur, prev))}\n`);
          prev = s.cur;
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, 1000);
            ctx.signal.addEventListener(
              'abort',
              () => {
                clearTimeout(t);
                resolve();
              },
              { once: true },
            );
          });
        }
        ctx.res.end();
      },
    },
  ];
}
