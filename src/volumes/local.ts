// The local volume driver and its store: `<root>/<name>/_data` holds the data and
// `<root>/<name>/volume.json` the record (labels, options, creation time). Names are checked
// against Docker's rule before any path is built, so a name is always one path component below
// the root. Users (containers) are counted in memory; the container service re-registers them
// at start-up from its records.
import { execFile } from 'node:child_process';
import { crashPoint } from '../base/crashpoint.ts';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { atomicWriteJson, fsyncDir, readJsonIfExists, removeTempFiles, TEMP_PREFIX } from '../base/atomic.ts';
import { KeyedMutex } from '../base/lock.ts';
import type { Log } from '../base/log.ts';
import { ConflictError, InternalError, NotFoundError } from '../errdefs/index.ts';
import { isMounted } from '../snapshots/index.ts';
import { ANONYMOUS_LABEL, checkDriverOpts, checkVolumeName } from './spec.ts';

const run = promisify(execFile);
const RECORD = 'volume.json';
const REMOVING = '.removing-';

export interface VolumeRecord {
  readonly name: string;
  readonly driver: 'local';
  readonly labels: Record<string, string>;
  /** Local driver options (`type`, `device`, `o`); empty for a plain directory. */
  readonly options: Record<string, string>;
  readonly createdAt: string;
}

export interface Volume extends VolumeRecord {
  /** The host directory containers see (`<root>/<name>/_data`). */
  readonly mountpoint: string;
}

export interface CreateVolumeRequest {
  /** Generated (64 hex digits) when absent. */
  readonly name?: string;
  /** Made for a container without a name (`-v /path`, VOLUME): labelled so prune takes it. */
  readonly anonymous?: boolean;
  readonly driver?: string;
  readonly options?: Record<string, string>;
  readonly labels?: Record<string, string>;
}

export class LocalVolumes {
  readonly root: string;
  readonly #log: Log;
  readonly #byName = new Map<string, VolumeRecord>();
  /** volume name → IDs of containers that reference it (created or running). */
  readonly #users = new Map<string, Set<string>>();
  readonly #lock = new KeyedMutex();

  private constructor(root: string, log: Log) {
    this.root = root;
    this.#log = log;
  }

  /** Opens the store: removes half-created and half-removed volumes, loads the records. */
  static async open(root: string, log: Log): Promise<LocalVolumes> {
    const v = new LocalVolumes(root, log);
    await fsp.mkdir(root, { recursive: true, mode: 0o701 });
    for (const entry of await fsp.readdir(root)) {
      const dir = path.join(root, entry);
      if (entry.startsWith(TEMP_PREFIX) || entry.startsWith(REMOVING)) {
        // A create or a remove cut short by a crash: never a listed volume. Refuse to walk into a
        // mount (an option volume still mounted) rather than delete what it shows.
        if (!(await hasMountUnder(dir))) await fsp.rm(dir, { recursive: true, force: true });
        continue;
      }
      if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(entry)) continue;
      const rec = (await readJsonIfExists(path.join(dir, RECORD)).catch(() => undefined)) as
        | VolumeRecord
        | undefined;
      // A copy-up cut short (see populate): never visible to containers, safe to drop.
      await removeTempFiles(dir);
      if (rec && rec.name === entry) {
        v.#byName.set(entry, rec);
        continue;
      }
      // A volume directory without a readable record (written by hand or damaged): keep its data
      // and list it as a plain local volume, as Docker lists what it finds on disk.
      const st = await fsp.stat(path.join(dir, '_data')).catch(() => undefined);
      if (!st?.isDirectory()) continue;
      const adopted: VolumeRecord = {
        name: entry,
        driver: 'local',
        labels: {},
        options: {},
        createdAt: st.mtime.toISOString(),
      };
      await atomicWriteJson(path.join(dir, RECORD), adopted);
      v.#byName.set(entry, adopted);
      log('warn', 'adopted a volume directory without a record', { name: entry });
    }
    return v;
  }

  dataPath(name: string): string {
    checkVolumeName(name);
    return path.join(this.root, name, '_data');
  }

  #view(r: VolumeRecord): Volume {
    return { ...r, mountpoint: path.join(this.root, r.name, '_data') };
  }

  list(): Volume[] {
    return [...this.#byName.values()].map((r) => this.#view(r));
  }

  get(name: string): Volume {
    const r = this.#byName.get(name);
    if (!r) throw new NotFoundError('VOLUME_NOT_FOUND', `get ${name}: no such volume`);
    return this.#view(r);
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  isAnonymous(name: string): boolean {
    return Object.hasOwn(this.#byName.get(name)?.labels ?? {}, ANONYMOUS_LABEL);
  }

  /** Creates a volume; an existing name is returned as it is (Docker's idempotent create). */
  async create(req: CreateVolumeRequest): Promise<{ volume: Volume; created: boolean }> {
    if (req.driver && req.driver !== 'local') {
      throw new NotFoundError(
        'VOLUME_DRIVER_NOT_FOUND',
        `error looking up volume plugin ${req.driver}: plugin "${req.driver}" not found (only the local driver exists)`,
      );
    }
    const options = { ...(req.options ?? {}) };
    checkDriverOpts(options);
    const anonymous = req.anonymous === true;
    const name = req.name || randomBytes(32).toString('hex');
    checkVolumeName(name);
    return this.#lock.run(name, async () => {
      const existing = this.#byName.get(name);
      if (existing) return { volume: this.#view(existing), created: false };
      const rec: VolumeRecord = {
        name,
        driver: 'local',
        labels: { ...(req.labels ?? {}), ...(anonymous ? { [ANONYMOUS_LABEL]: '' } : {}) },
        options,
        createdAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      };
      // Built under a temporary name and renamed into place: a crash leaves either nothing or
      // a whole volume (start-up removes the temporary directory).
      const tmp = path.join(this.root, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}-${name}`);
      try {
        await fsp.mkdir(path.join(tmp, '_data'), { recursive: true, mode: 0o755 });
        await fsp.chmod(tmp, 0o701);
        await atomicWriteJson(path.join(tmp, RECORD), rec);
        crashPoint('volume-create:before-rename');
        await fsp.rename(tmp, path.join(this.root, name));
        await fsyncDir(this.root);
      } catch (err) {
        await fsp.rm(tmp, { recursive: true, force: true });
        throw err;
      }
      this.#byName.set(name, rec);
      return { volume: this.#view(rec), created: true };
    });
  }

  /**
   * Registers a container as a user of a volume, creating the volume first when missing
   * (under the volume's lock, so a concurrent remove cannot slip in between).
   */
  async acquire(
    name: string | undefined,
    containerId: string,
    create: Omit<CreateVolumeRequest, 'name'> = {},
  ): Promise<{ volume: Volume; created: boolean }> {
    const r = await this.create({ ...create, ...(name ? { name } : {}) });
    await this.#lock.run(r.volume.name, async () => {
      if (!this.#byName.has(r.volume.name))
        throw new NotFoundError('VOLUME_NOT_FOUND', `volume ${r.volume.name} was removed meanwhile`);
      this.#addUser(r.volume.name, containerId);
    });
    return r;
  }

  /** Start-up: a container record that references the volume. */
  reference(name: string, containerId: string): void {
    if (this.#byName.has(name)) this.#addUser(name, containerId);
  }

  #addUser(name: string, id: string): void {
    const set = this.#users.get(name) ?? new Set<string>();
    set.add(id);
    this.#users.set(name, set);
  }

  release(name: string, containerId: string): void {
    const set = this.#users.get(name);
    set?.delete(containerId);
    if (set?.size === 0) this.#users.delete(name);
  }

  users(name: string): string[] {
    return [...(this.#users.get(name) ?? [])];
  }

  /**
   * Removes a volume and its data. In use → 409 naming the containers (`nameOf` turns IDs into
   * names for the message). `force` only makes a missing volume a success, as in Docker.
   */
  async remove(
    name: string,
    opts: { force?: boolean; nameOf?: (id: string) => string | undefined } = {},
  ): Promise<void> {
    if (!this.#byName.has(name)) {
      if (opts.force) return;
      throw new NotFoundError('VOLUME_NOT_FOUND', `get ${name}: no such volume`);
    }
    await this.#lock.run(name, async () => {
      if (!this.#byName.has(name)) {
        if (opts.force) return;
        throw new NotFoundError('VOLUME_NOT_FOUND', `get ${name}: no such volume`);
      }
      const users = this.users(name);
      if (users.length > 0) {
        const named = users.map((id) => {
          const n = opts.nameOf?.(id);
          return n ? `${id} (${n})` : id;
        });
        throw new ConflictError(
          'VOLUME_IN_USE',
          `remove ${name}: volume is in use - [${named.join(', ')}]: remove the container(s) first`,
        );
      }
      const dir = path.join(this.root, name);
      // An option volume (tmpfs, bind) is unmounted first; its data must never be walked by rm.
      await this.deactivate(name);
      if (await hasMountUnder(dir)) {
        throw new ConflictError(
          'VOLUME_BUSY',
          `remove ${name}: ${dir} still has a mount on it; unmount it and retry`,
        );
      }
      // Renamed away first: a crash mid-delete leaves no half volume behind (start-up finishes it).
      const doomed = path.join(this.root, `${REMOVING}${randomBytes(6).toString('hex')}-${name}`);
      await fsp.rename(dir, doomed);
      this.#byName.delete(name);
      this.#users.delete(name);
      await fsyncDir(this.root).catch(() => {});
      crashPoint('volume-rm:after-rename');
      await fsp.rm(doomed, { recursive: true, force: true });
    });
  }

  /**
   * Makes a volume's data ready for a container: a volume with driver options is mounted on
   * its `_data` (tmpfs, bind of a host path…) the first time it is needed. Returns the path.
   */
  async activate(name: string): Promise<string> {
    const rec = this.#byName.get(name);
    if (!rec) throw new NotFoundError('VOLUME_NOT_FOUND', `get ${name}: no such volume`);
    const data = this.dataPath(name);
    if (Object.keys(rec.options).length === 0) return data;
    await this.#lock.run(`mount:${name}`, async () => {
      if (await isMounted(data)) return;
      const { type, device, o } = rec.options;
      const args = ['-t', type!, ...(o ? ['-o', o] : []), device!, data];
      try {
        await run('mount', args);
      } catch (err) {
        throw new InternalError(
          'VOLUME_MOUNT_FAILED',
          `error while mounting volume '${name}' (type=${type} device=${device}${o ? ` o=${o}` : ''}): ${(err as { stderr?: string }).stderr?.trim() || String(err)}`,
        );
      }
    });
    return data;
  }

  /**
   * Copy-up: fills an empty volume with a copy of `src` (a directory the caller resolved inside
   * a container's rootfs), keeping owners, modes, links and xattrs (`cp -a`), and gives `_data`
   * the source directory's owner and mode. The copy is made in a staging directory beside
   * `_data` that no container sees, then renamed in entry by entry: a container already using
   * the volume cannot plant a symlink that redirects the copy onto the host.
   */
  async populate(name: string, src: string): Promise<void> {
    const data = this.dataPath(name);
    await this.#lock.run(`populate:${name}`, async () => {
      if ((await fsp.readdir(data)).length > 0) return;
      const parent = path.dirname(data);
      const [dataSt, parentSt] = await Promise.all([fsp.stat(data), fsp.stat(parent)]);
      const cp = (to: string) =>
        run('cp', ['-a', '--', `${src}/.`, `${to}/`]).catch((err: { stderr?: string }) => {
          throw new InternalError(
            'VOLUME_COPY_FAILED',
            `copying image content into volume ${name} failed: ${err.stderr?.trim() || String(err)}`,
          );
        });
      if (dataSt.dev !== parentSt.dev) {
        // An option volume (its own filesystem): renames cannot cross, copy in place.
        await cp(data);
        return;
      }
      const stage = path.join(parent, `${TEMP_PREFIX}copy-${randomBytes(6).toString('hex')}`);
      await fsp.mkdir(stage);
      try {
        await cp(stage);
        for (const entry of await fsp.readdir(stage)) {
          // rename never follows a symlink at the destination; an existing entry is kept.
          await fsp.rename(path.join(stage, entry), path.join(data, entry)).catch(() => {});
        }
        const st = await fsp.stat(stage);
        await fsp.chown(data, st.uid, st.gid);
        await fsp.chmod(data, st.mode & 0o7777);
      } finally {
        await fsp.rm(stage, { recursive: true, force: true });
      }
    });
  }

  /** Unmounts an option volume's data (when its last running container stopped). */
  async deactivate(name: string): Promise<void> {
    const rec = this.#byName.get(name);
    if (!rec || Object.keys(rec.options).length === 0) return;
    const data = path.join(this.root, name, '_data');
    await this.#lock.run(`mount:${name}`, async () => {
      if (!(await isMounted(data))) return;
      try {
        await run('umount', [data]);
      } catch (err) {
        this.#log('warn', 'volume unmount failed', { name, err: String(err) });
      }
    });
  }

  /**
   * Removes unused volumes the filter accepts; returns their names and the bytes freed. Which
   * ones (anonymous only, or all) is the caller's filter: Docker 23+ prunes anonymous ones
   * unless asked for all.
   */
  async prune(filter: (v: Volume) => boolean): Promise<{ deleted: string[]; reclaimed: number }> {
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of this.list()) {
      if (this.users(v.name).length > 0 || !filter(v)) continue;
      const size = await this.size(v.name);
      try {
        await this.remove(v.name);
      } catch {
        continue; // taken by a container meanwhile
      }
      deleted.push(v.name);
      if (size > 0) reclaimed += size;
    }
    return { deleted, reclaimed };
  }

  /** Bytes used by a volume's data (`du`), or -1 when it cannot be measured. */
  async size(name: string): Promise<number> {
    try {
      const { stdout } = await run('du', ['-s', '-B1', '-x', this.dataPath(name)]);
      return Number(stdout.split('\t')[0]) || 0;
    } catch {
      return -1;
    }
  }
}

/** Whether any mount lies at or below `dir` (never walk such a tree to delete it). */
async function hasMountUnder(dir: string): Promise<boolean> {
  const info = await fsp.readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').some((l) => {
    const m = l.split(' ')[4];
    return m !== undefined && (m === dir || m.startsWith(`${dir}/`));
  });
}
