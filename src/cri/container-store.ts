// Durable CRI container records: <data-root>/cri/containers/<id>/container.json (atomic writes,
// record-store.ts). A name is unique within its pod (`<sandbox>_<name>_<attempt>`).
import type { MountPlan, ResourcesPlan } from './container-config.ts';
import type { NamespaceMode } from './sandbox-store.ts';
import { RecordStore } from './record-store.ts';

/**
 * created: made, no process yet (conmon runs at start). running: its process lives (the
 * runtime's state says so after a restart). exited: its process ended, the runtime state and
 * the rootfs mount are gone; the record stays until RemoveContainer.
 */
export type ContainerState =
  | { readonly status: 'created' }
  | {
      readonly status: 'running';
      readonly pid: number;
      readonly conmonPid: number;
      readonly startedAt: string;
    }
  | {
      readonly status: 'exited';
      /** '0' when it never started. */
      readonly startedAt: string;
      readonly finishedAt: string;
      readonly exitCode: number;
      readonly reason: 'Completed' | 'Error' | 'OOMKilled' | '';
      readonly message: string;
    };

export interface CriContainerRecord {
  readonly id: string;
  readonly key: string;
  readonly sandboxId: string;
  readonly metadata: { readonly name: string; readonly attempt: number };
  /** The ImageSpec as asked. */
  readonly image: { readonly image: string; readonly annotations: Readonly<Record<string, string>> };
  readonly imageId: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** Nanoseconds since the epoch, as decimal text. */
  readonly createdAt: string;
  /** log_directory/log_path; '' when the kubelet gave none. */
  readonly logPath: string;
  readonly mounts: readonly MountPlan[];
  readonly resources: ResourcesPlan;
  readonly pidMode: NamespaceMode;
  readonly cgroupsPath: string;
  readonly runtimeHandler: string;
  readonly stopSignal: string;
  readonly tty: boolean;
  readonly stdin: boolean;
  readonly stdinOnce: boolean;
  readonly user: { readonly uid: number; readonly gid: number; readonly additionalGids: readonly number[] };
  /** The ContainerConfig as received, for verbose status. */
  readonly config: unknown;
  readonly state: ContainerState;
}

export function containerKey(sandboxId: string, name: string, attempt: number): string {
  return `${sandboxId}_${name}_${attempt}`;
}

export class CriContainerStore extends RecordStore<CriContainerRecord> {
  static async open(root: string): Promise<CriContainerStore> {
    const s = new CriContainerStore(root, 'container.json', 'container');
    await s.load();
    return s;
  }
}
