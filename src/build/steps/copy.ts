// COPY and ADD into a step's root filesystem: Docker's destination rules (a trailing `/`, several
// sources or a wildcard make the destination a directory; a directory source copies its
// contents), ownership root:root unless --chown (names resolved in the destination image),
// --chmod, --parents, --exclude, heredoc sources, and for ADD local tar archives unpacked and
// remote URLs downloaded with an optional --checksum.
import fs, { promises as fsp, type Stats } from 'node:fs';
import path from 'node:path';
import { mkdirInRoot, readInRoot, resolveInRoot } from '../../containers/rootfs.ts';
import { InvalidArgumentError } from '../../errdefs/index.ts';
import { parseGroup, parsePasswd } from '../../runtime/user.ts';
import { IgnoreMatcher } from '../context/index.ts';

export interface CopyItem {
  /** Path relative to the source root ('.' for the root itself). */
  readonly rel: string;
  /** The pattern it matched, for --parents (the part before the first wildcard is dropped). */
  readonly pattern: string;
}

export interface CopyPlan {
  readonly srcRoot: string;
  readonly items: readonly CopyItem[];
  /** Inline files from heredocs: name → content. */
  readonly inline: readonly { name: string; content: string }[];
  /** Absolute destination inside the image (WORKDIR applied); may end with `/`. */
  readonly dest: string;
  /** The destination is a directory (trailing `/`, several sources, a wildcard). */
  readonly destIsDir: boolean;
  readonly chown?: string;
  readonly chmod?: number;
  readonly parents: boolean;
  readonly exclude: readonly string[];
  /** ADD: unpack local tar archives. */
  readonly unpack: boolean;
  readonly extractArchive?: (file: string, destDir: string) => Promise<void>;
}

function bad(why: string): never {
  throw new InvalidArgumentError('DOCKERFILE_INVALID', why);
}

/** `user[:group]` → numbers, names looked up in the destination's /etc/passwd and /etc/group. */
export async function resolveChown(root: string, spec: string): Promise<{ uid: number; gid: number }> {
  const [u = '', g] = spec.split(':');
  const passwd = parsePasswd((await readInRoot(root, '/etc/passwd')) ?? '');
  const groups = parseGroup((await readInRoot(root, '/etc/group')) ?? '');
  const uid = /^\d+$/.test(u)
    ? Number(u)
    : (passwd.find((p) => p.name === u)?.uid ??
      bad(`--chown=${spec}: unable to find user ${u}: no matching entries in the image's /etc/passwd`));
  if (g === undefined || g === '') return { uid, gid: uid };
  const gid = /^\d+$/.test(g)
    ? Number(g)
    : (groups.find((x) => x.name === g)?.gid ??
      bad(`--chown=${spec}: unable to find group ${g}: no matching entries in the image's /etc/group`));
  return { uid, gid };
}

/**
 * `--exclude` patterns (.dockerignore syntax) tested against a path below a copied source and
 * against the same path with the source's name in front, so `--exclude=*.log` and
 * `--exclude=dir/*.log` both work for `COPY dir/ /dst/`.
 */
export function excluder(patterns: readonly string[]): (source: string, below: string) => boolean {
  if (patterns.length === 0) return () => false;
  const m = new IgnoreMatcher(patterns);
  return (source, below) => m.matches(below) || (source !== '.' && m.matches(`${source}/${below}`));
}

interface Owner {
  uid: number;
  gid: number;
}

/** Files up to this size are copied with synchronous calls (see copyEntry). */
const SMALL_FILE = 256 << 10;

/**
 * Copies one source entry (recursively for directories). Synchronous calls for metadata and
 * small files: a build context is mostly small files, and five promise round trips through
 * the thread pool per file cost ~0.8 ms where the system calls take ~30 µs. The event loop is
 * given back every 200 entries so the daemon keeps answering during a large COPY.
 */
async function copyEntry(
  src: string,
  st: Stats,
  dst: string,
  owner: Owner | undefined,
  chmod: number | undefined,
  below: string,
  skip: (below: string) => boolean,
  counter = { n: 0 },
): Promise<void> {
  if (below !== '' && skip(below)) return;
  if (++counter.n % 200 === 0) await new Promise((r) => setImmediate(r));
  const own = (p: string, s: Stats) => {
    fs.lchownSync(p, owner?.uid ?? 0, owner?.gid ?? 0);
    if (!s.isSymbolicLink()) {
      fs.chmodSync(p, chmod ?? s.mode & 0o7777);
      fs.utimesSync(p, s.atime, s.mtime);
    }
  };
  const existing = lstatOrUndefined(dst);
  if (st.isDirectory()) {
    if (existing && !existing.isDirectory()) fs.rmSync(dst, { recursive: true, force: true });
    if (!existing?.isDirectory()) fs.mkdirSync(dst);
    for (const name of fs.readdirSync(src).sort()) {
      const s = fs.lstatSync(path.join(src, name));
      const b = below ? `${below}/${name}` : name;
      await copyEntry(path.join(src, name), s, path.join(dst, name), owner, chmod, b, skip, counter);
    }
    own(dst, st);
    return;
  }
  if (existing) fs.rmSync(dst, { recursive: true, force: true });
  if (st.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(src), dst);
  else if (st.isFile()) {
    if (st.size <= SMALL_FILE) fs.copyFileSync(src, dst);
    else await fsp.copyFile(src, dst);
  } else return; // sockets, fifos and devices are not part of a build context
  own(dst, st);
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
}

/** Mode bits from `--chmod` (octal only, as the legacy builder). */
export function parseChmod(v: string): number {
  if (!/^[0-7]{3,4}$/.test(v)) bad(`invalid --chmod=${v}: use octal permission bits such as 755 or 0644`);
  return Number.parseInt(v, 8);
}

/**
 * What --parents drops from a source path: nothing, or everything up to a `/./` pivot
 * (`./x/./y/*.txt` keeps `y/...`), as rsync's --relative.
 */
function patternBase(pattern: string): string {
  const body = pattern.replace(/^(\.\/)+/, '');
  const pivot = body.indexOf('/./');
  return pivot === -1 ? '' : path.posix.resolve('/', body.slice(0, pivot)).slice(1);
}

/**
 * Whether ADD unpacks `file`: a regular file that starts like a tar (plain or compressed). Only
 * a regular file is opened: opening a FIFO would block a thread of the pool until a writer
 * came (never), freezing the build and, four such builds later, every file operation of the
 * daemon. O_NOFOLLOW|O_NONBLOCK keep that true if the node changed since `st` was taken.
 */
async function isArchive(file: string, st: Stats): Promise<boolean> {
  if (!st.isFile()) return false;
  const fh = await fsp.open(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    if (bytesRead >= 3 && buf[0] === 0x1f && buf[1] === 0x8b) return true; // gzip
    if (bytesRead >= 3 && buf.subarray(0, 3).toString('latin1') === 'BZh') return true;
    if (bytesRead >= 6 && buf.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])))
      return true;
    return bytesRead >= 262 && buf.subarray(257, 262).toString('latin1') === 'ustar';
  } finally {
    await fh.close();
  }
}

/** Performs the copy into `root` (the step's mounted filesystem). */
export async function copyInto(root: string, plan: CopyPlan): Promise<void> {
  const owner = plan.chown ? await resolveChown(root, plan.chown) : undefined;
  const destPath = plan.dest;
  const ensureDir = async (dir: string) => {
    const existed = await fsp.lstat(await resolveInRoot(root, dir)).catch(() => undefined);
    await mkdirInRoot(root, dir);
    if (!existed && owner) await fsp.chown(await resolveInRoot(root, dir), owner.uid, owner.gid);
  };
  const existing = await fsp.stat(await resolveInRoot(root, destPath)).catch(() => undefined);
  const intoDir = plan.destIsDir || Boolean(existing?.isDirectory());
  await ensureDir(intoDir ? destPath : path.posix.dirname(destPath));
  for (const f of plan.inline) {
    const target = intoDir ? path.posix.join(destPath, f.name) : destPath;
    const real = await resolveInRoot(root, target);
    await fsp.rm(real, { force: true, recursive: true });
    await fsp.writeFile(real, f.content, { mode: plan.chmod ?? 0o644 });
    await fsp.chmod(real, plan.chmod ?? 0o644);
    await fsp.chown(real, owner?.uid ?? 0, owner?.gid ?? 0);
  }
  const skipOf = excluder(plan.exclude);
  for (const item of plan.items) {
    const skip = (below: string) => skipOf(item.rel, below);
    // A source path that is a symlink, or passes through one, is followed inside the source
    // root (the context or the stage's filesystem), which acts as `/` for it: Docker's
    // FollowSymlinkInScope. `src` then holds no symlink, and lstat makes sure nothing on the
    // host is followed. Symlinks below a copied directory are copied as symlinks (copyEntry).
    const src = await resolveInRoot(plan.srcRoot, item.rel);
    const st = await fsp.lstat(src);
    if (st.isDirectory()) {
      let target = destPath;
      if (plan.parents && item.rel !== '.') {
        const base = patternBase(item.pattern);
        target = path.posix.join(destPath, path.posix.relative(base || '.', item.rel));
      }
      await ensureDir(target);
      const real = await resolveInRoot(root, target);
      for (const name of (await fsp.readdir(src)).sort()) {
        const s = await fsp.lstat(path.join(src, name));
        await copyEntry(path.join(src, name), s, path.join(real, name), owner, plan.chmod, name, skip);
      }
      continue;
    }
    if (plan.exclude.length > 0 && new IgnoreMatcher(plan.exclude).matches(item.rel)) continue;
    let target = intoDir ? path.posix.join(destPath, path.posix.basename(item.rel)) : destPath;
    if (plan.parents) {
      const base = patternBase(item.pattern);
      target = path.posix.join(destPath, path.posix.relative(base || '.', item.rel));
      await ensureDir(path.posix.dirname(target));
    }
    if (plan.unpack && plan.extractArchive && (await isArchive(src, st))) {
      // An archive unpacks into the destination as a directory, whatever its spelling.
      await ensureDir(destPath);
      await plan.extractArchive(src, await resolveInRoot(root, destPath));
      continue;
    }
    const real = await resolveInRoot(root, target);
    await copyEntry(src, st, real, owner, plan.chmod, '', () => false);
  }
}
