// Durable pod sandbox records: <root>/<id>/sandbox.json (atomic writes), all kept in memory, with
// a name index that refuses a second pod of the same name/namespace/uid/attempt (as the
// kubelet expects). CRI objects live here, never in the Docker API's container store.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { atomicWriteJson, readJsonIfExists, removeTempFiles } from '../base/atomic.ts';
import { CriError } from './errors.ts';

/** CRI's NamespaceMode names. */
export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';

export interface PodMetadata {
  readonly name: string;
  readonly uid: string;
  readonly namespace: string;
  readonly attempt: number;
}

/** A sandbox is ready while its infra process runs; once that ends it is not ready for good. */
export type SandboxState =
  | { readonly status: 'ready'; readonly pid: number; readonly conmonPid: number }
  | { readonly status: 'notready'; readonly exitCode?: number; readonly finishedAt?: string };

export interface SandboxRecord {
  readonly id: string;
  /** `name_namespace_uid_attempt`: unique among the records. */
  readonly key: string;
  readonly metadata: PodMetadata;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** Nanoseconds since the epoch, as decimal text (beyond 2^53). */
  readonly createdAt: string;
  readonly runtimeHandler: string;
  readonly namespaces: {
    readonly network: NamespaceMode;
    readonly pid: NamespaceMode;
    readonly ipc: NamespaceMode;
  };
  readonly hostname: string;
  /** The OCI cgroupsPath of the infra process (`<cgroup_parent>/<id>`). */
  readonly cgroupsPath: string;
  /** The pinned netns while the pod has one; absent with the host's network or once stopped. */
  readonly netns?: string;
  /** The pod's IPs from CNI (the first is the pod IP); absent or empty without CNI or once stopped. */
  readonly ips?: readonly string[];
  /** The pod's /dev/shm tmpfs (its containers bind it) while it has one: absent with host IPC or once stopped. */
  readonly shm?: string;
  /** The PodSandboxConfig as received, for verbose status. */
  readonly config: unknown;
  readonly state: SandboxState;
}

export function podKey(m: PodMetadata): string {
  return `${m.name}_${m.namespace}_${m.uid}_${m.attempt}`;
}

const ID = /^[a-f0-9]{64}$/;
const REMOVING = /^([a-f0-9]{64})\.removing$/;

export class SandboxStore {
  readonly root: string;
  readonly #byId = new Map<string, SandboxRecord>();
  /** Keys taken by records and by runs under way. */
  readonly #keys = new Map<string, string>();
  /** Directories found without a record: a run a crash cut short. */
  readonly orphans: string[] = [];

  private constructor(root: string) {
    this.root = root;
  }

  static async open(root: string): Promise<SandboxStore> {
    const s = new SandboxStore(root);
    await fsp.mkdir(root, { recursive: true, mode: 0o700 });
    for (const name of await fsp.readdir(root)) {
      // A removal whose commit (the rename) happened: only files are left to delete.
      if (REMOVING.test(name)) {
        await fsp.rm(path.join(root, name), { recursive: true, force: true });
        continue;
      }
      if (!ID.test(name)) continue;
      await removeTempFiles(path.join(root, name));
      const rec = (await readJsonIfExists(path.join(root, name, 'sandbox.json'))) as
        | SandboxRecord
        | undefined;
      if (rec?.id === name) {
        s.#byId.set(name, rec);
        s.#keys.set(rec.key, name);
      } else s.orphans.push(name);
    }
    return s;
  }

  dir(id: string): string {
    return path.join(this.root, id);
  }

  all(): SandboxRecord[] {
    return [...this.#byId.values()];
  }

  get(id: string): SandboxRecord | undefined {
    return this.#byId.get(id);
  }

  /** Exact ID or unique ID prefix, as crictl passes them. */
  find(ref: string): SandboxRecord | undefined {
    const exact = this.#byId.get(ref);
    if (exact || ref === '') return exact;
    const matches = this.all().filter((r) => r.id.startsWith(ref));
    return matches.length === 1 ? matches[0] : undefined;
  }

  /** Takes a pod's name for a run under way; ALREADY_EXISTS when another pod has it. */
  reserve(key: string, id: string): void {
    const holder = this.#keys.get(key);
    if (holder !== undefined && holder !== id)
      throw new CriError(
        status.ALREADY_EXISTS,
        `pod sandbox name "${key}" is already used by sandbox ${holder}: remove it first or raise metadata.attempt`,
      );
    this.#keys.set(key, id);
  }

  release(key: string, id: string): void {
    if (this.#keys.get(key) === id) this.#keys.delete(key);
  }

  async put(rec: SandboxRecord): Promise<void> {
    await fsp.mkdir(this.dir(rec.id), { recursive: true, mode: 0o700 });
    await atomicWriteJson(path.join(this.dir(rec.id), 'sandbox.json'), rec);
    this.#byId.set(rec.id, rec);
    this.#keys.set(rec.key, rec.id);
  }

  /**
   * Removal: the rename is the commit point (a crash after it leaves no half record; open()
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
