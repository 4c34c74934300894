// GET /events: Docker's event stream (JSON objects, one per line) with since/until and filters.
import { clampDelay } from '../../../base/timers.ts';
import type { BerthEvent, EventBus } from '../../../events/index.ts';
import { InvalidArgumentError } from '../../../errdefs/index.ts';
import { FILTERS, labelsMatch } from '../../filters.ts';
import { parseFilters } from '../../http.ts';
import type { Route } from '../../server.ts';

/** Docker's time parameter: Unix seconds (fractional allowed) or RFC 3339. */
function parseTime(v: string | null, name: string): bigint | undefined {
  if (v === null || v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) {
    const [s, frac = ''] = v.split('.');
    return BigInt(s!) * 1_000_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 9));
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) {
    throw new InvalidArgumentError(
      'INVALID_TIME',
      `invalid value for ${name}: "${v}"; use Unix seconds or an RFC 3339 time`,
    );
  }
  return BigInt(t) * 1_000_000n;
}

function toDocker(e: BerthEvent) {
  const from = e.attributes.image;
  return {
    // The legacy fields (status, id, from), as Docker still fills them for containers and images.
    ...(e.type === 'container' ? { status: e.action, id: e.id, ...(from ? { from } : {}) } : {}),
    ...(e.type === 'image' ? { status: e.action, id: e.id } : {}),
    Type: e.type,
    Action: e.action,
    Actor: { ID: e.id, Attributes: e.attributes },
    scope: 'local',
    time: Number(e.timeNano / 1_000_000_000n),
    timeNano: Number(e.timeNano),
  };
}

export function eventRoutes(bus: EventBus): Route[] {
  return [
    {
      method: 'GET',
      path: '/events',
      handler: async (ctx) => {
        const since = parseTime(ctx.query.get('since'), 'since');
        const until = parseTime(ctx.query.get('until'), 'until');
        const f = parseFilters(ctx.query, FILTERS.events);
        const match = (e: BerthEvent) => {
          if (f.has('type') && !f.get('type')!.includes(e.type)) return false;
          if (f.has('event') && !f.get('event')!.some((a) => e.action === a || e.action.startsWith(`${a}:`)))
            return false;
          if (
            f.has('container') &&
            !(
              e.type === 'container' &&
              f.get('container')!.some((c) => e.id.startsWith(c) || e.attributes.name === c)
            )
          )
            return false;
          if (
            f.has('image') &&
            !f.get('image')!.some((i) => e.attributes.image === i || (e.type === 'image' && e.id.includes(i)))
          )
            return false;
          for (const kind of ['network', 'volume'] as const) {
            const want = f.get(kind);
            if (want && !(e.type === kind && want.some((v) => e.id.startsWith(v) || e.attributes.name === v)))
              return false;
          }
          // Berth's events are all local and it has no swarm objects: those filters match nothing.
          if (f.has('scope') && !f.get('scope')!.includes('local')) return false;
          for (const k of ['config', 'node', 'plugin', 'secret', 'service'] as const)
            if (f.has(k)) return false;
          if (f.has('daemon') && e.type !== 'daemon') return false;
          return labelsMatch(e.attributes, f);
        };
        ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
        ctx.res.flushHeaders();
        const nowNano = BigInt(Date.now()) * 1_000_000n;
        const send = (e: BerthEvent) => {
          if (until !== undefined && e.timeNano > until) return;
          if (match(e)) ctx.res.write(`${JSON.stringify(toDocker(e))}\n`);
        };
        if (since !== undefined) for (const e of bus.since(since)) send(e);
        if (until !== undefined && until <= nowNano) {
          ctx.res.end();
          return;
        }
        await new Promise<void>((resolve) => {
          const unsubscribe = bus.subscribe(send);
          let timer: NodeJS.Timeout | undefined;
          const stop = () => {
            clearTimeout(timer);
            unsubscribe();
            resolve();
          };
          ctx.signal.addEventListener('abort', stop, { once: true });
          // Node fires a timer longer than 2^31-1 ms at once: a far `until` is reached in steps.
          const arm = () => {
            const left = Number((until! - BigInt(Date.now()) * 1_000_000n) / 1_000_000n);
            if (left <= 0) stop();
            else timer = setTimeout(arm, clampDelay(left)).unref();
          };
          if (until !== undefined) arm();
        });
        ctx.res.end();
      },
    },
  ];
}
