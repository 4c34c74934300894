// Berth's registry server: the OCI distribution API (../shared/reference/oci/distribution-spec/)
// over RegistryStorage. Blobs (HEAD/GET with ranges, DELETE), uploads (monolithic POST?digest=,
// POST+PATCH+PUT chunked, cross-repository mount), manifests (GET/HEAD/PUT/DELETE by tag or
// digest, referenced blobs checked), tags with pagination, referrers, catalog. Errors carry
// the spec's codes. Authentication is a pluggable check (see auth.ts).
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Access, type Authorizer, type Need, writeDenial } from './access.ts';
import { DIGEST_RE, type Digest, NAME_RE, type RegistryStorage, TAG_RE } from './storage.ts';

export type { Access, Authorizer } from './access.ts';

export interface RegistryAppOptions {
  readonly storage: RegistryStorage;
  readonly authorize?: Authorizer;
  /** Largest manifest accepted (the spec suggests at least 4 MiB). */
  readonly maxManifestBytes?: number;
  /** Largest blob accepted. */
  readonly maxBlobBytes?: number;
  readonly log?: (msg: string) => void;
}

const MANIFEST_TYPES = new Set([
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);
const INDEX_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail?: unknown,
  ) {
    super(message);
  }
}

function sendError(res: ServerResponse, e: ApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({
    errors: [{ code: e.code, message: e.message, ...(e.detail !== undefined ? { detail: e.detail } : {}) }],
  });
  res.writeHead(e.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

async function readLimited(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > limit) throw new ApiError(413, 'SIZE_INVALID', `manifest larger than ${limit} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

function checkName(name: string): void {
  if (!NAME_RE.test(name) || name.length > 255) {
    throw new ApiError(
      400,
      'NAME_INVALID',
      `invalid repository name "${name}": use lowercase path components like team/app`,
    );
  }
}

function checkDigest(d: string): Digest {
  if (!DIGEST_RE.test(d))
    throw new ApiError(400, 'DIGEST_INVALID', `invalid digest "${d}": expected sha256:<64 hex>`);
  return d as Digest;
}

function paginate(items: string[], q: URLSearchParams, basePath: string, res: ServerResponse): string[] {
  const last = q.get('last');
  let out = last ? items.filter((x) => x > last) : items;
  const nText = q.get('n');
  if (nText !== null) {
    const n = Number(nText);
    if (!Number.isInteger(n) || n < 0)
      throw new ApiError(400, 'PAGINATION_NUMBER_INVALID', `invalid n "${nText}"`);
    if (out.length > n) {
      out = out.slice(0, n);
      if (n > 0)
        res.setHeader('Link', `<${basePath}?n=${n}&last=${encodeURIComponent(out.at(-1)!)}>; rel="next"`);
    }
  }
  return out;
}

export function registryHandler(
  opts: RegistryAppOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const st = opts.storage;
  const maxManifest = opts.maxManifestBytes ?? 4 << 20;
  const maxBlob = opts.maxBlobBytes ?? 64 * 2 ** 30;
  const check: Authorizer = opts.authorize ?? (async () => undefined);
  /** Whether the request may go on; when not, the 401 or 429 has been answered. */
  const allowed = async (req: IncomingMessage, res: ServerResponse, need: Need): Promise<boolean> => {
    const denial = await check(req, need);
    if (!denial) return true;
    writeDenial(req, res, denial);
    return false;
  };
  const authorize = (req: IncomingMessage, res: ServerResponse, repo: string, action: Access) =>
    allowed(req, res, { repository: repo, action });

  const json = (
    res: ServerResponse,
    status: number,
    value: unknown,
    headers: Record<string, string> = {},
  ) => {
    const body = JSON.stringify(value);
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      ...headers,
    });
    res.end(body);
  };
  const empty = (res: ServerResponse, status: number, headers: Record<string, string | number> = {}) => {
    res.writeHead(status, { 'Content-Length': 0, ...headers });
    res.end();
  };

  async function blob(req: IncomingMessage, res: ServerResponse, name: string, d: Digest) {
    if (req.method === 'DELETE') {
      if (!(await authorize(req, res, name, 'delete'))) return;
      if (!(await st.repoHasBlob(name, d)))
        throw new ApiError(404, 'BLOB_UNKNOWN', `blob ${d} unknown to ${name}`);
      await st.unlinkBlob(name, d);
      return empty(res, 202);
    }
    if (!(await authorize(req, res, name, 'pull'))) return;
    const size = (await st.repoHasBlob(name, d)) ? await st.blobSize(d) : undefined;
    if (size === undefined) throw new ApiError(404, 'BLOB_UNKNOWN', `blob ${d} unknown to ${name}`);
    const headers = {
      'Docker-Content-Digest': d,
      'Accept-Ranges': 'bytes',
      'Content-Type': 'application/octet-stream',
    };
    const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start > end || start >= size) {
        res.writeHead(416, { 'Content-Range': `bytes */${size}` });
        return res.end();
      }
      res.writeHead(206, {
        ...headers,
        'Content-Length': end - start + 1,
        'Content-Range': `bytes ${start}-${end}/${size}`,
      });
      if (req.method === 'HEAD') return res.end();
      st.readBlob(d, { start, end }).pipe(res);
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Length': size });
    if (req.method === 'HEAD') return res.end();
    st.readBlob(d).pipe(res);
  }

  async function uploads(req: IncomingMessage, res: ServerResponse, name: string, q: URLSearchParams) {
    if (!(await authorize(req, res, name, 'push'))) return;
    const mount = q.get('mount');
    const from = q.get('from');
    if (mount && from) {
      const d = checkDigest(mount);
      checkName(from);
      // Only from a repository the client may read. A mount that cannot be done (unknown blob,
      // or `from` not readable with these credentials) is not an error: the spec's answer is a
      // 202 that starts an ordinary upload, which the code below gives.
      if ((await st.repoHasBlob(from, d)) && !(await check(req, { repository: from, action: 'pull' }))) {
        await st.linkBlob(name, d);
        return empty(res, 201, { Location: `/v2/${name}/blobs/${d}`, 'Docker-Content-Digest': d });
      }
    }
    const digest = q.get('digest');
    const id = await st.startUpload();
    if (digest) {
      // Monolithic: POST with the whole blob and its digest.
      const d = checkDigest(digest);
      await st.appendUpload(id, req, maxBlob).catch(uploadError);
      await st.commitUpload(id, d).catch(uploadError);
      await st.linkBlob(name, d);
      return empty(res, 201, { Location: `/v2/${name}/blobs/${d}`, 'Docker-Content-Digest': d });
    }
    req.resume();
    return empty(res, 202, {
      Location: `/v2/${name}/blobs/uploads/${id}`,
      Range: '0-0',
      'Docker-Upload-UUID': id,
    });
  }

  function uploadError(err: { code?: string; message?: string }): never {
    if (err.code === 'DIGEST_INVALID')
      throw new ApiError(400, 'DIGEST_INVALID', err.message ?? 'digest mismatch');
    if (err.code === 'SIZE_INVALID') throw new ApiError(413, 'SIZE_INVALID', err.message ?? 'too large');
    if (err.code === 'BLOB_UPLOAD_UNKNOWN') throw new ApiError(404, 'BLOB_UPLOAD_UNKNOWN', 'upload unknown');
    throw err;
  }

  async function upload(
    req: IncomingMessage,
    res: ServerResponse,
    name: string,
    id: string,
    q: URLSearchParams,
  ) {
    if (!(await authorize(req, res, name, 'push'))) return;
    const size = await st.uploadSize(id).catch(() => undefined);
    if (size === undefined) throw new ApiError(404, 'BLOB_UPLOAD_UNKNOWN', `upload ${id} unknown`);
    const location = `/v2/${name}/blobs/uploads/${id}`;
    switch (req.method) {
      case 'GET':
        return empty(res, 204, {
          Location: location,
          Range: `0-${Math.max(0, size - 1)}`,
          'Docker-Upload-UUID': id,
        });
      case 'DELETE':
        await st.cancelUpload(id);
        return empty(res, 204);
      case 'PATCH': {
        const cr = /^(\d+)-(\d+)$/.exec(String(req.headers['content-range'] ?? ''));
        if (cr && Number(cr[1]) !== size) {
          req.resume();
          res.writeHead(416, {
            Location: location,
            Range: `0-${Math.max(0, size - 1)}`,
            'Content-Length': 0,
          });
          return res.end();
        }
        const n = await st.appendUpload(id, req, maxBlob).catch(uploadError);
        return empty(res, 202, {
          Location: location,
          Range: `0-${Math.max(0, n - 1)}`,
          'Docker-Upload-UUID': id,
        });
      }
      case 'PUT': {
        const d = checkDigest(q.get('digest') ?? '');
        await st.appendUpload(id, req, maxBlob).catch(uploadError);
        await st.commitUpload(id, d).catch(uploadError);
        await st.linkBlob(name, d);
        return empty(res, 201, { Location: `/v2/${name}/blobs/${d}`, 'Docker-Content-Digest': d });
      }
      default:
        throw new ApiError(405, 'UNSUPPORTED', `${req.method} is not allowed on uploads`);
    }
  }

  async function manifest(req: IncomingMessage, res: ServerResponse, name: string, ref: string) {
    if (!DIGEST_RE.test(ref) && !TAG_RE.test(ref)) {
      throw new ApiError(
        400,
        ref.startsWith('sha256:') ? 'DIGEST_INVALID' : 'TAG_INVALID',
        `invalid tag or digest "${ref}"`,
      );
    }
    if (req.method === 'PUT') {
      if (!(await authorize(req, res, name, 'push'))) return;
      const bytes = await readLimited(req, maxManifest);
      const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;
      if (DIGEST_RE.test(ref) && ref !== digest) {
        throw new ApiError(
          400,
          'DIGEST_INVALID',
          `manifest digest ${digest} does not match the reference ${ref}`,
        );
      }
      let m: {
        schemaVersion?: number;
        mediaType?: string;
        config?: { digest?: string };
        layers?: { digest?: string }[];
        manifests?: { digest?: string }[];
        subject?: { digest?: string };
      };
      try {
        m = JSON.parse(bytes.toString('utf8')) as typeof m;
      } catch {
        throw new ApiError(400, 'MANIFEST_INVALID', 'manifest is not valid JSON');
      }
      const type = m.mediaType ?? String(req.headers['content-type'] ?? '').split(';')[0];
      if (m.schemaVersion !== 2 || !type || !MANIFEST_TYPES.has(type)) {
        throw new ApiError(
          400,
          'MANIFEST_INVALID',
          `unsupported manifest: schemaVersion ${m.schemaVersion}, media type ${type || 'none'}`,
        );
      }
      const missing: string[] = [];
      if (INDEX_TYPES.has(type)) {
        for (const x of m.manifests ?? []) {
          if (!x.digest || !DIGEST_RE.test(x.digest))
            throw new ApiError(400, 'MANIFEST_INVALID', 'index entry without a valid digest');
          if (!(await st.resolveManifest(name, x.digest))) missing.push(x.digest);
        }
      } else {
        const refs = [m.config?.digest, ...(m.layers ?? []).map((l) => l.digest)];
        if (!m.config?.digest || !Array.isArray(m.layers))
          throw new ApiError(400, 'MANIFEST_INVALID', 'manifest without config or layers');
        for (const d of refs) {
          if (!d || !DIGEST_RE.test(d))
            throw new ApiError(400, 'MANIFEST_INVALID', `invalid digest in manifest: ${d}`);
          if (!(await st.repoHasBlob(name, d as Digest))) missing.push(d);
        }
      }
      if (missing.length > 0) {
        throw new ApiError(
          400,
          'MANIFEST_BLOB_UNKNOWN',
          `manifest references blobs not in ${name}: ${missing.join(', ')}`,
          missing,
        );
      }
      await st.putManifest(
        name,
        digest,
        bytes,
        DIGEST_RE.test(ref) ? undefined : ref,
        type,
        m.subject?.digest,
      );
      return empty(res, 201, {
        Location: `/v2/${name}/manifests/${digest}`,
        'Docker-Content-Digest': digest,
        ...(m.subject?.digest ? { 'OCI-Subject': m.subject.digest } : {}),
      });
    }
    if (req.method === 'DELETE') {
      if (!(await authorize(req, res, name, 'delete'))) return;
      const d = checkDigest(ref);
      if (!(await st.deleteManifest(name, d)))
        throw new ApiError(404, 'MANIFEST_UNKNOWN', `manifest ${ref} unknown to ${name}`);
      return empty(res, 202);
    }
    if (!(await authorize(req, res, name, 'pull'))) return;
    const d = await st.resolveManifest(name, ref);
    if (!d) throw new ApiError(404, 'MANIFEST_UNKNOWN', `manifest ${ref} unknown to ${name}`);
    const bytes = await st.readManifest(d);
    let type = 'application/vnd.oci.image.manifest.v1+json';
    try {
      const parsed = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown };
      type = parsed.mediaType ?? (parsed.manifests ? 'application/vnd.oci.image.index.v1+json' : type);
    } catch {
      // Stored manifests were valid JSON when accepted.
    }
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': bytes.length, 'Docker-Content-Digest': d });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  }

  async function tagsList(req: IncomingMessage, res: ServerResponse, name: string, q: URLSearchParams) {
    if (!(await authorize(req, res, name, 'pull'))) return;
    if (!(await st.repositoryExists(name)))
      throw new ApiError(404, 'NAME_UNKNOWN', `repository ${name} unknown`);
    const tags = paginate(await st.tags(name), q, `/v2/${name}/tags/list`, res);
    json(res, 200, { name, tags });
  }

  async function referrers(
    req: IncomingMessage,
    res: ServerResponse,
    name: string,
    digest: string,
    q: URLSearchParams,
  ) {
    const subject = checkDigest(digest);
    if (!(await authorize(req, res, name, 'pull'))) return;
    const artifactType = q.get('artifactType');
    let refs = await st.referrers(name, subject);
    if (artifactType) refs = refs.filter((r) => r.artifactType === artifactType);
    json(
      res,
      200,
      { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: refs },
      {
        'Content-Type': 'application/vnd.oci.image.index.v1+json',
        ...(artifactType ? { 'OCI-Filters-Applied': 'artifactType' } : {}),
      },
    );
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://registry');
    const p = url.pathname;
    res.setHeader('Docker-Distribution-Api-Version', 'registry/2.0');
    if (p === '/v2/' || p === '/v2') {
      if (!(await allowed(req, res, undefined))) return;
      return json(res, 200, {});
    }
    if (p === '/v1/search' && req.method === 'GET') {
      // Docker's v1 search API over the catalog, so `docker search host:port/term` works; it
      // lists repositories, so it needs what the catalog needs.
      if (!(await allowed(req, res, { catalog: true }))) return;
      const q = (url.searchParams.get('q') ?? '').toLowerCase();
      const n = Math.min(100, Math.max(1, Number(url.searchParams.get('n') ?? 25) || 25));
      const names = (await st.catalog()).filter((r) => r.includes(q)).slice(0, n);
      return json(res, 200, {
        num_results: names.length,
        query: q,
        results: names.map((name) => ({
          name,
          description: '',
          star_count: 0,
          is_official: false,
          is_automated: false,
        })),
      });
    }
    if (p === '/v2/_catalog') {
      // Every repository's name: only for callers granted `registry:catalog:*` (as Docker's
      // distribution), not for anyone who can log in.
      if (!(await allowed(req, res, { catalog: true }))) return;
      const repos = paginate(await st.catalog(), url.searchParams, '/v2/_catalog', res);
      return json(res, 200, { repositories: repos });
    }
    const method = req.method ?? '';
    const table: [RegExp, string[], (m: RegExpExecArray) => Promise<unknown>][] = [
      [/^\/v2\/(.+)\/blobs\/uploads\/?$/, ['POST'], (m) => uploads(req, res, m[1]!, url.searchParams)],
      [
        /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/,
        ['GET', 'PATCH', 'PUT', 'DELETE'],
        (m) => upload(req, res, m[1]!, m[2]!, url.searchParams),
      ],
      [
        /^\/v2\/(.+)\/blobs\/([^/]+)$/,
        ['GET', 'HEAD', 'DELETE'],
        (m) => blob(req, res, m[1]!, checkDigest(m[2]!)),
      ],
      [
        /^\/v2\/(.+)\/manifests\/([^/]+)$/,
        ['GET', 'HEAD', 'PUT', 'DELETE'],
        (m) => manifest(req, res, m[1]!, decodeURIComponent(m[2]!)),
      ],
      [/^\/v2\/(.+)\/tags\/list$/, ['GET'], (m) => tagsList(req, res, m[1]!, url.searchParams)],
      [
        /^\/v2\/(.+)\/referrers\/([^/]+)$/,
        ['GET'],
        (m) => referrers(req, res, m[1]!, m[2]!, url.searchParams),
      ],
    ];
    for (const [re, methods, run] of table) {
      const m = re.exec(p);
      if (!m) continue;
      if (!methods.includes(method))
        throw new ApiError(405, 'UNSUPPORTED', `${method} is not allowed on ${p}`);
      checkName(m[1]!);
      await run(m);
      return;
    }
    throw new ApiError(404, 'NOT_FOUND', `no such endpoint: ${req.method} ${p}`);
  }

  return (req, res) => {
    route(req, res).catch((err: unknown) => {
      // An error answered before the request body was read leaves the connection mid-request:
      // close it rather than let the client reuse it.
      if (!req.complete && !res.headersSent) {
        res.setHeader('Connection', 'close');
        req.resume();
      }
      if (err instanceof ApiError) return sendError(res, err);
      opts.log?.(`error: ${req.method} ${req.url}: ${String((err as Error)?.stack ?? err)}`);
      sendError(res, new ApiError(500, 'UNKNOWN', 'internal error'));
    });
  };
}
