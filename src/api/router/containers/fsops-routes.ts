// Container filesystem endpoints: /containers/{id}/archive (HEAD, GET, PUT), /changes,
// /export, and POST /commit.
import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { PathStat } from '../../../containers/index.ts';
import { InvalidArgumentError } from '../../../errdefs/index.ts';
import { boolParam, readJsonBody, requestBody, sendJson } from '../../http.ts';
import type { Route } from '../../server.ts';
import type { ContainerFsBackend } from './backend.ts';

const STAT_HEADER = 'X-Docker-Container-Path-Stat';

function pathParam(q: URLSearchParams): string {
  const p = q.get('path');
  if (p === null || p === '') {
    throw new InvalidArgumentError('NO_PATH', 'missing the container path: add ?path=/some/path');
  }
  return p;
}

function statHeader(s: PathStat): string {
  return Buffer.from(JSON.stringify(s)).toString('base64');
}

async function sendTar(
  res: ServerResponse,
  tar: NodeJS.ReadableStream,
  headers: Record<string, string> = {},
) {
  res.writeHead(200, { 'Content-Type': 'application/x-tar', ...headers });
  await pipeline(tar, res);
}

/** The commit body: a container Config whose set fields override the container's. */
function commitOverrides(b: Record<string, unknown> | undefined) {
  if (b === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const k of ['User', 'WorkingDir', 'StopSignal'] as const) {
    if (typeof b[k] === 'string' && b[k] !== '') out[k] = b[k];
  }
  for (const k of ['Cmd', 'Entrypoint', 'Env', 'OnBuild'] as const) {
    // Cmd and Entrypoint are docker's StrSlice: one string is a one-word list.
    const v = typeof b[k] === 'string' ? [b[k]] : b[k];
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
      throw new InvalidArgumentError('INVALID_PARAMETER', `invalid ${k}: expected a list of strings`);
    if (v.length > 0) out[k] = v;
  }
  for (const k of ['Labels', 'ExposedPorts', 'Volumes'] as const) {
    const v = b[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) out[k] = v;
  }
  if (b.Healthcheck && typeof b.Healthcheck === 'object') out.Healthcheck = b.Healthcheck;
  return out;
}

export function containerFsRoutes(backend: ContainerFsBackend): Route[] {
  return [
    {
      method: 'HEAD',
      path: '/containers/:id/archive',
      handler: async (ctx) => {
        const stat = await backend.stat(ctx.params.id!, pathParam(ctx.query));
        ctx.res.writeHead(200, { [STAT_HEADER]: statHeader(stat), 'Content-Type': 'application/x-tar' });
        ctx.res.end();
      },
    },
    {
      method: 'GET',
      path: '/containers/:id/archive',
      handler: (ctx) =>
        backend.archive(
          ctx.params.id!,
          pathParam(ctx.query),
          (stat, tar) => sendTar(ctx.res, tar, { [STAT_HEADER]: statHeader(stat) }),
          ctx.signal,
        ),
    },
    {
      method: 'PUT',
      path: '/containers/:id/archive',
      handler: async (ctx) => {
        const p = pathParam(ctx.query);
        const body = requestBody(ctx.req);
        try {
          await backend.extract(ctx.params.id!, p, body, {
            noOverwriteDirNonDir: boolParam(ctx.query, 'noOverwriteDirNonDir'),
            copyUIDGID: boolParam(ctx.query, 'copyUIDGID'),
            signal: ctx.signal,
          });
        } catch (err) {
          body.destroy(); // the unread rest of the upload is drained, so the error reply gets out
          throw err;
        }
        ctx.res.writeHead(200, { 'Content-Length': 0 });
        ctx.res.end();
      },
    },
    {
      method: 'GET',
      path: '/containers/:id/changes',
      handler: async (ctx) => {
        sendJson(ctx.res, 200, await backend.changes(ctx.params.id!));
      },
    },
    {
      method: 'GET',
      path: '/containers/:id/export',
      handler: (ctx) => backend.export(ctx.params.id!, (tar) => sendTar(ctx.res, tar), ctx.signal),
    },
    {
      method: 'POST',
      path: '/commit',
      handler: async (ctx) => {
        const q = ctx.query;
        const container = q.get('container');
        if (!container)
          throw new InvalidArgumentError('NO_CONTAINER', 'missing the container: POST /commit?container=ID');
        const repo = q.get('repo') ?? '';
        const tag = q.get('tag') ?? '';
        if (tag && !repo)
          throw new InvalidArgumentError(
            'INVALID_REFERENCE',
            `a tag needs a repository: got tag "${tag}" and no repo`,
          );
        const overrides = commitOverrides(await readJsonBody(ctx.req, 'commit'));
        const id = await backend.commit(container, {
          ...(repo ? { reference: tag ? `${repo}:${tag}` : repo } : {}),
          comment: q.get('comment') ?? '',
          author: q.get('author') ?? '',
          pause: boolParam(q, 'pause', true),
          changes: q.getAll('changes').flatMap((c) => c.split('\n')),
          ...(overrides ? { overrides } : {}),
        });
        sendJson(ctx.res, 201, { Id: id });
      },
    },
  ];
}
