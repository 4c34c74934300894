// Container filesystem operations: cp (stat / archive / extract), diff, export and commit.
// Each runs on running and stopped containers alike: the rootfs is mounted for the duration
// when the container is not running (ContainerService.withRootfs), and commit pauses a running
// container by default so the layer is a consistent snapshot.
import { mkdir } from 'node:fs/promises';
import { ConflictError } from '../errdefs/index.ts';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { packDirectory } from '../archive/index.ts';
import { commitImage, planCommit } from '../images/index.ts';
import { removeBeneath } from '../pathsafe/index.ts';
import type { Digest } from '../oci/digest.ts';
import type { ContainerConfig as ImageContainerConfig } from '../oci/image.ts';
import {
  archiveContainerPath,
  CP_STAGING_JOURNAL,
  type ContainerFs,
  type ExtractOptions,
  extractToContainer,
  type PathStat,
  statContainerPath,
  sweepStaging,
} from './archive.ts';
import { etcFileMounts, lowerDirsOf, rootfsPaths } from './bundle.ts';
import { berthMountPoints, type Change, containerChanges } from './changes.ts';
import type { ContainerRecord } from './record.ts';
import type { ContainerService } from './service.ts';
import { verifyImageOverrides } from './verify.ts';

export interface CommitOptions {
  readonly reference?: string;
  readonly comment?: string;
  readonly author?: string;
  /** Pause a running container while its diff is read (Docker's default: true). */
  readonly pause: boolean;
  readonly changes?: readonly string[];
  /** Config fields from the request body; they win over the container's. */
  readonly overrides?: ImageContainerConfig;
}

/** The image-config view of a container's config (what commit starts from). */
export function imageConfigOf(rec: ContainerRecord): ImageContainerConfig {
  const c = rec.config;
  return {
    ...(c.User ? { User: c.User } : {}),
    ...(c.ExposedPorts ? { ExposedPorts: c.ExposedPorts } : {}),
    Env: c.Env,
    Cmd: c.Cmd,
    Entrypoint: c.Entrypoint,
    ...(c.Volumes ? { Volumes: c.Volumes } : {}),
    WorkingDir: c.WorkingDir,
    Labels: c.Labels,
    ...(c.StopSignal ? { StopSignal: c.StopSignal } : {}),
  };
}

/**
 * Reading or writing a running container's files happens with its processes frozen, so none
 * can swap a checked path for a symlink mid-walk (Docker chroots instead; Node cannot).
 */
const FREEZE = { freeze: true } as const;

/**
 * cp sees the rootfs with the container's volumes and binds on top, and Berth's own
 * /etc/hostname, /etc/hosts and /etc/resolv.conf binds, as its processes do. User mounts come
 * first: on an equal destination (`-v f:/etc/hosts`) the first match wins in locateInMounts,
 * as the user's mount wins in the bundle.
 */
async function viewOf(svc: ContainerService, rec: ContainerRecord, rootfs: string): Promise<ContainerFs> {
  return { rootfs, mounts: [...(rec.mounts ?? []), ...(await etcFileMounts(svc.deps, rec))] };
}

export class ContainerFsOps {
  readonly #svc: ContainerService;

  constructor(svc: ContainerService) {
    this.#svc = svc;
  }

  stat(ref: string, p: string): Promise<PathStat> {
    return this.#svc.withRootfs(
      ref,
      // Errors name the container as the client did (`Could not find the file /x in container web`).
      async (rec, root) => (await statContainerPath(await viewOf(this.#svc, rec, root), p, ref)).stat,
    );
  }

  /**
   * Tars `p`; `consume` gets the stat and the stream and must finish reading before it
   * resolves (the rootfs stays mounted until then).
   */
  archive(
    ref: string,
    p: string,
    consume: (stat: PathStat, tar: Readable) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<void> {
    return this.#svc.withRootfs(
      ref,
      async (rec, root) => {
        const { stat, tar } = await archiveContainerPath(await viewOf(this.#svc, rec, root), p, ref, signal);
        await consume(stat, tar);
        this.#event(rec, 'archive-path');
      },
      FREEZE,
    );
  }

  extract(ref: string, p: string, tar: Readable, o: Omit<ExtractOptions, 'readonlyRootfs'>): Promise<void> {
    return this.#svc.withRootfs(
      ref,
      async (rec, root) => {
        const stagingJournal = path.join(this.#svc.deps.store.dir(rec.id), CP_STAGING_JOURNAL);
        await sweepStaging(stagingJournal);
        await extractToContainer(await viewOf(this.#svc, rec, root), p, ref, tar, {
          ...o,
          readonlyRootfs: Boolean(rec.hostConfig.ReadonlyRootfs),
          stagingJournal,
        });
        this.#event(rec, 'extract-to-dir');
      },
      FREEZE,
    );
  }

  /** The container's changes; reads the upper dir and the layers directly, no mount needed. */
  async changes(ref: string): Promise<Change[]> {
    const rec = this.#svc.find(ref);
    const { upper, lowers, skip } = await this.#diffSources(rec);
    return containerChanges(upper, lowers, skip);
  }

  /** A flat tar of the merged root filesystem; `consume` as for archive(). */
  export(ref: string, consume: (tar: Readable) => Promise<void>, signal?: AbortSignal): Promise<void> {
    return this.#svc.withRootfs(
      ref,
      async (rec, root) => {
        await consume(packDirectory(root, signal ? { signal } : {}));
        this.#event(rec, 'export');
      },
      FREEZE,
    );
  }

  async commit(ref: string, o: CommitOptions): Promise<Digest> {
    const rec = this.#svc.find(ref);
    const req = {
      parent: rec.imageId,
      ...(o.reference ? { reference: o.reference } : {}),
      ...(o.comment ? { comment: o.comment } : {}),
      ...(o.author ? { author: o.author } : {}),
      containerConfig: imageConfigOf(rec),
      ...(o.overrides ? { overrides: o.overrides } : {}),
      ...(o.changes ? { changes: o.changes } : {}),
      containerId: rec.id,
    };
    planCommit(req); // bad references and --change lines fail before the container is paused
    // The overrides become the image's config, which every later `run` of it reads.
    verifyImageOverrides(o.overrides);
    // A container that exits between the request and the pause (or whose pause fails) is
    // committed unpaused, as Docker does: the pause only guards against writes mid-read, and
    // an exited container makes none.
    let pause = o.pause && rec.state.status === 'running';
    if (pause)
      pause = await this.#svc.pause(rec.id, { by: 'commit' }).then(
        () => true,
        () => false,
      );
    try {
      const { upper, skip } = await this.#diffSources(rec);
      const tar = packDirectory(upper, {
        skip: (rel) => skip.has(`/${Buffer.from(rel, 'latin1').toString('utf8')}`),
      });
      const id = await commitImage(this.#svc.deps.images, tar, req);
      this.#event(rec, 'commit');
      return id;
    } finally {
      if (pause) await this.#svc.unpause(rec.id).catch(() => {});
    }
  }

  /**
   * For a stopped container about to be removed (a build's RUN step): its changes as a layer
   * tar plus the upper dir that tar is packed from, with Berth's own mount points deleted from
   * it first so the directory holds exactly what the tar does (see ingestLayerDir).
   */
  async detachDiff(
    ref: string,
    mountPoints: readonly string[] = [],
  ): Promise<{ layer: Readable; layerDir: string }> {
    const rec = this.#svc.find(ref);
    if (rec.state.status === 'running' || rec.state.status === 'paused') {
      throw new ConflictError('CONTAINER_RUNNING', `container ${rec.id} is still running`);
    }
    const { upper, lowers, skip } = await this.#diffSources(rec);
    for (const p of await berthMountPoints(upper, lowers, mountPoints)) skip.add(p);
    // Through fds, no symlink followed: the step may have swapped a parent for a link out.
    for (const p of skip) await removeBeneath(upper, p);
    return { layer: packDirectory(upper), layerDir: upper };
  }

  async #diffSources(rec: ContainerRecord) {
    const { upper } = rootfsPaths(this.#svc.deps.store.dir(rec.id));
    // A container that never started has no upper dir yet: it changed nothing.
    await mkdir(upper, { recursive: true });
    const lowers = (await lowerDirsOf(this.#svc.deps, rec)).map((l) =>
      path.join(this.#svc.deps.layersRoot, l),
    );
    const skip = await berthMountPoints(upper, lowers, Object.keys(rec.hostConfig.Tmpfs ?? {}));
    return { upper, lowers, skip };
  }

  #event(rec: ContainerRecord, action: string): void {
    this.#svc.deps.events?.('container', action, rec.id, { name: rec.name, image: rec.config.Image });
  }
}
