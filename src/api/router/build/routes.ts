// POST /build (the legacy builder API the docker CLI uses with DOCKER_BUILDKIT=0, and
// docker-py's images.build) and POST /build/prune. Progress is Docker's JSON lines: `stream`
// text in the legacy builder's wording, `aux` with the image ID, in-band `error`.
import { parseNamedContexts } from '../../../build/context/index.ts';
import { type BuildEvent, RunFailedError } from '../../../build/index.ts';
import { errorMessage, InvalidArgumentError } from '../../../errdefs/index.ts';
import { familiarString, parseReference } from '../../../oci/reference.ts';
import { FILTERS, parseTimestamp } from '../../filters.ts';
import { boolParam, intParam, parseFilters, requestBody, sendJson } from '../../http.ts';
import type { Route } from '../../server.ts';
import { JsonLinesWriter } from '../../streams/json-lines.ts';
import { decodeJsonParam } from '../../validate/index.ts';
import type { BuildBackend } from './backend.ts';

/** `secrets` (Berth's extension): `id=path` pairs, comma-separated in repeated params. */
function secretsParam(q: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of q.getAll('secrets')) {
    const o = Object.fromEntries(
      raw.split(',').map((kv) => {
        const eq = kv.indexOf('=');
        return eq === -1 ? [kv, ''] : [kv.slice(0, eq), kv.slice(eq + 1)];
      }),
    );
    const id = o.id;
    const src = o.src ?? o.source ?? o.file;
    if (!id || !src) {
      throw new InvalidArgumentError(
        'INVALID_SECRET',
        `invalid secret "${raw}": use id=<name>,src=<file on the daemon host>`,
      );
    }
    out[id] = src;
  }
  return out;
}

/** `cachefrom`: a JSON list of image references, as the docker CLI and docker-py send it. */
function cacheFromParam(q: URLSearchParams): string[] {
  const raw = q.get('cachefrom');
  if (!raw) return [];
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    v = undefined;
  }
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw new InvalidArgumentError(
      'INVALID_CACHE_FROM',
      `invalid cachefrom "${raw.slice(0, 200)}": send a JSON list of image references, e.g. ["app:latest"]`,
    );
  }
  return v.filter(Boolean);
}

function short(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

export function buildRoutes(backend: BuildBackend): Route[] {
  return [
    {
      method: 'POST',
      path: '/build',
      handler: async (ctx) => {
        const q = ctx.query;
        if (q.get('remote')) {
          throw new InvalidArgumentError(
            'REMOTE_CONTEXT_UNSUPPORTED',
            'remote build contexts are not supported by Berth: send the context as a tar body',
          );
        }
        // Typed like Docker's Go structs: labels reach the image config, which every client reads.
        const buildArgs = decodeJsonParam<Record<string, string | null>>(q, 'buildargs', 'buildArgs') ?? {};
        const labels = decodeJsonParam<Record<string, string>>(q, 'labels', 'buildLabels') ?? {};
        const ulimits = decodeJsonParam<{ Name: string; Soft: number; Hard: number }[]>(
          q,
          'ulimits',
          'buildUlimits',
        );
        const cacheFrom = cacheFromParam(q);
        const quiet = boolParam(q, 'q');
        const secrets = secretsParam(q);
        // The docker CLI joins the hosts with commas in one value; docker-py repeats the param.
        const extraHosts = q
          .getAll('extrahosts')
          .flatMap((v) => v.split(','))
          .filter(Boolean);
        const noCacheFilter = q
          .getAll('nocachefilter')
          .flatMap((v) => v.split(','))
          .filter(Boolean);
        const named = parseNamedContexts(q.get('namedcontexts'));
        const out = new JsonLinesWriter(ctx.res);
        const ctxDir = await backend.extractContext(
          requestBody(ctx.req),
          ctx.signal,
          q.get('dockerfile') ?? '',
          named,
        );
        try {
          const dockerfileName = ctxDir.dockerfile.name;
          const dockerfile = ctxDir.dockerfile.content;
          // Berth's CLI asks for the events themselves and draws BuildKit-like progress.
          const structured = boolParam(q, 'berthprogress');
          const emit = (e: BuildEvent) => {
            if (structured) {
              out.write({
                aux: { berth: e.type === 'output' ? { ...e, data: e.data.toString('utf8') } : e },
              });
              return;
            }
            if (quiet && e.type !== 'warning') return;
            switch (e.type) {
              case 'step':
                out.write({ stream: `Step ${e.n}/${e.total} : ${e.text}\n` });
                break;
              case 'cached':
                out.write({ stream: ' ---> Using cache\n' });
                break;
              case 'container':
                out.write({ stream: ` ---> Running in ${short(e.id)}\n` });
                break;
              case 'output':
                // The legacy builder paints a RUN step's stderr bright red, in the text itself;
                // docker-py's tests and scripts that grep the stream expect exactly that.
                out.write({
                  stream:
                    e.stream === 'stderr'
                      ? `\x1b[91m${e.data.toString('utf8')}\x1b[0m`
                      : e.data.toString('utf8'),
                });
                break;
              case 'stepDone':
                out.write({ stream: ` ---> ${short(e.image)}\n` });
                break;
              case 'warning':
                out.write({ stream: `${e.message}\n` });
                break;
            }
          };
          out.start();
          const shm = intParam(q, 'shmsize');
          const networkMode = q.get('networkmode');
          const platform = q.get('platform');
          const target = q.get('target');
          const result = await backend.build(
            {
              contextDir: ctxDir.dir,
              contextDigests: ctxDir.digests,
              dockerfile,
              dockerfileName,
              tags: q.getAll('t').filter(Boolean),
              buildArgs,
              labels,
              ...(target ? { target } : {}),
              noCache: boolParam(q, 'nocache'),
              pull: boolParam(q, 'pull'),
              noCacheFilter,
              ...(networkMode ? { networkMode } : {}),
              extraHosts,
              cacheFrom,
              ...(shm ? { shmSize: shm } : {}),
              ...(ulimits ? { ulimits } : {}),
              secrets,
              ...(platform ? { platform } : {}),
              ...(ctxDir.named.size > 0 ? { namedContexts: ctxDir.named } : {}),
              signal: ctx.signal,
            },
            emit,
          );
          out.write({ aux: { ID: result.id } });
          if (quiet) out.write({ stream: `${result.id}\n` });
          else {
            out.write({ stream: `Successfully built ${short(result.id)}\n` });
            for (const t of result.tags)
              out.write({ stream: `Successfully tagged ${familiarString(parseReference(t))}\n` });
          }
          out.end();
        } catch (err) {
          if (!ctx.res.headersSent) throw err;
          const message = errorMessage(err);
          const code = err instanceof RunFailedError ? err.exitCode : 1;
          ctx.res.write(`${JSON.stringify({ errorDetail: { code, message }, error: message })}\n`);
          out.end();
        } finally {
          await ctxDir.remove();
        }
      },
    },
    {
      method: 'POST',
      path: '/build/prune',
      handler: async (ctx) => {
        const f = parseFilters(ctx.query, FILTERS.buildPrune);
        const until = f.get('until')?.[0] ?? f.get('unused-for')?.[0];
        const untilMs = until !== undefined ? parseTimestamp(until) : undefined;
        const r = await backend.prune({
          ...(untilMs !== undefined ? { until: untilMs } : {}),
          all: boolParam(ctx.query, 'all'),
        });
        sendJson(ctx.res, 200, { CachesDeleted: r.deleted, SpaceReclaimed: r.spaceReclaimed });
      },
    },
  ];
}
