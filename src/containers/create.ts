// Container creation: checks a request as Docker does, resolves the image's defaults, the
// mounts and the network addresses, and stores the new record (nothing is left on failure).
import os from 'node:os';
import { crashPoint } from '../base/crashpoint.ts';
import { randomId } from '../base/ids.ts';
import {
  composeCommand,
  type HostResourceFacts,
  planResources,
  type ResourceFields,
} from '../runtime/index.ts';
import { createEnv } from './env.ts';
import { BUILTIN_LOG_DEFAULTS, logPolicy, withLogDefaults } from './logging.ts';
import { releaseMounts, resolveMounts } from './mounts.ts';
import { placeCgroup } from './cgroup-path.ts';
import { checkName, checkNameFree, generateName } from './names.ts';
import { allocateNetworks, type NetworkingConfig, networkMode } from './networking.ts';
import type { ContainerConfig, ContainerRecord, HostConfig } from './record.ts';
import { checkRestartPolicy } from './restart.ts';
import { checkSecurity } from './security.ts';
import type { ContainerServiceDeps } from './deps.ts';
import { parseSignal } from './signals.ts';
import { verifyContainerSettings } from './verify.ts';

export interface CreateRequest {
  readonly name?: string;
  readonly config: Partial<ContainerConfig> & { Image: string };
  readonly hostConfig: HostConfig;
  readonly networkingConfig?: NetworkingConfig;
}

/** Checks a create request, resolves its image and mounts, and stores the new record. */
export async function createContainer(
  deps: ContainerServiceDeps,
  facts: HostResourceFacts,
  req: CreateRequest,
): Promise<{ rec: ContainerRecord; warnings: string[] }> {
  const { store, images } = deps;
  let name = req.name?.replace(/^\//, '');
  if (name !== undefined && name !== '') {
    checkName(name);
    checkNameFree((n) => store.byName(n), name);
  } else name = generateName((n) => store.byName(n) !== undefined);
  // What Docker refuses at create, before anything is resolved or stored.
  verifyContainerSettings(req.config, req.hostConfig, req.networkingConfig?.EndpointsConfig);
  const runtime = deps.runtime.resolveRuntime(req.hostConfig.Runtime);
  const cgroup = await placeCgroup(
    req.hostConfig.CgroupParent,
    deps.cgroupParent,
    store.all(),
    facts.cgroupVersion,
  );
  // Stored with the daemon's defaults filled in: LogConfig.Type always names the driver.
  const LogConfig = withLogDefaults(req.hostConfig.LogConfig, deps.logDefaults ?? BUILTIN_LOG_DEFAULTS);
  logPolicy({ ...req.hostConfig, LogConfig }, {}, [], 'create');
  checkRestartPolicy(req.hostConfig);
  // Validated before anything is stored: a bad limit leaves nothing behind.
  const plan = planResources(req.hostConfig as ResourceFields, facts);
  const imageId = images.resolve(req.config.Image);
  await checkSecurity(req.hostConfig, (ref) => store.find(ref));
  const imageCfg = (await images.config(imageId)).config ?? {};
  const cmd = composeCommand({
    imageEntrypoint: imageCfg.Entrypoint ?? null,
    imageCmd: imageCfg.Cmd ?? null,
    entrypoint: req.config.Entrypoint ?? null,
    cmd: req.config.Cmd ?? null,
  });
  const id = randomId();
  const env = createEnv(imageCfg.Env ?? [], req.config.Env ?? []);
  const config: ContainerConfig = {
    // With the host's network a container takes the host's name, as in Docker.
    Hostname:
      req.config.Hostname ||
      (networkMode({ hostConfig: req.hostConfig }) === 'host' ? os.hostname() : id.slice(0, 12)),
    Domainname: req.config.Domainname ?? '',
    User: req.config.User || imageCfg.User || '',
    AttachStdin: req.config.AttachStdin ?? false,
    AttachStdout: req.config.AttachStdout ?? false,
    AttachStderr: req.config.AttachStderr ?? false,
    Tty: req.config.Tty ?? false,
    OpenStdin: req.config.OpenStdin ?? false,
    StdinOnce: req.config.StdinOnce ?? false,
    Env: env,
    Cmd: cmd.cmd,
    Entrypoint: cmd.entrypoint.length > 0 ? cmd.entrypoint : null,
    Image: req.config.Image,
    WorkingDir: req.config.WorkingDir || imageCfg.WorkingDir || '',
    Labels: { ...(imageCfg.Labels ?? {}), ...(req.config.Labels ?? {}) },
    ...(req.config.StopSignal || imageCfg.StopSignal
      ? { StopSignal: req.config.StopSignal || imageCfg.StopSignal! }
      : {}),
    ...(req.config.StopTimeout !== undefined ? { StopTimeout: req.config.StopTimeout } : {}),
    ...(req.config.Healthcheck || imageCfg.Healthcheck
      ? {
          Healthcheck: (req.config.Healthcheck ?? imageCfg.Healthcheck) as NonNullable<
            ContainerConfig['Healthcheck']
          >,
        }
      : {}),
    ...(imageCfg.ExposedPorts || req.config.ExposedPorts
      ? { ExposedPorts: { ...(imageCfg.ExposedPorts ?? {}), ...(req.config.ExposedPorts ?? {}) } }
      : {}),
    ...(imageCfg.Volumes || req.config.Volumes
      ? { Volumes: { ...(imageCfg.Volumes ?? {}), ...(req.config.Volumes ?? {}) } }
      : {}),
  };
  if (config.StopSignal) parseSignal(config.StopSignal);
  const mounts = await resolveMounts(
    deps.volumes,
    store,
    id,
    req.hostConfig,
    Object.keys(config.Volumes ?? {}),
  );
  const rec: ContainerRecord = {
    id,
    name,
    created: new Date().toISOString(),
    imageId,
    config,
    hostConfig: { NetworkMode: 'default', ...req.hostConfig, LogConfig, Runtime: runtime.name },
    path: cmd.args[0]!,
    args: cmd.args.slice(1),
    state: { status: 'created' },
    restartCount: 0,
    ...(mounts.length > 0 ? { mounts } : {}),
    ...cgroup,
  };
  try {
    // The address first (bad --ip / unknown network fail here), then the record: a crash
    // between leaves an address of no container, which start-up's reconcile drops; the other
    // order left a container without its network.
    if (deps.network) await allocateNetworks(deps.network, store, rec, req);
    crashPoint('create:between-record-and-network');
    await store.put(rec);
  } catch (err) {
    await deps.network?.release(id).catch(() => {});
    await releaseMounts(deps.volumes, id, mounts, true);
    throw err;
  }
  return { rec, warnings: plan.warnings };
}
