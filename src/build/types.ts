// What a build is asked to do and what it reports while it runs. The API edge turns the
// events into Docker's JSON lines; the CLI into progress output.
import type { Digest } from '../oci/digest.ts';
import type { NamedContext } from './context/named.ts';

export interface BuildRequest {
  /** The extracted build context (read-only for the builder). */
  readonly contextDir: string;
  /**
   * Content digests of the context's files taken while it was extracted, keyed by file
   * identity (checksumSources' cache, which this build then extends).
   */
  readonly contextDigests?: Map<string, string>;
  /** Dockerfile text. */
  readonly dockerfile: string;
  /** Path of the Dockerfile inside the context, for messages. */
  readonly dockerfileName: string;
  readonly tags: readonly string[];
  readonly buildArgs: Readonly<Record<string, string | null>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly target?: string;
  readonly noCache: boolean;
  /** `--pull`: fetch base images from their registry even when present. */
  readonly pull?: boolean;
  /** Stage names whose steps skip the cache (`--no-cache-filter`). */
  readonly noCacheFilter: readonly string[];
  /** `--network` for RUN: default (bridge), host or none. */
  readonly networkMode?: string;
  readonly extraHosts: readonly string[];
  /** `cachefrom`: image references whose chains are the only trusted build cache. */
  readonly cacheFrom?: readonly string[];
  readonly shmSize?: number;
  readonly ulimits?: readonly { Name: string; Soft: number; Hard: number }[];
  /** `--secret id=x,src=path`: id → file on the daemon's side (content copied per build). */
  readonly secrets: Readonly<Record<string, string>>;
  readonly platform?: string;
  /**
   * Named contexts (`--build-context`): a name that is not a stage, used by FROM, `COPY --from`
   * or `RUN --mount=from=`, reads this directory or image instead.
   */
  readonly namedContexts?: ReadonlyMap<string, NamedContext>;
  readonly signal: AbortSignal;
}

export type BuildEvent =
  /** A step starts: `Step 3/7 : RUN make`. `stage` is the stage name or index. */
  | {
      readonly type: 'step';
      readonly stage: string;
      readonly n: number;
      readonly total: number;
      readonly text: string;
    }
  /** The step's result came from the cache. */
  | { readonly type: 'cached'; readonly n: number }
  /** A step finished: the image it produced (short form shown as ` ---> abc`). */
  | { readonly type: 'stepDone'; readonly n: number; readonly image: Digest; readonly ms: number }
  /** Output of a RUN step. */
  | {
      readonly type: 'output';
      readonly n: number;
      readonly data: Buffer;
      readonly stream?: 'stdout' | 'stderr';
    }
  /** A RUN container started (legacy output: ` ---> Running in abc`). */
  | { readonly type: 'container'; readonly n: number; readonly id: string }
  | { readonly type: 'warning'; readonly message: string };

export interface BuildResult {
  readonly id: Digest;
  readonly tags: readonly string[];
}
