import type { CreateVolumeRequest, Volume } from '../../../volumes/index.ts';

/** What the volume routes need; the daemon wires it to the local volume store. */
export interface VolumesBackend {
  list(): Volume[];
  get(name: string): Volume;
  create(req: CreateVolumeRequest): Promise<Volume>;
  /** 409 while containers use it; `force` makes a missing volume a success. */
  remove(name: string, force: boolean): Promise<void>;
  prune(filter: (v: Volume) => boolean): Promise<{ deleted: string[]; reclaimed: number }>;
  /** IDs of containers referencing the volume (running or not). */
  users(name: string): string[];
  /** Bytes used, or -1 when unknown (for UsageData). */
  size(name: string): Promise<number>;
}
