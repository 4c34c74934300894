// Durable container records: containers/<id>/config.v2.json, all kept in memory so `ps` never
// touches the disk. Lookups follow Docker: full ID, name, then unique ID prefix.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { atomicWriteJson, readJsonIfExists, removeTempFiles } from '../base/atomic.ts';
import { InvalidArgumentError, NotFoundError } from '../errdefs/index.ts';
import type { ContainerRecord } from './record.ts';

/**
 * A removal cut short by a crash: the directory was renamed (the commit point of `rm`) but
 * what the container held elsewhere (network addresses, volumes) may not be released yet.
 */
export interface PendingRemoval {
  readonly rec: ContainerRecord;
  /** `rm -v` or `--rm`: its anonymous volumes go too. */
  readonly dropAnonymous: boolean;
}

const REMOVING = /^([a-f0-9]{64})\.removing(-v)?$/;

export class ContainerStore {
  readonly root: string;
  readonly #byId = new Map<string, ContainerRecord>();
  readonly #pending: PendingRemoval[] = [];

  private constructor(root: string) {
    this.root = root;
  }

  static async open(root: string): Promise<ContainerStore> {
    const s = new ContainerStore(root);
    await fsp.mkdir(root, { recursive: true, mode: 0o710 });
    for (const id of await fsp.readdir(root)) {
      const removing = REMOVING.exec(id);
      if (removing) {
        // A removal cut short: the service finishes it (pendingRemovals), then purges the files.
        const rec = (await readJsonIfExists(path.join(root, id, 'config.v2.json')).catch(() => undefined)) as
          | ContainerRecord
          | undefined;
        if (rec && rec.id === removing[1]) s.#pending.push({ rec, dropAnonymous: removing[2] !== undefined });
        else await fsp.rm(path.join(root, id), { recursive: true, force: true });
        continue;
      }
      if (!/^[a-f0-9]{64}$/.test(id)) continue;
      await removeTempFiles(path.join(root, id));
      const rec = (await readJsonIfExists(path.join(root, id, 'config.v2.json'))) as
        | ContainerRecord
        | undefined;
      if (rec) s.#byId.set(id, rec);
      else await fsp.rm(path.join(root, id), { recursive: true, force: true }); // half-created
    }
    return s;
  }

  dir(id: string): string {
    return path.join(this.root, id);
  }

  all(): ContainerRecord[] {
    return [...this.#byId.values()];
  }

  get(id: string): ContainerRecord | undefined {
    return this.#byId.get(id);
  }

  byName(name: string): ContainerRecord | undefined {
    const n = name.replace(/^\//, '');
    return this.all().find((c) => c.name === n);
  }

  /** Docker's lookup order: full ID, exact name, unique ID prefix. */
  find(ref: string): ContainerRecord {
    if (ref === '') throw new InvalidArgumentError('EMPTY_ID', 'no container name or ID given');
    const exact = this.#byId.get(ref) ?? this.byName(ref);
    if (exact) return exact;
    if (/^[a-f0-9]+$/.test(ref)) {
      const matches = this.all().filter((c) => c.id.startsWith(ref));
      if (matches.length === 1) return matches[0]!;
      if (matches.length > 1) {
        throw new InvalidArgumentError('AMBIGUOUS_ID', `multiple IDs found with provided prefix: ${ref}`);
      }
    }
    throw new NotFoundError('CONTAINER_NOT_FOUND', `No such container: ${ref}`);
  }

  async put(rec: ContainerRecord): Promise<void> {
    await fsp.mkdir(this.dir(rec.id), { recursive: true, mode: 0o710 });
    await atomicWriteJson(path.join(this.dir(rec.id), 'config.v2.json'), rec);
    this.#byId.set(rec.id, rec);
  }

  /**
   * The record in memory only, the file keeping the last `put`: for a state the caller is about
   * to supersede durably (an exit the removal that follows commits), so no reader waits on it.
   */
  remember(rec: ContainerRecord): void {
    if (this.#byId.has(rec.id)) this.#byId.set(rec.id, rec);
  }

  /** Removals a crash cut short, found at open; each is finished, then `purge`d. */
  pendingRemovals(): readonly PendingRemoval[] {
    return this.#pending;
  }

  /**
   * The commit point of a removal: the record goes (one rename), so a crash after it leaves no
   * half container. The renamed directory keeps the record until `purge`, for the start-up to
   * finish releasing what it held; `-v` in its name says anonymous volumes go too.
   */
  async markRemoved(id: string, dropAnonymous = false): Promise<void> {
    this.#byId.delete(id);
    await fsp.rename(this.dir(id), this.#doomed(id, dropAnonymous)).catch(() => {});
  }

  /** Where a removed container's files wait for `purge`. */
  removedDir(id: string, dropAnonymous: boolean): string {
    return this.#doomed(id, dropAnonymous);
  }

  /** Deletes the files of a container whose removal was committed (markRemoved). */
  async purge(id: string): Promise<void> {
    for (const v of [false, true]) await fsp.rm(this.#doomed(id, v), { recursive: true, force: true });
    const i = this.#pending.findIndex((p) => p.rec.id === id);
    if (i >= 0) this.#pending.splice(i, 1);
  }

  async delete(id: string): Promise<void> {
    await this.markRemoved(id);
    await this.purge(id);
  }

  #doomed(id: string, dropAnonymous: boolean): string {
    return `${this.dir(id)}.removing${dropAnonymous ? '-v' : ''}`;
  }
}
