// A writable view of an image for steps that change files without running anything (COPY,
// ADD, WORKDIR) and a read-only view of another stage for `COPY --from`: an overlay of the
// image's layers with a fresh upper dir under the build's temp dir. The upper dir is the step's
// diff, packed into the layer.
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { packDirectory } from '../archive/index.ts';
import type { ImageService } from '../images/index.ts';
import { chainIds, digestHex } from '../oci/digest.ts';
import type { ImageConfig } from '../oci/image.ts';
import { mountOverlay, unmount } from '../snapshots/index.ts';

export interface ScratchRoot {
  /** The merged root filesystem. */
  readonly root: string;
  /** Tar of what changed (overlay whiteouts become `.wh.` entries). Call after the changes. */
  diff(): Readable;
  /**
   * Unmounts and returns the changes for commitStep: the tar and the upper dir it is packed
   * from (which the layer store may then take over).
   */
  detachDiff(): Promise<{ layer: Readable; layerDir: string }>;
  release(): Promise<void>;
}

export async function mountScratch(
  images: ImageService,
  layersRoot: string,
  tmpDir: string,
  config: ImageConfig,
): Promise<ScratchRoot> {
  const dir = path.join(tmpDir, `root-${randomBytes(6).toString('hex')}`);
  const upper = path.join(dir, 'diff');
  const work = path.join(dir, 'work');
  const merged = path.join(dir, 'merged');
  const top = chainIds(config.rootfs.diff_ids).at(-1);
  const lower = top ? await images.deps.layers.lowerDirs(digestHex(top)) : [];
  await mountOverlay({ lower, layersRoot, upper, work, target: merged });
  let released = false;
  return {
    root: merged,
    diff: () => packDirectory(upper),
    detachDiff: async () => {
      await unmount(merged);
      return { layer: packDirectory(upper), layerDir: upper };
    },
    release: async () => {
      if (released) return;
      released = true;
      await unmount(merged);
      await fsp.rm(dir, { recursive: true, force: true });
    },
  };
}
