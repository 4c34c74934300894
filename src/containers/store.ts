// Durable container records: containers/<id>/config.v2.json, all kept in memory so `ps` never
// touches the disk. Lookups follow Docker: full ID, name, then unique ID prefix.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { atomicWriteJson, readJsonIfExists, removeTempFiles } from '../base/atomic.ts';
import { InvalidArgumentError, NotFoundError } from '../errdefs/index.ts';
import type { ContainerRecord } from './record.ts';

export class ContainerStore {
  readonly root: string;
  readonly #byId = new Map<string, ContainerRecord>();

  private constructor(root: string) {
    this.root = root;
  }

  static async open(root: string): Promise<ContainerStore> {
    const s = new ContainerStore(root);
    await fsp.mkdir(root, { recursive: true, mode: 0o710 });
    for (const id of await fsp.readdir(root)) {
      if (id.endsWith('.removing')) {
        await fsp.rm(path.join(root, id), { recursive: true, force: true }); // removal cut short
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

  async delete(id: string): Promise<void> {
    this.#byId.delete(id);
    // The record goes first (renamed away), so a crash mid-removal leaves no half container.
    const doomed = `${this.dir(id)}.removing`;
    await fsp.rename(this.dir(id), doomed).catch(() => {});
    await fsp.rm(doomed, { recursive: true, force: true });
  }
}
