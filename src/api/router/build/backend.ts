// What the /build routes need from the daemon.
import type { Readable } from 'node:stream';
import type { BuildEvent, BuildRequest, BuildResult, CacheUsage } from '../../../build/index.ts';

export interface BuildBackend {
  /** Extracts a context tar (plain or compressed) into a new temp dir; returns it. */
  extractContext(tar: Readable, signal: AbortSignal): Promise<{ dir: string; remove(): Promise<void> }>;
  build(req: BuildRequest, emit: (e: BuildEvent) => void): Promise<BuildResult>;
  prune(opts: { until?: number; all?: boolean }): Promise<{ deleted: string[]; spaceReclaimed: number }>;
  usage(): Promise<CacheUsage[]>;
}
