// `RUN --mount=...`: bind (context or another stage), cache (kept across builds under the
// data root), tmpfs and secret mounts, turned into the RUN container's Binds and Tmpfs.
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '../../errdefs/index.ts';
import { expandWord, type Lookup } from '../dockerfile/expand.ts';
import type { Instruction } from '../dockerfile/types.ts';

export interface RunMount {
  readonly type: 'bind' | 'cache' | 'tmpfs' | 'secret';
  readonly target: string;
  readonly options: Readonly<Record<string, string>>;
}

function bad(instr: Instruction, why: string): never {
  throw new InvalidArgumentError(
    'DOCKERFILE_INVALID',
    `Dockerfile:${instr.range.start.line}: RUN --mount: ${why}`,
  );
}

const KEYS: Record<RunMount['type'], string[]> = {
  bind: ['target', 'source', 'from', 'rw', 'readwrite', 'ro', 'readonly'],
  cache: ['target', 'id', 'sharing', 'from', 'source', 'mode', 'uid', 'gid', 'ro', 'readonly'],
  tmpfs: ['target', 'size'],
  secret: ['id', 'target', 'required', 'mode', 'uid', 'gid', 'env'],
};

/** Parses the `--mount` flags of a RUN (values expanded). */
export function parseRunMounts(instr: Instruction, lookup: Lookup, esc: '\\' | '`'): RunMount[] {
  const out: RunMount[] = [];
  for (const f of instr.flags) {
    if (f.name !== 'mount') continue;
    const opts: Record<string, string> = {};
    for (const part of expandWord(f.value ?? '', lookup, esc).split(',')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const k = (eq === -1 ? part : part.slice(0, eq)).toLowerCase();
      opts[k === 'dst' || k === 'destination' ? 'target' : k === 'src' ? 'source' : k] =
        eq === -1 ? 'true' : part.slice(eq + 1);
    }
    const type = (opts.type ?? 'bind') as RunMount['type'];
    delete opts.type;
    if (!(type in KEYS)) {
      bad(
        instr,
        type === ('ssh' as string)
          ? 'type=ssh is not supported by Berth; copy keys with a secret mount instead'
          : `unknown mount type "${type}": use bind, cache, tmpfs or secret`,
      );
    }
    for (const k of Object.keys(opts)) {
      if (!KEYS[type].includes(k)) bad(instr, `unknown option "${k}" for a ${type} mount`);
    }
    let target = opts.target;
    if (type === 'secret') {
      if (!opts.id && !target) bad(instr, 'a secret mount needs id= (and the build needs --secret id=...)');
      opts.id = opts.id ?? path.posix.basename(target!);
      if (!target && !opts.env) target = `/run/secrets/${opts.id}`;
    }
    if (!target && !(type === 'secret' && opts.env)) bad(instr, `a ${type} mount needs target=<path>`);
    out.push({ type, target: target ? path.posix.resolve('/', target) : '', options: opts });
  }
  return out;
}

export interface MountPlan {
  readonly binds: string[];
  readonly tmpfs: Record<string, string>;
  /** Environment entries from `secret,env=NAME` mounts. */
  readonly env: string[];
  /** Container paths the mounts created, left out of the step's layer. */
  readonly targets: string[];
  /** Removes per-step temporary files (secret copies). */
  cleanup(): Promise<void>;
}

export interface MountSources {
  readonly contextDir: string;
  /** Root filesystem of a stage or image named by `from=`, mounted for the step. */
  rootOf(from: string): Promise<string>;
  /** Persistent directory of a cache mount id. */
  readonly cacheRoot: string;
  readonly secrets: Readonly<Record<string, string>>;
  readonly tmpDir: string;
}

/** Confines `p` below `root`: `../x` cannot leave the context (Docker resolves it inside). */
function inside(root: string, p: string): string {
  return path.join(root, path.posix.resolve('/', p ?? '.'));
}

export async function planRunMounts(
  instr: Instruction,
  mounts: readonly RunMount[],
  src: MountSources,
): Promise<MountPlan> {
  const binds: string[] = [];
  const tmpfs: Record<string, string> = {};
  const env: string[] = [];
  const temp: string[] = [];
  for (const m of mounts) {
    const o = m.options;
    const ro = o.ro === 'true' || o.readonly === 'true';
    switch (m.type) {
      case 'bind': {
        const base = o.from ? await src.rootOf(o.from) : src.contextDir;
        const source = inside(base, o.source ?? '.');
        await fsp.lstat(source).catch(() => bad(instr, `bind source "${o.source ?? '.'}" does not exist`));
        const rw = o.rw === 'true' || o.readwrite === 'true';
        if (rw) {
          // Writes to a rw bind are thrown away after the step (BuildKit's rule): work on a copy.
          const copy = path.join(src.tmpDir, `bind-${randomBytes(6).toString('hex')}`);
          await fsp.cp(source, copy, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
          temp.push(copy);
          binds.push(`${copy}:${m.target}`);
        } else binds.push(`${source}:${m.target}:ro`);
        break;
      }
      case 'cache': {
        const id = o.id ?? m.target;
        const dir = path.join(src.cacheRoot, createHash('sha256').update(id).digest('hex'));
        try {
          await fsp.mkdir(dir, { mode: o.mode ? Number.parseInt(o.mode, 8) : 0o755 });
          if (o.uid || o.gid) await fsp.chown(dir, Number(o.uid ?? 0), Number(o.gid ?? 0));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        binds.push(`${dir}:${m.target}${ro ? ':ro' : ''}`);
        break;
      }
      case 'tmpfs':
        tmpfs[m.target] = o.size ? `size=${o.size}` : '';
        break;
      case 'secret': {
        const file = src.secrets[o.id!];
        const required = o.required === 'true';
        if (file === undefined) {
          if (required)
            bad(instr, `secret "${o.id}" is required: pass it with --secret id=${o.id},src=<file>`);
          break;
        }
        if (o.env) {
          env.push(`${o.env}=${(await fsp.readFile(file, 'utf8')).replace(/\n$/, '')}`);
          if (!o.target) break;
        }
        // A private copy with the mount's mode and owner; the original file stays untouched.
        const copy = path.join(src.tmpDir, `secret-${randomBytes(6).toString('hex')}`);
        await fsp.copyFile(file, copy);
        await fsp.chmod(copy, o.mode ? Number.parseInt(o.mode, 8) : 0o400);
        await fsp.chown(copy, Number(o.uid ?? 0), Number(o.gid ?? 0));
        temp.push(copy);
        binds.push(`${copy}:${m.target}:ro`);
        break;
      }
    }
  }
  return {
    binds,
    tmpfs,
    env,
    targets: mounts.map((m) => m.target).filter((t) => t !== ''),
    cleanup: async () => {
      await Promise.all(temp.map((t) => fsp.rm(t, { recursive: true, force: true })));
    },
  };
}
