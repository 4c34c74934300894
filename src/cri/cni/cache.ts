// What a pod's CNI ADD used, kept per sandbox (as libcni's result cache under /var/lib/cni):
// the network list as it was loaded, the arguments and capability args, and the result once
// ADD finished. DEL reads it back, so a pod is torn down with the config it was set up with,
// even after the config folder changed or berthd was killed. Written atomically: before ADD
// (so a crash mid-ADD can still be undone, without prevResult as the spec allows) and after.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { atomicWriteJson, readJsonIfExists, removeTempFiles } from '../../base/atomic.ts';
import type { NetworkList } from './config.ts';

export interface CacheEntry {
  readonly kind: 'berthCniCacheV1';
  readonly containerId: string;
  readonly ifName: string;
  readonly netns: string;
  readonly network: NetworkList;
  readonly args: ReadonlyArray<readonly [string, string]>;
  readonly capabilityArgs: Record<string, unknown>;
  /** The final ADD result; absent while ADD is under way (or it failed). */
  readonly result?: Record<string, unknown>;
}

const ID = /^[a-f0-9]{64}$/;

export class CniCache {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  #file(id: string): string {
    if (!ID.test(id)) throw new Error(`bad sandbox id ${JSON.stringify(id)} for the CNI cache`);
    return path.join(this.#dir, `${id}.json`);
  }

  async get(id: string): Promise<CacheEntry | undefined> {
    const e = (await readJsonIfExists(this.#file(id))) as CacheEntry | undefined;
    return e?.kind === 'berthCniCacheV1' ? e : undefined;
  }

  async put(e: CacheEntry): Promise<void> {
    await fsp.mkdir(this.#dir, { recursive: true, mode: 0o700 });
    await atomicWriteJson(this.#file(e.containerId), e, { mode: 0o600 });
  }

  async remove(id: string): Promise<void> {
    await fsp.rm(this.#file(id), { force: true });
  }

  /** Sandbox IDs with an entry (a network that may still need DEL). */
  async ids(): Promise<string[]> {
    await removeTempFiles(this.#dir);
    const names = await fsp.readdir(this.#dir).catch(() => [] as string[]);
    return names.map((n) => n.replace(/\.json$/, '')).filter((n) => ID.test(n));
  }
}
