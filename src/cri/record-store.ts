// Durable CRI records (pod sandboxes, containers): <root>/<id>/<file> written atomically, all
// kept in memory, with a name index that refuses a second object of the same name (the kubelet
// relies on ALREADY_EXISTS). CRI objects live here, never in the Docker API's container store.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { atomicWriteJson, readJsonIfExists, removeTempFiles } from '../base/atomic.ts';
import { CriError } from './errors.ts';

export interface StoredRecord {
  readonly id: string;
  /** The object's unique name (`name_namespace_uid_attempt` for a pod). */
  readonly key: string;
}

const ID = /^[a-f0-9]{64}$/;
const REMOVING = /^([a-f0-9]{64})\.removing$/;

export class RecordStore<R extends StoredRecord> {
  readonly root: string;
  readonly #file: string;
  /** What the records are, for messages ("pod sandbox", "container"). */
  readonly #noun: string;
  readonly #byId = new Map<string, R>();
  /** Keys taken by records and by creations under way. */
  readonly #keys = new Map<string, string>();
  /** Directories found without a record: a creation a crash cut short. */
  readonly orphans: string[] = [];

  protected constructor(root: string, file: string, noun: string) {
    this.root = root;
    this.#file = file;
    this.#noun = noun;
  }

  /** Reads every record under the root; a removal whose rename happened is finished. */
  protected async load(): Promise<void> {
    await fsp.mkdir(this.root, { recursive: true, mode: 0o700 });
    for (const name of await fsp.readdir(this.root)) {
      if (REMOVING.test(name)) {
        await fsp.rm(path.join(this.root, name), { recursive: true, force: true });
        continue;
      }
      if (!ID.test(name)) continue;
      await removeTempFiles(path.join(this.root, name));
      const rec = (await readJsonIfExists(path.join(this.root, name, this.#file))) as R | undefined;
      if (rec?.id === name) {
        this.#byId.set(name, rec);
        this.#keys.set(rec.key, name);
      } else this.orphans.push(name);
    }
  }

  dir(id: string): string {
    return path.join(this.root, id);
  }

  all(): R[] {
    return [...this.#byId.values()];
  }

  get(id: string): R | undefined {
    return this.#byId.get(id);
  }

  /** Exact ID or unique ID prefix, as crictl passes them. */
  find(ref: string): R | undefined {
    const exact = this.#byId.get(ref);
    if (exact || ref === '') return exact;
    const matches = this.all().filter((r) => r.id.startsWith(ref));
    return matches.length === 1 ? matches[0] : undefined;
  }

  /** Takes a name for a creation under way; ALREADY_EXISTS when another record has it. */
  reserve(key: string, id: string): void {
    const holder = this.#keys.get(key);
    if (holder !== undefined && holder !== id)
      throw new CriError(
        status.ALREADY_EXISTS,
        `${this.#noun} name "${key}" is already used by ${this.#noun.split(' ').at(-1)} ${holder}: remove it first or raise metadata.attempt`,
      );
    this.#keys.set(key, id);
  }

  release(key: string, id: string): void {
    if (this.#keys.get(key) === id) this.#keys.delete(key);
  }

  async put(rec: R): Promise<void> {
    await fsp.mkdir(this.dir(rec.id), { recursive: true, mode: 0o700 });
    await atomicWriteJson(path.join(this.dir(rec.id), this.#file), rec);
    this.#byId.set(rec.id, rec);
    this.#keys.set(rec.key, rec.id);
  }

  /**
   * Removal: the rename is the commit point (a crash after it leaves no half record; load()
   * deletes what is left), then the files go.
   */
  async remove(id: string): Promise<void> {
    const rec = this.#byId.get(id);
    const doomed = `${this.dir(id)}.removing`;
    await fsp.rename(this.dir(id), doomed).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    this.#byId.delete(id);
    if (rec) this.release(rec.key, id);
    await fsp.rm(doomed, { recursive: true, force: true });
  }
}
