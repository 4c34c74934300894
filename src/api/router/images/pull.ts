// `POST /images/create?fromImage=` (pull) and `POST /images/{name}/push`: references from the
// query, credentials from X-Registry-Auth, progress as Docker's JSON lines.
import type { IncomingHttpHeaders } from 'node:http';
import { InvalidArgumentError } from '../../../errdefs/index.ts';
import type { Credentials } from '../../../registry/index.ts';
import type { RequestContext } from '../../http.ts';
import { JsonLinesWriter, progressBar } from '../../streams/json-lines.ts';
import type { ImagesBackend } from './backend.ts';

/** Decodes X-Registry-Auth (base64url JSON); an empty or `{}` header means anonymous. */
export function registryAuth(headers: IncomingHttpHeaders): Credentials | undefined {
  const raw = headers['x-registry-auth'];
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (!text) return undefined;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new InvalidArgumentError('INVALID_REGISTRY_AUTH', 'X-Registry-Auth is not base64url-encoded JSON');
  }
  // `null`, a list or a string decode (Go keeps the zero AuthConfig): never read fields off them.
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const str = (k: string) =>
    typeof json[k] === 'string' && json[k] !== '' ? (json[k] as string) : undefined;
  const creds: Record<string, string> = {};
  for (const k of ['username', 'password', 'identitytoken', 'registrytoken']) {
    const v = str(k);
    if (v !== undefined) creds[k] = v;
  }
  return Object.keys(creds).length > 0 ? (creds as Credentials) : undefined;
}

/** fromImage may carry a tag or digest; `tag` may be either too. */
export function pullReference(fromImage: string, tag: string): string {
  if (!fromImage)
    throw new InvalidArgumentError('MISSING_IMAGE', 'fromImage is required: name the image to pull');
  if (!tag) return fromImage;
  return tag.startsWith('sha256:') ? `${fromImage}@${tag}` : `${fromImage}:${tag}`;
}

interface ProgressEvent {
  readonly status: string;
  readonly id?: string;
  readonly progressDetail?: { current?: number; total?: number };
  readonly aux?: unknown;
}

/**
 * Runs a registry operation that reports progress, as Docker's JSON lines. An error before any
 * progress is a plain HTTP error (the CLI shows it as the daemon's); after, it travels in-band.
 */
async function streamProgress(
  ctx: RequestContext,
  run: (onEvent: (e: ProgressEvent) => void) => Promise<unknown>,
): Promise<void> {
  const out = new JsonLinesWriter(ctx.res);
  let started = false;
  try {
    await run((e) => {
      started = true;
      if (e.aux !== undefined) {
        out.write({ progressDetail: {}, aux: e.aux });
        return;
      }
      const total = e.progressDetail?.total;
      const current = e.progressDetail?.current;
      out.write({
        status: e.status,
        ...(e.id ? { id: e.id } : {}),
        ...(e.progressDetail ? { progressDetail: e.progressDetail } : {}),
        ...(total && current !== undefined ? { progress: progressBar(current, total) } : {}),
      });
    });
  } catch (err) {
    if (!started) throw err;
    out.error(err);
  }
  out.end();
}

export async function handlePull(ctx: RequestContext, backend: ImagesBackend): Promise<void> {
  const ref = pullReference(ctx.query.get('fromImage') ?? '', ctx.query.get('tag') ?? '');
  const platform = ctx.query.get('platform') || undefined;
  const auth = registryAuth(ctx.req.headers);
  await streamProgress(ctx, (onEvent) =>
    backend.pull(ref, {
      ...(platform ? { platform } : {}),
      ...(auth ? { auth } : {}),
      signal: ctx.signal,
      onEvent,
    }),
  );
}

export async function handlePush(ctx: RequestContext, backend: ImagesBackend, name: string): Promise<void> {
  const tag = ctx.query.get('tag') ?? '';
  const auth = registryAuth(ctx.req.headers);
  await streamProgress(ctx, (onEvent) =>
    backend.push(tag ? `${name}:${tag}` : name, { ...(auth ? { auth } : {}), signal: ctx.signal, onEvent }),
  );
}
