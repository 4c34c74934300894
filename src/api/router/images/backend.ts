import type { Readable } from 'node:stream';
import type {
  DeleteRecord,
  HistoryRow,
  ImportOptions,
  ImageView,
  LoadEvent,
  PruneFilters,
  PullEvent,
  PushEvent,
} from '../../../images/index.ts';
import type { Credentials } from '../../../registry/index.ts';
import type { Digest } from '../../../oci/digest.ts';

/** What the image routes need; the daemon wires it to the image service. */
export interface ImagesBackend {
  list(): Promise<ImageView[]>;
  view(refOrId: string): Promise<ImageView>;
  importImage(source: Readable, opts: ImportOptions): Promise<Digest>;
  tag(source: string, target: string): Promise<void>;
  delete(refOrId: string, opts: { force: boolean; prune: boolean }): Promise<DeleteRecord[]>;
  history(refOrId: string): Promise<HistoryRow[]>;
  prune(filters: PruneFilters): Promise<{ deleted: DeleteRecord[]; spaceReclaimed: number }>;
  save(refs: readonly string[]): Readable;
  load(source: Readable, opts: { signal: AbortSignal; onEvent: (e: LoadEvent) => void }): Promise<unknown>;
  /** Pulls `ref` from its registry; resolves with the image ID. */
  pull(
    ref: string,
    opts: { platform?: string; auth?: Credentials; signal: AbortSignal; onEvent: (e: PullEvent) => void },
  ): Promise<Digest>;
  /** Searches a registry's v1 search API (`host/term`, or Docker Hub). */
  search(
    term: string,
    limit: number,
    signal: AbortSignal,
  ): Promise<
    { name: string; description: string; star_count: number; is_official: boolean; is_automated: boolean }[]
  >;
  /** Pushes the local image `ref` (name[:tag]) to its registry. */
  push(
    ref: string,
    opts: { auth?: Credentials; signal: AbortSignal; onEvent: (e: PushEvent) => void },
  ): Promise<unknown>;
  /** overlay2-style GraphDriver data for inspect. */
  graphDriver(view: ImageView): Promise<Record<string, string>>;
}
