// A compose service's `build:` through Berth's builder (POST /build): the options mapped to the
// API's parameters, named contexts (`additional_contexts`, `service:NAME` as the image another
// service builds), build secrets, and the check that refuses what cannot be built before `up`
// creates anything.
import fs, { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { JsonMessage } from '../../client/index.ts';
import {
  bytes,
  ComposeError,
  type ImageBuilder,
  imageName,
  type Project,
  type Service,
  services,
} from '../../compose/index.ts';
import { packBuildContext } from '../build-context.ts';
import type { CliContext } from '../context.ts';
import { type LocalNamedContext, namedContextValue } from '../named-contexts.ts';

type Obj = Record<string, unknown>;

const present = (v: unknown) =>
  v !== undefined && v !== null && v !== false && (typeof v !== 'object' || Object.keys(v).length > 0);

export function builderFor(ctx: CliContext, p: Project, quiet = false): ImageBuilder {
  const build = async (name: string, svc: Service, tag: string) => {
    const b = svc.build as Obj;
    const plan = checkBuild(p, name, b);
    const secrets = buildSecrets(p, name, b);
    const packed = packBuildContext(String(b.context), plan.dockerfile, {
      ...(typeof b.dockerfile_inline === 'string'
        ? { dockerfileContent: Buffer.from(b.dockerfile_inline) }
        : {}),
      namedContexts: plan.named,
    });
    const args = (b.args ?? {}) as Record<string, string | null>;
    const ulimits = (b.ulimits ?? {}) as Record<string, number | { soft: number; hard: number }>;
    const query: Record<string, string | string[] | undefined> = {
      dockerfile: packed.dockerfileInContext,
      t: [tag, ...((b.tags as string[] | undefined) ?? [])],
      buildargs: JSON.stringify(Object.fromEntries(Object.entries(args).filter(([, v]) => v !== null))),
      labels: JSON.stringify({
        ...((b.labels as object | undefined) ?? {}),
        'com.docker.compose.project': p.name,
        'com.docker.compose.service': name,
      }),
      target: typeof b.target === 'string' ? b.target : undefined,
      networkmode: typeof b.network === 'string' ? b.network : undefined,
      cachefrom: Array.isArray(b.cache_from) ? JSON.stringify(b.cache_from) : undefined,
      extrahosts: Array.isArray(b.extra_hosts)
        ? (b.extra_hosts as string[]).map((h) => h.replace('=', ':')).join(',')
        : undefined,
      nocache: b.no_cache ? '1' : undefined,
      pull: b.pull ? '1' : undefined,
      shmsize: b.shm_size !== undefined ? String(bytes(b.shm_size)) : undefined,
      ulimits: Object.keys(ulimits).length
        ? JSON.stringify(
            Object.entries(ulimits).map(([n, v]) =>
              typeof v === 'number' ? { Name: n, Soft: v, Hard: v } : { Name: n, Soft: v.soft, Hard: v.hard },
            ),
          )
        : undefined,
      platform: plan.platform,
      secrets: secrets.params.length ? secrets.params : undefined,
      namedcontexts: packed.namedContexts,
    };
    if (!quiet) ctx.err.write(`[+] Building ${name}\n`);
    const messages = ctx.client().jsonLines<JsonMessage>('POST', '/build', {
      stream: packed.stream as Readable,
      query,
      headers: { 'Content-Type': 'application/x-tar' },
    });
    try {
      for await (const m of messages) {
        if (m.errorDetail || m.error) {
          throw new ComposeError(`service "${name}" failed to build: ${m.errorDetail?.message ?? m.error}`);
        }
      }
    } finally {
      secrets.cleanup();
    }
    if (!quiet) ctx.err.write(`[+] Built ${name} as ${tag}\n`);
  };
  return Object.assign(build, {
    check: (name: string, svc: Service) => {
      checkBuild(p, name, svc.build as Obj);
      buildSecrets(p, name, svc.build as Obj, true);
    },
  });
}

interface BuildPlan {
  /** The Dockerfile's absolute path ('' with dockerfile_inline). */
  readonly dockerfile: string;
  readonly named: Map<string, LocalNamedContext>;
  readonly platform?: string;
}

/**
 * Everything about a service's build that can be known without the engine: refused options
 * (naming the fix), the context and Dockerfile on disk, the named contexts. Throws ComposeError.
 */
function checkBuild(p: Project, name: string, b: Obj): BuildPlan {
  const fail = (msg: string): never => {
    throw new ComposeError(`service "${name}": ${msg}`);
  };
  if (present(b.ssh))
    fail(
      "build.ssh is not supported: Berth's builder has no SSH agent forwarding (RUN --mount=type=ssh); pass keys with build.secrets instead",
    );
  if (present(b.cache_to))
    fail("build.cache_to is not supported: Berth's builder keeps its cache locally only");
  if (present(b.privileged) || present(b.entitlements))
    fail(
      'build.privileged and build.entitlements are not supported: RUN steps never run privileged in Berth',
    );
  if (typeof b.isolation === 'string' && b.isolation !== 'default')
    fail(`build.isolation "${b.isolation}" is not supported: Linux builds have only "default"`);
  for (const k of ['provenance', 'sbom'] as const)
    if (b[k] !== undefined && b[k] !== false && b[k] !== 'false')
      fail(
        `build.${k} is not supported: Berth's builder writes no attestations; remove it or set it to false`,
      );
  const platforms = (b.platforms as string[] | undefined) ?? [];
  if (platforms.length > 1)
    fail(
      `build.platforms lists ${platforms.length} platforms: Berth builds for the host platform only; keep one`,
    );
  const context = String(b.context);
  if (/^(https?:\/\/|git@|git:\/\/)/.test(context) || context.endsWith('.git'))
    fail(
      `build.context ${context} is remote: Berth builds from a local directory; clone it and point context at it`,
    );
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(context);
  } catch {
    st = undefined;
  }
  if (!st?.isDirectory()) fail(`build.context ${context} is not a directory: create it or fix the path`);
  let dockerfile = '';
  if (typeof b.dockerfile_inline !== 'string') {
    dockerfile = path.resolve(context, String(b.dockerfile ?? 'Dockerfile'));
    if (!fs.existsSync(dockerfile))
      fail(`build.dockerfile ${dockerfile} not found: create it or fix build.dockerfile`);
  }
  const named = new Map<string, LocalNamedContext>();
  const all = services(p);
  for (const [n, raw] of Object.entries((b.additional_contexts ?? {}) as Obj)) {
    const v = String(raw ?? '');
    if (v.startsWith('service:')) {
      const other = v.slice('service:'.length);
      if (!Object.hasOwn(all, other) || other === name)
        fail(
          `build.additional_contexts.${n}: ${v} names no other service of the project: use service:NAME of a service that builds or has an image`,
        );
      named.set(n, { image: imageName(p, other, all[other]!) });
      continue;
    }
    try {
      named.set(n, namedContextValue(n, v, p.workingDir));
    } catch (err) {
      fail(`build.additional_contexts: ${(err as Error).message}`);
    }
  }
  return { dockerfile, named, ...(platforms[0] ? { platform: platforms[0] } : {}) };
}

/**
 * build.secrets → the builder's `secrets=id=ID,src=FILE` (the id is the entry's target, else its
 * source, as v2 passes them to BuildKit). Secrets from `environment:` go through a private temp
 * file (0600) removed after the build; the daemon reads the file, so this needs a local daemon.
 * `checkOnly`: validate, write nothing.
 */
function buildSecrets(
  p: Project,
  name: string,
  b: Obj,
  checkOnly = false,
): { params: string[]; cleanup: () => void } {
  const top = (p.model.secrets ?? {}) as Record<string, Obj>;
  const temps: string[] = [];
  const cleanup = () => {
    for (const d of temps) rmSync(d, { recursive: true, force: true });
  };
  const params: string[] = [];
  try {
    for (const e of (b.secrets as unknown[] | undefined) ?? []) {
      const ref = typeof e === 'string' ? { source: e } : (e as { source?: string; target?: string });
      const source = String(ref.source);
      const def = top[source];
      if (!def)
        throw new ComposeError(
          `service "${name}" build.secrets refers to undefined secret ${source}: add it under the top-level "secrets:"`,
        );
      const id = ref.target ?? source;
      if (typeof def.file === 'string') params.push(`id=${id},src=${def.file}`);
      else if (typeof def.environment === 'string') {
        const value = p.variable(def.environment);
        if (value === undefined)
          throw new ComposeError(
            `environment variable "${def.environment}" required by build secret "${source}" of service "${name}" is not set: set it in the shell or in .env`,
          );
        if (checkOnly) continue;
        const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-compose-secret-'));
        temps.push(dir);
        const file = path.join(dir, 'secret');
        writeFileSync(file, value, { mode: 0o600 });
        params.push(`id=${id},src=${file}`);
      } else
        throw new ComposeError(
          `service "${name}" build secret "${source}" has neither file: nor environment: (the builder needs one)`,
        );
    }
  } catch (err) {
    cleanup();
    throw err;
  }
  return { params, cleanup };
}
