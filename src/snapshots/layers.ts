// Directory snapshots for overlayfs: each committed layer is `layers/<name>/diff` with a short
// link `layers/l/<short>` → `../<name>/diff`, so overlay mount options stay short even for
// images with 100+ layers. This module knows nothing about images or tar: callers prepare a
// directory, fill it, and commit it under a name (the image layer's chain ID hex).
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { atomicWriteJson, fsyncDir, removeTempFiles, TEMP_PREFIX } from '../base/atomic.ts';
import { InvalidArgumentError, NotFoundError } from '../errdefs/index.ts';

const LAYER_NAME = /^[a-f0-9]{64}$/;

export interface LayerMeta {
  readonly name: string;
  readonly parent?: string;
  /** Short link ID under `l/`. */
  readonly link: string;
  /** Bytes of regular file content in this layer alone. */
  readonly size: number;
  /** Caller-defined extra facts (e.g. the diff ID). */
  readonly labels: Readonly<Record<string, string>>;
}

export interface PreparedLayer {
  /** Empty directory to fill; becomes the layer's `diff/`. */
  readonly dir: string;
  commit(meta: {
    name: string;
    parent?: string;
    size: number;
    labels?: Record<string, string>;
  }): Promise<LayerMeta>;
  abort(): Promise<void>;
}

const META_FILE = 'meta.json';

export class LayerSnapshots {
  readonly #root: string;
  readonly #linkDir: string;

  private constructor(root: string) {
    this.#root = root;
    this.#linkDir = path.join(root, 'l');
  }

  /** `root` is `<data-root>/layers`. */
  static async open(root: string): Promise<LayerSnapshots> {
    const s = new LayerSnapshots(root);
    await fsp.mkdir(s.#linkDir, { recursive: true });
    return s;
  }

  /** A layer's directory; names are chain ID hex, so none can reach outside the root. */
  #dir(name: string): string {
    if (!LAYER_NAME.test(name)) {
      throw new InvalidArgumentError(
        'INVALID_LAYER_NAME',
        `invalid layer name ${JSON.stringify(name)}: expected 64 hex digits`,
      );
    }
    return path.join(this.#root, name);
  }

  diffDir(name: string): string {
    return path.join(this.#dir(name), 'diff');
  }

  async get(name: string): Promise<LayerMeta | undefined> {
    if (!LAYER_NAME.test(name)) return undefined; // not a layer name: no such layer
    try {
      return JSON.parse(await fsp.readFile(path.join(this.#root, name, META_FILE), 'utf8')) as LayerMeta;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async list(): Promise<LayerMeta[]> {
    const out: LayerMeta[] = [];
    for (const name of await fsp.readdir(this.#root)) {
      if (name === 'l' || name === 'empty' || name.startsWith(TEMP_PREFIX)) continue;
      const m = await this.get(name);
      if (m) out.push(m);
    }
    return out;
  }

  /**
   * Like prepare, with `filled` (a directory on the same filesystem, already holding the
   * layer's content in overlay form) moved in as the layer's `diff/` instead of an empty one.
   */
  async adopt(filled: string): Promise<PreparedLayer> {
    return this.prepare(filled);
  }

  async prepare(filled?: string): Promise<PreparedLayer> {
    const tmp = path.join(this.#root, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    const dir = path.join(tmp, 'diff');
    if (filled) {
      await fsp.mkdir(tmp, { mode: 0o755 });
      await fsp.rename(filled, dir);
    } else await fsp.mkdir(dir, { recursive: true, mode: 0o755 });
    let done = false;
    return {
      dir,
      commit: async ({ name, parent, size, labels = {} }) => {
        const final = this.#dir(name);
        done = true;
        const existing = await this.get(name);
        if (existing) {
          // Someone committed the same content first: keep theirs.
          await fsp.rm(tmp, { recursive: true, force: true });
          return existing;
        }
        const link = randomBytes(13)
          .toString('base64url')
          .toUpperCase()
          .replace(/[^A-Z0-9]/g, 'X')
          .slice(0, 26);
        const meta: LayerMeta = { name, ...(parent !== undefined ? { parent } : {}), link, size, labels };
        await atomicWriteJson(path.join(tmp, META_FILE), meta);
        try {
          await fsp.rename(tmp, final);
        } catch (err) {
          // A concurrent commit of the same content won the rename: keep theirs.
          const code = (err as NodeJS.ErrnoException).code;
          const theirs = code === 'ENOTEMPTY' || code === 'EEXIST' ? await this.get(name) : undefined;
          if (!theirs) throw err;
          await fsp.rm(tmp, { recursive: true, force: true });
          return theirs;
        }
        await fsyncDir(this.#root);
        await fsp.symlink(path.join('..', name, 'diff'), path.join(this.#linkDir, link));
        return meta;
      },
      abort: async () => {
        if (done) return;
        done = true;
        await fsp.rm(tmp, { recursive: true, force: true });
      },
    };
  }

  async remove(name: string): Promise<void> {
    const meta = await this.get(name);
    if (!meta) throw new NotFoundError('LAYER_NOT_FOUND', `layer ${name} not found`);
    await fsp.rm(path.join(this.#linkDir, meta.link), { force: true });
    // Rename first so a crash mid-delete leaves a temp dir that recovery removes, never a
    // half-deleted layer that looks committed.
    const doomed = path.join(this.#root, `${TEMP_PREFIX}rm-${name}`);
    await fsp.rename(this.#dir(name), doomed);
    await fsp.rm(doomed, { recursive: true, force: true });
  }

  /** Overlay lowerdir entries (relative to the layers root), topmost first, for a layer chain. */
  async lowerDirs(top: string): Promise<string[]> {
    const out: string[] = [];
    let cur: string | undefined = top;
    while (cur !== undefined) {
      const m = await this.get(cur);
      if (!m) throw new NotFoundError('LAYER_NOT_FOUND', `layer ${cur} not found`);
      out.push(`l/${m.link}`);
      cur = m.parent;
    }
    return out;
  }

  /** Removes half-prepared layers, uncommitted directories and dangling short links. */
  async recover(): Promise<number> {
    let n = await removeTempFiles(this.#root);
    for (const name of await fsp.readdir(this.#root)) {
      if (name === 'l' || name === 'empty') continue;
      if (!(await this.get(name))) {
        await fsp.rm(path.join(this.#root, name), { recursive: true, force: true });
        n++;
      }
    }
    for (const link of await fsp.readdir(this.#linkDir)) {
      const p = path.join(this.#linkDir, link);
      try {
        await fsp.stat(p);
      } catch {
        await fsp.rm(p, { force: true });
        n++;
      }
    }
    return n;
  }
}
