// What the /build routes need from the daemon.
import type { Readable } from 'node:stream';
import type { NamedContext, NamedContextSpec } from '../../../build/context/index.ts';
import type { BuildEvent, BuildRequest, BuildResult, CacheUsage } from '../../../build/index.ts';

export interface BuildBackend {
  /**
   * Extracts a context tar (plain or gzip) into a new temp dir, reads the Dockerfile `dockerfile`
   * from it (inside the context only; `''` for the default) and then drops the Dockerfile and
   * .dockerignore from the context when the .dockerignore names them, as Docker's daemon does.
   */
  extractContext(
    tar: Readable,
    signal: AbortSignal,
    dockerfile: string,
    /** Named contexts; local ones are moved out of the main context (src/build/context/named.ts). */
    named?: ReadonlyMap<string, NamedContextSpec>,
  ): Promise<{
    dir: string;
    dockerfile: { name: string; content: string };
    named: ReadonlyMap<string, NamedContext>;
    /** The files' content digests, for BuildRequest.contextDigests. */
    digests: Map<string, string>;
    remove(): Promise<void>;
  }>;
  build(req: BuildRequest, emit: (e: BuildEvent) => void): Promise<BuildResult>;
  prune(opts: { until?: number; all?: boolean }): Promise<{ deleted: string[]; spaceReclaimed: number }>;
  usage(): Promise<CacheUsage[]>;
}
