// The composition root: opens the stores, runs recovery, wires services to the API and listens.
import { setTraceEnabled, traceMethods } from '../base/trace.ts';
import { buildRoutes } from '../api/router/build/routes.ts';
import { diskUsageRoutes } from '../api/router/system/df.ts';
import { wireBuilder } from './build-wiring.ts';
import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ContainersBackend } from '../api/router/containers/backend.ts';
import { containerFsRoutes } from '../api/router/containers/fsops-routes.ts';
import { containerRoutes } from '../api/router/containers/routes.ts';
import { eventRoutes } from '../api/router/events/routes.ts';
import { execRoutes } from '../api/router/exec/routes.ts';
import { imageRoutes } from '../api/router/images/routes.ts';
import type { NetworksBackend } from '../api/router/networks/backend.ts';
import { networkRoutes } from '../api/router/networks/routes.ts';
import type { VolumesBackend } from '../api/router/volumes/backend.ts';
import { volumeRoutes } from '../api/router/volumes/routes.ts';
import { swarmRoutes } from '../api/router/swarm/routes.ts';
import { systemRoutes } from '../api/router/system/routes.ts';
import { createApiHandler } from '../api/server.ts';
import { stallPoint } from '../base/crashpoint.ts';
import { BERTH_GIT_COMMIT, BERTH_VERSION } from '../base/version.ts';
import {
  ContainerFsOps,
  ContainerService,
  ContainerStore,
  ExecService,
  HealthMonitor,
} from '../containers/index.ts';
import { type EndpointSettings, endpointRequest } from '../containers/networking.ts';
import { ConflictError } from '../errdefs/index.ts';
import { NetworkManager, NetworkStore } from '../network/index.ts';
import { LocalVolumes } from '../volumes/index.ts';
import { driverNames, planLogging, UnixgramRelay } from '../logs/index.ts';
import { LocalContentStore } from '../content/index.ts';
import { EventBus } from '../events/index.ts';
import { ImageService } from '../images/index.ts';
import { DistributionMetadata, ImageMetadataStore } from '../metadata/index.ts';
import { ConmonRuntime } from '../runtime/index.ts';
import { RegistryClient } from '../registry/index.ts';
import { LayerSnapshots } from '../snapshots/index.ts';
import type { DaemonConfig } from './config.ts';
import {
  architecture,
  backingFilesystem,
  cgroupVersion,
  findExecutable,
  hostMemory,
  osRelease,
  readOrCreateEngineId,
} from './facts.ts';
import { imagesBackendFor } from './images-wiring.ts';
import { planListeners, serveApi } from './listen-wiring.ts';
import { attachOutput, feedStdin, healthProbe } from './container-io.ts';
import { acquireDataRootLock } from './lock.ts';
import {
  kernelSupport,
  kernelWarnings,
  type RuntimeVersion,
  runtimeVersion,
  securityOptions,
} from './host-checks.ts';
import { planReload, type Reloadable, type ReloadPlan } from './reload.ts';
import type { Log } from './log.ts';
import { type Notify, notifier, takeNotifySocket } from './sd-notify.ts';
import { checkAgainstHost } from './ulimits.ts';

export interface RunningDaemon {
  readonly images: ImageService;
  /** SIGHUP: applies the reloadable settings of `next` (a fully checked config); returns the plan. */
  reload(next: DaemonConfig): ReloadPlan;
  close(): Promise<void>;
  /** sd_notify: a state line ("READY=1") to $NOTIFY_SOCKET, when berthd was given one. */
  readonly notify: Notify;
  /**
   * Seconds the shutdown may take before berthd exits anyway (negative: no limit), as dockerd
   * computes it: shutdown-timeout, raised to each container's stop timeout + 5 when
   * live-restore is off (those containers are stopped first).
   */
  shutdownTimeout(): number;
  /**
   * What must not outlive berthd even when `close` cannot finish (the forced exit): DNS
   * servers, port proxies, and bridges and rules no container uses. Idempotent.
   */
  releaseHost(): Promise<void>;
}

export async function startDaemon(config: DaemonConfig, log: Log): Promise<RunningDaemon> {
  if (process.getuid?.() !== 0) {
    log('warn', 'berthd is not running as root; layer ownership and device nodes cannot be kept');
  }
  // Hosts and certificates first, and the sockets systemd handed over (see listen-wiring.ts).
  const apiListeners = planListeners(config);
  // The CRI's code (its gRPC stack is most of the bundle) is a chunk loaded only when the CRI is
  // on; loading starts here, beside the rest of start-up, and is awaited where the CRI starts.
  const criModule = config.criSocket ? import('./cri-wiring.ts') : undefined;
  criModule?.catch(() => {}); // a failure is thrown where it is awaited
  // Taken early too: no helper berthd spawns may inherit NOTIFY_SOCKET.
  const notifySocket = takeNotifySocket();
  await fsp.mkdir(config.dataRoot, { recursive: true, mode: 0o711 });
  // 0711: the default socket lives here, and members of its group must reach it (as with
  // berthd.socket's DirectoryMode); nothing here can be listed by them.
  await fsp.mkdir(config.execRoot, { recursive: true, mode: 0o711 });
  const unlock = await acquireDataRootLock(config.dataRoot);
  const cleanups: (() => Promise<void>)[] = [unlock];
  let releaseHost = async (): Promise<void> => {};
  try {
    const content = await LocalContentStore.open(path.join(config.dataRoot, 'blobs'));
    const layers = await LayerSnapshots.open(path.join(config.dataRoot, 'layers'));
    const meta = await ImageMetadataStore.open(path.join(config.dataRoot, 'images'));
    const images = new ImageService({ content, layers, meta, log });
    const events = new EventBus();
    await images.recover();
    const runcPath = findExecutable('runc');
    const conmonPath = findExecutable('conmon');
    const runtime = await ConmonRuntime.open({
      conmonPath: conmonPath ?? 'conmon',
      runtimePath: runcPath ?? 'runc',
      runtimeRoot: path.join(config.execRoot, 'runc'),
      runtimes: config.runtimes,
      defaultRuntime: config.defaultRuntime,
      exitDir: path.join(config.execRoot, 'exits'),
      socketDir: path.join(config.execRoot, 'sockets'),
    });
    // Built beside the bundle by scripts/build.mjs (needs a C compiler).
    const helper = async (name: string, lost: string): Promise<string | undefined> => {
      const p = path.join(path.dirname(fileURLToPath(import.meta.url)), name);
      const ok = await fsp.access(p).then(
        () => true,
        () => false,
      );
      if (!ok) log('warn', `${name} not found: ${lost}`, { path: p });
      return ok ? p : undefined;
    };
    const stdinRelay = await helper('berth-stdin-relay', 'attach cannot feed container stdin');
    const consoleRelay = await helper('berth-console-relay', 'exec -t is unavailable');
    // daemon.json's default log driver is checked as a container's would be: a bad one stops
    // the daemon here rather than every create later.
    planLogging(config.logDriver, config.logOpts, 'create');
    const unixgramBin = await helper(
      'berth-unixgram-relay',
      'syslog unixgram:// and journald delivery are unavailable',
    );
    const unixgram = unixgramBin ? new UnixgramRelay(unixgramBin) : undefined;
    cleanups.push(async () => unixgram?.close());
    const notify = notifier(notifySocket, unixgram && ((p, d) => unixgram.send(p, d)), (msg, err) =>
      log('warn', msg, err ? { err } : {}),
    );
    const network = await NetworkManager.open({
      store: await NetworkStore.open(path.join(config.dataRoot, 'network')),
      netnsDir: path.join(config.execRoot, 'netns'),
      bridgeName: config.bridge,
      ...(config.bip ? { bip: config.bip } : {}),
      ...(config.dns.length > 0 ? { upstreams: config.dns } : {}),
      log,
    });
    // Last out: DNS servers and port proxies stop; bridges and rules go when no container uses
    // them (a running container keeps its bridge: it outlives berthd and the next start adopts
    // both). Also the forced exit's last act (releaseHost).
    let released: Promise<void> | undefined;
    releaseHost = () => {
      released ??= (async () => {
        await network.close();
        await network.teardownUnused();
      })();
      return released;
    };
    cleanups.push(releaseHost);
    cleanups.push(() => stallPoint('shutdown:before-network'));
    const containerStore = await ContainerStore.open(path.join(config.dataRoot, 'containers'));
    const volumes = await LocalVolumes.open(path.join(config.dataRoot, 'volumes'), log);
    const containers = new ContainerService({
      store: containerStore,
      images,
      layers,
      layersRoot: path.join(config.dataRoot, 'layers'),
      cgroupParent: config.cgroupParent,
      runtime,
      log,
      events: (type, action, id, attrs) => events.publish(type, action, id, attrs),
      ...(stdinRelay ? { stdinRelay } : {}),
      ...(consoleRelay ? { consoleRelay } : {}),
      network,
      volumes,
      logDefaults: { type: config.logDriver, config: config.logOpts },
      defaultUlimits: config.defaultUlimits,
      logSinks: {
        ...(unixgram ? { sendUnixgram: (p: string, d: Buffer) => unixgram.send(p, d) } : {}),
        // Tests point it at a socket they own (this machine has no journald).
        journalSocket: process.env.BERTH_JOURNAL_SOCKET || '/run/systemd/journal/socket',
      },
    });
    log('info', 'cgroups', { version: containers.facts.cgroupVersion });
    // Defaults no container could start with fail here, once, naming the key.
    checkAgainstHost(config.defaultUlimits, containers.facts.hardLimits);
    // --trace: the services' steps as spans (patched here so they carry no trace code).
    setTraceEnabled(config.trace === true);
    traceMethods(containers, 'containers', ['create', 'start', 'handleExit', 'remove', 'wait', 'kill']);
    traceMethods(runtime, 'runtime', ['create', 'start', 'delete', 'exitCode', 'clearExit', 'kill']);
    traceMethods(network, 'network', ['allocate', 'attach', 'detach', 'release']);
    traceMethods(containerStore, 'store', ['put', 'markRemoved', 'purge']);
    runtime.watchExits((id) => {
      containers.handleExit(id).catch((err) => log('warn', 'exit handling failed', { id, err: String(err) }));
    });
    cleanups.push(async () => {
      runtime.close();
      containers.close();
    });
    await containers.recover();
    await network.reconcile(
      new Set(
        containers
          .list()
          .filter((c) => c.state.status === 'running' || c.state.status === 'paused')
          .map((c) => c.id),
      ),
      new Map(containers.list().map((c) => [c.id, c.name])),
    );
    await containers.startAfterRecovery();
    const execs = new ExecService(containers);
    // Healthchecks: probes are execs; started and stopped by the containers' own events.
    const health = new HealthMonitor({
      find: (id) => containerStore.get(id),
      save: (id, h) => containers.setHealth(id, h),
      probe: (id, cmd, timeoutMs) => healthProbe(execs, id, cmd, timeoutMs),
      emit: (id, status) => {
        const r = containerStore.get(id);
        events.publish(
          'container',
          `health_status: ${status}`,
          id,
          r ? { name: r.name, image: r.config.Image } : {},
        );
      },
    });
    const unsubscribeHealth = events.subscribe((e) => {
      if (e.type !== 'container') return;
      if (e.action === 'start') health.start(e.id);
      else if (e.action === 'die' || e.action === 'destroy') health.stop(e.id);
    });
    for (const c of containers.list()) if (c.state.status === 'running') health.start(c.id);
    cleanups.push(async () => {
      unsubscribeHealth();
      health.close();
    });
    const engineId = await readOrCreateEngineId(config.dataRoot, () => randomUUID().toUpperCase());

    const runtimes: Record<string, { path: string }> = {};
    if (runcPath) runtimes.runc = { path: runcPath };
    for (const [name, r] of Object.entries(config.runtimes)) runtimes[name] = { path: r.path };
    const release = osRelease();
    const cgv = cgroupVersion();
    // Settings SIGHUP may change; everything below reads them from here, never from `config`.
    let live: Reloadable = config;
    // Asked once, on the first /info or /version (a spawn per runtime, off the start path).
    let versions: Promise<Record<string, RuntimeVersion>> | undefined;
    const runtimeVersions = () =>
      (versions ??= Promise.all(
        Object.entries(runtimes).map(async ([name, r]) => [name, await runtimeVersion(r.path)] as const),
      ).then(Object.fromEntries));
    const warnings: string[] = [];
    if (!runcPath)
      warnings.push('WARNING: runc was not found on PATH; containers cannot run (apt-get install runc)');
    if (!conmonPath)
      warnings.push('WARNING: conmon was not found on PATH; containers cannot run (apt-get install conmon)');

    const distribution = await DistributionMetadata.open(path.join(config.dataRoot, 'images'));
    const registries = new RegistryClient({
      insecureRegistries: live.insecureRegistries,
      mirrors: live.registryMirrors,
      certsDirs: config.registryCertsDirs,
      // Tests (and operators on slow links) may change how long a silent registry is waited for.
      ...(Number(process.env.BERTH_REGISTRY_IDLE_TIMEOUT_MS) > 0
        ? { idleTimeoutMs: Number(process.env.BERTH_REGISTRY_IDLE_TIMEOUT_MS) }
        : {}),
    });
    const imagesBackend = imagesBackendFor({
      images,
      layers,
      registries,
      distribution,
      events,
      live: () => live,
      users: (id) => containers.usersOf(id),
    });

    const containersBackend: ContainersBackend = {
      list: () => containers.list(),
      find: (ref) => containers.find(ref),
      create: (req) => containers.create(req),
      start: (ref) => containers.start(ref),
      stop: (ref, t, sig) => containers.stop(ref, t, sig),
      kill: (ref, sig) => containers.kill(ref, sig),
      wait: (ref, cond, signal) => containers.wait(ref, cond, signal),
      // As `network connect` (the networks backend below: events, container checks).
      connectNetwork: (net, ctr, settings) =>
        networksBackend.connect(net, ctr, endpointRequest(settings as EndpointSettings)),
      remove: (ref, opts) => containers.remove(ref, opts),
      removeLink: (parent, alias) => containers.removeLink(parent, alias),
      pause: (ref) => containers.pause(ref),
      unpause: (ref) => containers.unpause(ref),
      restart: (ref, t, sig) => containers.restart(ref, t, sig),
      rename: (ref, name) => containers.rename(ref, name),
      prune: (filter) => containers.prune(filter),
      top: (ref, psArgs) => containers.top(ref, psArgs),
      resize: (ref, h, w) => containers.resize(ref, h, w),
      update: (ref, changes) => containers.update(ref, changes),
      stats: (ref, opts) => containers.stats(ref, opts),
      logPath: (id) => containers.logPath(id),
      logPolicy: (rec) => containers.logPolicy(rec),
      ...(stdinRelay
        ? {
            feedStdin: (id, input, signal) =>
              feedStdin(stdinRelay, containers.attachSocket(id), input, signal),
            attachOutput: (id, signal, exited) =>
              attachOutput(
                stdinRelay,
                containers.attachSocket(id),
                (connect, wait) => containers.beforeProcessRuns(id, connect, wait),
                signal,
                exited,
              ),
          }
        : {}),
      networks: (rec) => {
        const running = rec.state.status === 'running' || rec.state.status === 'paused';
        const endpoints = network.endpointsOf(rec.id).map(({ net, ep }) => ({
          networkName: net.name,
          networkId: net.id,
          endpointId: ep.endpointId,
          ip: ep.ip,
          prefixLen: net.subnet ? Number(net.subnet.split('/')[1]) : 0,
          gateway: net.gateway ?? '',
          mac: ep.mac,
          aliases: ep.aliases,
          isDefault: Boolean(net.isDefault),
          userDefined: net.driver === 'bridge' && !net.isDefault,
          ip6: ep.ip6 ?? '',
          prefixLen6: ep.ip6 && net.subnet6 ? Number(net.subnet6.split('/')[1]) : 0,
          gateway6: ep.ip6 ? (net.gateway6 ?? '') : '',
          config: ep.config ?? {},
          active: running && (ep.vethHost !== undefined || net.driver !== 'bridge'),
        }));
        return {
          endpoints,
          ports: running ? network.ports(rec.id) : [],
          sandboxKey: running && endpoints.some((e) => e.active && e.ip) ? network.netnsPath(rec.id) : '',
        };
      },
      sizes: (rec) => containers.sizes(rec),
      graphDriver: (rec) => {
        const dir = containerStore.dir(rec.id);
        return {
          UpperDir: path.join(dir, 'rootfs', 'diff'),
          WorkDir: path.join(dir, 'rootfs', 'work'),
          MergedDir: path.join(dir, 'rootfs', 'merged'),
        };
      },
    };

    const networksBackend: NetworksBackend = {
      list: () => network.list(),
      find: (ref) => network.find(ref),
      create: async (req) => {
        const r = await network.create(req);
        events.publish('network', 'create', r.id, { name: req.name, type: req.driver || 'bridge' });
        return r;
      },
      remove: async (ref) => {
        const n = network.find(ref);
        await network.remove(n.id, (id) => containerStore.get(id)?.name ?? id);
        events.publish('network', 'destroy', n.id, { name: n.name, type: n.driver });
      },
      prune: async (filter) => {
        const removed: string[] = [];
        for (const n of network.list()) {
          if (n.driver !== 'bridge' || n.isDefault || Object.keys(n.endpoints).length > 0 || !filter(n))
            continue;
          await network.remove(n.id, (id) => id).catch(() => {});
          removed.push(n.name);
        }
        return removed;
      },
      connect: async (ref, container, req) => {
        const c = containers.find(container);
        const running = c.state.status === 'running' || c.state.status === 'paused';
        const mode = String(c.hostConfig.NetworkMode ?? '');
        if (mode.startsWith('container:'))
          throw new ConflictError(
            'CONTAINER_NETWORK_MODE',
            `container ${c.name} shares the network of another container and cannot be connected`,
          );
        await network.connect(ref, c.id, c.name, running, req);
        events.publish('network', 'connect', network.find(ref).id, {
          container: c.id,
          name: network.find(ref).name,
        });
      },
      disconnect: async (ref, container, force) => {
        let id: string;
        let name: string;
        try {
          const c = containers.find(container);
          id = c.id;
          name = c.name;
        } catch (err) {
          // --force disconnects an endpoint whose container is gone.
          if (!force) throw err;
          id = container;
          name = container;
        }
        await network.disconnect(ref, id, name);
        events.publish('network', 'disconnect', network.find(ref).id, {
          container: id,
          name: network.find(ref).name,
        });
      },
      containerName: (id) => containerStore.get(id)?.name ?? '',
    };

    const volumesBackend: VolumesBackend = {
      list: () => volumes.list(),
      get: (name) => volumes.get(name),
      create: async (req) => {
        const r = await volumes.create(req);
        if (r.created) events.publish('volume', 'create', r.volume.name, { driver: r.volume.driver });
        return r.volume;
      },
      remove: async (name, force) => {
        const existed = volumes.has(name);
        await volumes.remove(name, { force, nameOf: (id) => containerStore.get(id)?.name });
        if (existed) events.publish('volume', 'destroy', name, { driver: 'local' });
      },
      prune: async (filter) => {
        const r = await volumes.prune(filter);
        for (const name of r.deleted) events.publish('volume', 'destroy', name, { driver: 'local' });
        return r;
      },
      users: (name) => volumes.users(name),
      size: (name) => volumes.size(name),
    };

    const builder = await wireBuilder({
      dataRoot: config.dataRoot,
      images,
      containers,
      log,
      pull: (ref, platform, signal) =>
        imagesBackend.pull(ref, {
          signal,
          onEvent: () => {},
          ...(platform ? { platform: `${platform.os}/${platform.architecture}` } : {}),
        }),
    });
    const handler = createApiHandler({
      serverHeader: `Berth/${BERTH_VERSION} (linux)`,
      log,
      routes: [
        ...systemRoutes({
          login: (server, creds) => registries.login(server, creds),
          facts: async () => ({
            id: engineId,
            name: os.hostname(),
            version: BERTH_VERSION,
            gitCommit: BERTH_GIT_COMMIT,
            dataRoot: config.dataRoot,
            execRoot: config.execRoot,
            kernelVersion: os.release(),
            operatingSystem: release.pretty,
            osVersion: release.version,
            architecture: architecture(),
            cpus: os.availableParallelism(),
            memTotal: hostMemory(),
            cgroupVersion: cgv,
            cgroupDriver: 'cgroupfs',
            loggingDriver: config.logDriver,
            logDrivers: driverNames(),
            runtimes,
            defaultRuntime: config.defaultRuntime,
            images: meta.all().length,
            containers: {
              total: containers.list().length,
              running: containers.list().filter((c) => c.state.status === 'running').length,
              paused: containers.list().filter((c) => c.state.status === 'paused').length,
              stopped: containers
                .list()
                .filter((c) => c.state.status !== 'running' && c.state.status !== 'paused').length,
            },
            layers: (await layers.list()).length,
            backingFilesystem: backingFilesystem(config.dataRoot),
            insecureRegistries: live.insecureRegistries,
            registryMirrors: live.registryMirrors,
            debug: live.debug,
            logLevel: live.logLevel,
            warnings: [...warnings, ...kernelWarnings(kernelSupport(cgv))],
            labels: live.labels,
            liveRestore: live.liveRestore,
            kernel: kernelSupport(cgv),
            securityOptions: securityOptions(kernelSupport(cgv)),
            runtimeVersions: await runtimeVersions(),
            httpProxy: process.env.HTTP_PROXY ?? process.env.http_proxy ?? '',
            httpsProxy: process.env.HTTPS_PROXY ?? process.env.https_proxy ?? '',
            noProxy: process.env.NO_PROXY ?? process.env.no_proxy ?? '',
          }),
        }),
        ...imageRoutes(imagesBackend),
        ...buildRoutes(builder.backend),
        ...diskUsageRoutes({
          images: imagesBackend,
          containers: containersBackend,
          volumes: volumesBackend,
          build: builder.backend,
          layersSize: async () => (await layers.list()).reduce((n, m) => n + m.size, 0),
        }),
        ...containerRoutes(containersBackend),
        ...containerFsRoutes(new ContainerFsOps(containers)),
        ...networkRoutes(networksBackend),
        ...volumeRoutes(volumesBackend),
        ...execRoutes(execs),
        ...eventRoutes(events),
        ...swarmRoutes(),
      ],
    });

    // live-restore off: containers are stopped once no client can reach the API (the listeners
    // close first), while exits are still watched and networks still up.
    cleanups.push(async () => {
      if (!live.liveRestore) await containers.stopAllForShutdown();
    });
    await serveApi(apiListeners, handler, config.group, log, cleanups);
    if (config.criSocket) {
      const { startCri } = await criModule!;
      cleanups.push(
        await startCri({
          socket: config.criSocket,
          dataRoot: config.dataRoot,
          images,
          pull: (ref, auth, signal) =>
            imagesBackend.pull(ref, { signal, onEvent: () => {}, ...(auth ? { auth } : {}) }),
          imageUsers: (id) => containers.usersOf(id),
          runtime,
          layers,
          execRoot: config.execRoot,
          cgroupParent: config.cgroupParent,
          cniConfDir: config.cniConfDir,
          cniBinDirs: config.cniBinDirs,
          pauseBinary: await helper('berth-pause', 'CRI pod sandboxes cannot start'),
          streamingAddress: config.criStreamingAddress,
          netnsDialBinary: await helper('berth-netns-dial', 'CRI PortForward into pods is unavailable'),
          consoleRelay,
          stdinRelay,
          log,
        }),
      );
    }
    await fsp.writeFile(config.pidfile, `${process.pid}\n`);
    cleanups.push(() => fsp.rm(config.pidfile, { force: true }));
    log('info', 'berthd started', {
      version: BERTH_VERSION,
      dataRoot: config.dataRoot,
      hosts: config.hosts,
      images: meta.all().length,
    });
    return {
      images,
      reload: (next) => {
        const plan = planReload({ ...config, ...live }, next);
        live = plan.next;
        registries.reconfigure({
          insecureRegistries: live.insecureRegistries,
          mirrors: live.registryMirrors,
        });
        return plan;
      },
      releaseHost: () => releaseHost(),
      notify,
      shutdownTimeout: () => {
        if (live.shutdownTimeout < 0) return -1;
        if (live.liveRestore) return live.shutdownTimeout;
        let t = live.shutdownTimeout;
        for (const c of containers.list()) {
          const stop = c.config.StopTimeout ?? 10;
          if (stop < 0) return -1;
          t = Math.max(t, stop + 5);
        }
        return t;
      },
      close: async () => {
        for (const c of cleanups.reverse())
          await c().catch((err) => log('warn', 'cleanup failed', { err: String(err) }));
      },
    };
  } catch (err) {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    throw err;
  }
}
