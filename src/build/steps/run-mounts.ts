// `RUN --mount=...`: bind (context or another stage), cache (kept across builds under the
// data root), tmpfs and secret mounts, turned into the RUN container's Binds and Tmpfs.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { InvalidArgumentError } from '../../errdefs/index.ts';
import { expandWord, type Lookup } from '../dockerfile/expand.ts';
import type { Instruction } from '../dockerfile/types.ts';
import { resolveInRoot } from '../../pathsafe/index.ts';
import { getOwn, setOwn } from '../../base/own.ts';

export interface RunMount {
  readonly type: 'bind' | 'cache' | 'tmpfs' | 'secret';
  readonly target: string;
  readonly options: Readonly<Record<string, string>>;
}

const execFileP = promisify(execFile);

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
      setOwn(
        opts,
        k === 'dst' || k === 'destination' ? 'target' : k === 'src' ? 'source' : k,
        eq === -1 ? 'true' : part.slice(eq + 1),
      );
    }
    const type = (getOwn(opts, 'type') ?? 'bind') as RunMount['type'];
    delete opts.type;
    if (!Object.hasOwn(KEYS, type)) {
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

/** An octal permission value (`0755`, `700`) of a mount option; `fallback` when unset. */
function modeOption(instr: Instruction, o: Readonly<Record<string, string>>, fallback: number): number {
  if (o.mode === undefined) return fallback;
  if (!/^0?[0-7]{1,4}$/.test(o.mode)) bad(instr, `mode=${o.mode} is not an octal file mode such as 0755`);
  return Number.parseInt(o.mode, 8);
}

/** A uid= or gid= option: a decimal id the kernel accepts (0 when unset). */
function idOption(instr: Instruction, o: Readonly<Record<string, string>>, key: 'uid' | 'gid'): number {
  const v = o[key];
  if (v === undefined) return 0;
  const n = /^\d{1,10}$/.test(v) ? Number(v) : Number.NaN;
  if (!(n >= 0 && n < 0xffffffff))
    bad(instr, `${key}=${v} is not a numeric ${key === 'uid' ? 'user' : 'group'} id`);
  return n;
}

/**
 * The host path of a bind source, resolved inside its root (the context or a stage's root)
 * with every symlink followed against that root: a link to `/etc` names the root's etc, never
 * the host's. The roots are not changed by anyone while the step runs, so a path is enough.
 */
async function bindSource(instr: Instruction, base: string, source: string, what: string): Promise<string> {
  const r = await resolveInRoot(base, source, { scope: what });
  if (r.stat === undefined) bad(instr, `bind source "${source}" does not exist in ${what}`);
  return r.abs;
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
        const what = o.from ? `"${o.from}"` : 'the build context';
        const source = await bindSource(instr, base, o.source ?? '.', what);
        const rw = o.rw === 'true' || o.readwrite === 'true';
        if (rw) {
          // Writes to a rw bind are thrown away after the step (BuildKit's rule): work on a copy
          // of the resolved content. Links inside it are copied as links; the container resolves
          // them in its own root, and the copy itself is a real file or directory.
          const copy = path.join(src.tmpDir, `bind-${randomBytes(6).toString('hex')}`);
          // cp -a: owners, modes, times, links and special files (a FIFO) kept, nothing followed.
          await execFileP('cp', ['-a', '-T', '--', source, copy]).catch((err: { stderr?: string }) =>
            bad(
              instr,
              `copying the rw bind source "${o.source ?? '.'}" failed: ${err.stderr?.trim() || String(err)}`,
            ),
          );
          temp.push(copy);
          binds.push(`${copy}:${m.target}`);
        } else binds.push(`${source}:${m.target}:ro`);
        break;
      }
      case 'cache': {
        // The id only names a directory through its hash, so no id can reach outside cacheRoot.
        const id = o.id ?? m.target;
        const dir = path.join(src.cacheRoot, createHash('sha256').update(id).digest('hex'));
        const mode = modeOption(instr, o, 0o755);
        const uid = idOption(instr, o, 'uid');
        const gid = idOption(instr, o, 'gid');
        try {
          await fsp.mkdir(dir, { mode });
          if (o.uid || o.gid) await fsp.chown(dir, uid, gid);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        binds.push(`${dir}:${m.target}${ro ? ':ro' : ''}`);
        break;
      }
      case 'tmpfs':
        // The size goes into mount options: only a number with an optional unit may reach them.
        if (o.size !== undefined && !/^\d{1,19}[kmg%]?$/i.test(o.size))
          bad(instr, `size=${o.size} is not a size such as 64m`);
        tmpfs[m.target] = o.size ? `size=${o.size}` : '';
        break;
      case 'secret': {
        const file = Object.hasOwn(src.secrets, o.id!) ? src.secrets[o.id!] : undefined;
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
        await fsp.chmod(copy, modeOption(instr, o, 0o400));
        await fsp.chown(copy, idOption(instr, o, 'uid'), idOption(instr, o, 'gid'));
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
