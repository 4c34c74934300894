// Durable pod sandbox records: <root>/<id>/sandbox.json (record-store.ts), with a name index that
// refuses a second pod of the same name/namespace/uid/attempt (as the kubelet expects).
import { RecordStore } from './record-store.ts';

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

export class SandboxStore extends RecordStore<SandboxRecord> {
  static async open(root: string): Promise<SandboxStore> {
    const s = new SandboxStore(root, 'sandbox.json', 'pod sandbox');
    await s.load();
    return s;
  }
}
