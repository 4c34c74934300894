// One Dockerfile step's image: the parent's config with the step's changes, a history entry,
// and (for steps that change files) one layer from a tar of what changed. Every step image is
// stored as an intermediate image record: it is the build cache's value and the next step's
// parent (as Docker's legacy builder keeps its intermediate images).
import { span } from '../base/trace.ts';
import { crashPoint } from '../base/crashpoint.ts';
import type { Readable } from 'node:stream';
import type { ImageService } from '../images/index.ts';
import { ingestLayer, ingestLayerDir } from '../images/layer-ingest.ts';
import { chainIds, type Digest } from '../oci/digest.ts';
import type { ContainerConfig, HistoryEntry, ImageConfig } from '../oci/image.ts';

/** Diff ID of an empty tar (only the end-of-archive blocks): a step that changed nothing. */
const EMPTY_TAR = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

/** The image a stage has so far: its ID (none yet for `FROM scratch`) and config. */
export interface ImageState {
  readonly id: Digest | undefined;
  readonly config: ImageConfig;
}

export function scratchState(platform: { os: string; architecture: string; variant?: string }): ImageState {
  return {
    id: undefined,
    config: {
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      config: {},
      rootfs: { type: 'layers', diff_ids: [] },
      history: [],
    },
  };
}

export interface StepCommit {
  /** The new container config (Env, Cmd, ...). */
  readonly config: ContainerConfig;
  /** History text, e.g. `RUN /bin/sh -c make` or `ENV A=b`. */
  readonly createdBy: string;
  /** Tar of the step's changes; absent for metadata-only steps. */
  readonly layer?: Readable;
  /**
   * The directory `layer` was packed from (overlay form, not mounted, on the store's
   * filesystem): moved into the layer store instead of extracting the tar again.
   */
  readonly layerDir?: string;
  readonly author?: string;
  readonly signal?: AbortSignal;
}

/** Stores the step's image and returns the new state. */
export async function commitStep(
  images: ImageService,
  parent: ImageState,
  step: StepCommit,
): Promise<ImageState> {
  const base = parent.config;
  return span('build.commit', () =>
    images.gcLock.shared(async () => {
      let diffId: Digest | undefined;
      if (step.layer) {
        const parentChain = chainIds(base.rootfs.diff_ids).at(-1);
        const o = {
          ...(parentChain ? { parentChain } : {}),
          ...(step.signal ? { signal: step.signal } : {}),
        };
        const ingested = step.layerDir
          ? await ingestLayerDir(images.deps, step.layerDir, step.layer, o)
          : await ingestLayer(images.deps, step.layer, o);
        crashPoint('build:after-layer');
        // A step that changed nothing adds history but no layer (as Docker).
        if (ingested.diffId !== EMPTY_TAR) diffId = ingested.diffId;
      }
      const created = new Date().toISOString();
      const history: HistoryEntry = {
        created,
        created_by: step.createdBy,
        ...(diffId ? {} : { empty_layer: true }),
      };
      const author = step.author ?? base.author;
      const { container_config: _legacy, container: _ctr, ...rest } = base;
      const config: ImageConfig = {
        ...rest,
        created,
        ...(author ? { author } : {}),
        config: step.config,
        rootfs: { type: 'layers', diff_ids: [...base.rootfs.diff_ids, ...(diffId ? [diffId] : [])] },
        history: [...(base.history ?? []), history],
      };
      const blob = await images.deps.content.put(Buffer.from(JSON.stringify(config)));
      crashPoint('build:after-config');
      await images.register(blob.digest, {
        ...(parent.id ? { parent: parent.id } : {}),
        intermediate: true,
      });
      return { id: blob.digest, config };
    }),
  );
}

/** Makes sure the state has a stored image (a `FROM scratch` stage before its first step). */
export async function materialise(images: ImageService, state: ImageState): Promise<Digest> {
  if (state.id) return state.id;
  const config = state.config;
  const blob = await images.deps.content.put(Buffer.from(JSON.stringify(config)));
  await images.register(blob.digest, { intermediate: true });
  return blob.digest;
}
