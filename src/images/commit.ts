// `docker commit` on the image side: a layer tar (the container's diff) on top of the parent
// image becomes a new image, stored like import does (blob + extracted layer + config).
import type { Readable } from 'node:stream';
import { crashPoint } from '../base/crashpoint.ts';
import { InvalidArgumentError } from '../errdefs/index.ts';
import { chainIds, type Digest } from '../oci/digest.ts';
import type { ContainerConfig, ImageConfig } from '../oci/image.ts';
import { formatReference, parseReference, withDefaultTag } from '../oci/reference.ts';
import { applyChanges } from './changes.ts';
import { ingestLayer } from './layer-ingest.ts';
import type { ImageService } from './service.ts';

/** Diff ID of an empty tar: just the end-of-archive marker, 1024 zero bytes. */
const EMPTY_TAR = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

export interface CommitRequest {
  readonly parent: Digest;
  /** `repo` or `repo:tag`; empty for an untagged image. */
  readonly reference?: string;
  readonly comment?: string;
  readonly author?: string;
  /** The container's effective config (Cmd, Env, …), the base of the new image's config. */
  readonly containerConfig: ContainerConfig;
  /** Config fields the caller set explicitly (the request body); win over the container's. */
  readonly overrides?: ContainerConfig;
  readonly changes?: readonly string[];
  readonly containerId: string;
  readonly signal?: AbortSignal;
}

/** Validates what can be checked before reading the layer; returns the image name and config. */
export function planCommit(req: CommitRequest): { name?: string; config: ContainerConfig } {
  let name: string | undefined;
  if (req.reference) {
    const ref = parseReference(req.reference);
    if (ref.digest) {
      throw new InvalidArgumentError(
        'INVALID_REFERENCE',
        `cannot commit to a digest reference: ${req.reference}`,
      );
    }
    name = formatReference(withDefaultTag(ref));
  }
  const user = applyChanges(req.overrides ?? {}, req.changes ?? []);
  return { ...(name ? { name } : {}), config: mergeConfig(user, req.containerConfig) };
}

/**
 * Docker's merge of the committed config with the container's: what the user set wins, empty
 * fields come from the container, Env and Labels and ports are unions.
 */
export function mergeConfig(user: ContainerConfig, ctr: ContainerConfig): ContainerConfig {
  const out: ContainerConfig = { ...user };
  if (!out.User && ctr.User) out.User = ctr.User;
  if (ctr.ExposedPorts || out.ExposedPorts)
    out.ExposedPorts = { ...(ctr.ExposedPorts ?? {}), ...(out.ExposedPorts ?? {}) };
  const env = [...(out.Env ?? [])];
  for (const e of ctr.Env ?? []) {
    const key = e.split('=')[0];
    if (!env.some((x) => x.split('=')[0] === key)) env.push(e);
  }
  if (env.length > 0) out.Env = env;
  if (ctr.Labels || out.Labels) out.Labels = { ...(ctr.Labels ?? {}), ...(out.Labels ?? {}) };
  if (!out.Entrypoint || out.Entrypoint.length === 0) {
    if (!out.Cmd || out.Cmd.length === 0) out.Cmd = ctr.Cmd ?? null;
    if (out.Entrypoint == null) out.Entrypoint = ctr.Entrypoint ?? null;
  }
  if (!out.WorkingDir && ctr.WorkingDir) out.WorkingDir = ctr.WorkingDir;
  if (!out.Volumes && ctr.Volumes) out.Volumes = ctr.Volumes;
  if (!out.StopSignal && ctr.StopSignal) out.StopSignal = ctr.StopSignal;
  if (out.Healthcheck === undefined && ctr.Healthcheck !== undefined) out.Healthcheck = ctr.Healthcheck;
  if (out.OnBuild == null && ctr.OnBuild) out.OnBuild = ctr.OnBuild;
  return out;
}

/** Stores `layer` (an uncompressed layer tar) on top of the parent; returns the image ID. */
export async function commitImage(svc: ImageService, layer: Readable, req: CommitRequest): Promise<Digest> {
  const plan = planCommit(req);
  const parentCfg = await svc.config(req.parent);
  return svc.gcLock.shared(async () => {
    const parentChain = chainIds(parentCfg.rootfs.diff_ids).at(-1);
    const ingested = await ingestLayer(svc.deps, layer, {
      ...(parentChain ? { parentChain } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
    });
    crashPoint('commit:after-layer');
    const created = new Date().toISOString();
    const cmd = req.containerConfig.Cmd ?? [];
    // A container that changed nothing adds no layer, only history (as Docker).
    const empty = ingested.diffId === EMPTY_TAR;
    const config: ImageConfig = {
      architecture: parentCfg.architecture,
      os: parentCfg.os,
      ...(parentCfg.variant ? { variant: parentCfg.variant } : {}),
      created,
      ...(req.author ? { author: req.author } : {}),
      ...(req.comment ? { comment: req.comment } : {}),
      container: req.containerId,
      container_config: req.containerConfig,
      config: plan.config,
      rootfs: {
        type: 'layers',
        diff_ids: [...parentCfg.rootfs.diff_ids, ...(empty ? [] : [ingested.diffId])],
      },
      history: [
        ...(parentCfg.history ?? []),
        {
          created,
          ...(req.author ? { author: req.author } : {}),
          created_by: cmd.join(' '),
          ...(empty ? { empty_layer: true } : {}),
          ...(req.comment ? { comment: req.comment } : {}),
        },
      ],
    };
    const blob = await svc.deps.content.put(Buffer.from(JSON.stringify(config)));
    crashPoint('commit:after-config');
    await svc.register(blob.digest, { ...(plan.name ? { names: [plan.name] } : {}), parent: req.parent });
    svc.deps.log('info', 'image committed', { id: blob.digest, ref: plan.name, container: req.containerId });
    return blob.digest;
  });
}
