import os from 'node:os';
import { traceEnabled, traceRecords } from '../../../base/trace.ts';
import { InvalidArgumentError } from '../../../errdefs/index.ts';
import { readJsonBody, sendJson } from '../../http.ts';
import { API_VERSION, MIN_API_VERSION, type Route } from '../../server.ts';
import { apiHas, shapeFor } from '../../versions/index.ts';
import type { SystemBackend } from './backend.ts';

const GO_VERSION = `node${process.versions.node}`;

export function systemRoutes(backend: SystemBackend): Route[] {
  const ping: Route['handler'] = ({ req, res }) => {
    res.setHeader('Cache-Control', 'no-cache, no-store, must-revalidate');
    res.setHeader('Pragma', 'no-cache');
    res.setHeader('Builder-Version', '1');
    res.setHeader('Swarm', 'inactive');
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 2 });
    res.end(req.method === 'HEAD' ? undefined : 'OK');
  };
  return [
    {
      method: 'POST',
      path: '/auth',
      handler: async (ctx) => {
        // Decoded before anything else: a body of the wrong types is a 400, never a registry call.
        const b = (await readJsonBody(ctx.req, 'auth')) ?? {};
        const str = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : '');
        if (!backend.login)
          throw new InvalidArgumentError('LOGIN_UNAVAILABLE', 'this daemon cannot log in to registries');
        // The docker CLI sends "https://index.docker.io/v1/" for Docker Hub.
        const server =
          str('serveraddress')
            .replace(/^https?:\/\//, '')
            .replace(/\/.*$/, '') || 'docker.io';
        await backend.login(server === 'index.docker.io' ? 'docker.io' : server, {
          username: str('username'),
          password: str('password'),
        });
        sendJson(ctx.res, 200, { Status: 'Login Succeeded', IdentityToken: '' });
      },
    },
    { method: 'GET', path: '/_ping', handler: ping },
    {
      // Berth only: the step timings --trace recorded (records after ?since=<id>, oldest first).
      method: 'GET',
      path: '/_berth/trace',
      handler: ({ res, query }) => {
        if (!traceEnabled())
          throw new InvalidArgumentError(
            'TRACE_OFF',
            'tracing is off: start berthd with --trace or BERTH_TRACE=1',
          );
        sendJson(res, 200, { records: traceRecords(Number(query.get('since') ?? 0) || 0) });
      },
    },
    { method: 'HEAD', path: '/_ping', handler: ping },
    {
      method: 'GET',
      path: '/version',
      handler: async ({ res }) => {
        const f = await backend.facts();
        const engine = {
          Version: f.version,
          ApiVersion: API_VERSION,
          MinAPIVersion: MIN_API_VERSION,
          GitCommit: f.gitCommit,
          GoVersion: GO_VERSION,
          Os: 'linux',
          Arch: f.architecture,
          KernelVersion: f.kernelVersion,
          BuildTime: '',
        };
        sendJson(res, 200, {
          Platform: { Name: 'Berth Engine' },
          Components: [
            { Name: 'Engine', Version: f.version, Details: { ...engine, Experimental: 'false' } },
            ...Object.entries(f.runtimes).map(([name, r]) => ({
              Name: name,
              Version: f.runtimeVersions[name]?.version ?? '',
              Details: { GitCommit: f.runtimeVersions[name]?.commit ?? '', Path: r.path },
            })),
          ],
          ...engine,
        });
      },
    },
    {
      method: 'GET',
      path: '/info',
      handler: async ({ res, version }) => {
        const f = await backend.facts();
        const unknown = (v: string) => (v === '' && apiHas(version, 'infoUnknownText') ? '<unknown>' : v);
        const info = {
          ID: f.id,
          Containers: f.containers.total,
          ContainersRunning: f.containers.running,
          ContainersPaused: f.containers.paused,
          ContainersStopped: f.containers.stopped,
          Images: f.images,
          Driver: 'overlay2',
          DriverStatus: [
            ['Backing Filesystem', f.backingFilesystem],
            ['Supports d_type', 'true'],
            ['Using metacopy', 'false'],
            ['Native Overlay Diff', 'true'],
            ['userxattr', 'false'],
            ['Layers', String(f.layers)],
          ],
          Plugins: {
            Volume: ['local'],
            Network: ['bridge', 'host', 'none'],
            Authorization: null,
            Log: f.logDrivers,
          },
          MemoryLimit: f.kernel.memoryLimit,
          SwapLimit: f.kernel.swapLimit,
          KernelMemory: false,
          KernelMemoryTCP: false,
          CpuCfsPeriod: true,
          CpuCfsQuota: true,
          CPUShares: true,
          CPUSet: true,
          PidsLimit: true,
          IPv4Forwarding: f.kernel.ipv4Forwarding,
          // Always false from API 1.48 (the module loads on demand), omitted from 1.50.
          BridgeNfIptables: apiHas(version, 'bridgeNfAlwaysFalse') ? false : f.kernel.bridgeNfIptables,
          BridgeNfIp6tables: apiHas(version, 'bridgeNfAlwaysFalse') ? false : f.kernel.bridgeNfIp6tables,
          Debug: f.debug,
          NFd: 0,
          OomKillDisable: f.cgroupVersion === '1',
          NGoroutines: 0,
          SystemTime: new Date().toISOString(),
          LoggingDriver: f.loggingDriver,
          CgroupDriver: f.cgroupDriver,
          CgroupVersion: f.cgroupVersion,
          NEventsListener: 0,
          KernelVersion: unknown(f.kernelVersion),
          OperatingSystem: unknown(f.operatingSystem),
          OSVersion: f.osVersion,
          OSType: 'linux',
          Architecture: os.machine(),
          IndexServerAddress: 'https://index.docker.io/v1/',
          RegistryConfig: registryConfig(f.insecureRegistries, f.registryMirrors),
          NCPU: f.cpus,
          MemTotal: f.memTotal,
          GenericResources: null,
          DockerRootDir: f.dataRoot,
          HttpProxy: f.httpProxy,
          HttpsProxy: f.httpsProxy,
          NoProxy: f.noProxy,
          Name: f.name,
          Labels: f.labels,
          ExperimentalBuild: false,
          ServerVersion: f.version,
          Runtimes: Object.fromEntries(Object.entries(f.runtimes).map(([k, v]) => [k, { path: v.path }])),
          DefaultRuntime: f.defaultRuntime,
          Swarm: {
            NodeID: '',
            NodeAddr: '',
            LocalNodeState: 'inactive',
            ControlAvailable: false,
            Error: '',
            RemoteManagers: null,
          },
          LiveRestoreEnabled: f.liveRestore,
          Isolation: '',
          InitBinary: 'tini',
          ContainerdCommit: { ID: '', Expected: '' },
          RuncCommit: {
            ID: f.runtimeVersions[f.defaultRuntime]?.commit ?? '',
            Expected: f.runtimeVersions[f.defaultRuntime]?.commit ?? '',
          },
          InitCommit: { ID: '', Expected: '' },
          SecurityOptions: apiHas(version, 'autoRemove')
            ? f.securityOptions
            : f.securityOptions.map((o) => o.replace(/^name=/, '').replace(/,.*$/, '')),
          // No CDI: the key is sent (1.44+) with no directories, as a non-experimental Docker.
          CDISpecDirs: [],
          // Published ports and NAT are iptables rules in Berth's own chains (1.49+).
          FirewallBackend: { Driver: 'iptables' },
          // API < 1.25 clients read this key (gone since containerd).
          ExecutionDriver: '<not supported>',
          Warnings: f.warnings,
        };
        sendJson(res, 200, shapeFor('info', info, version));
      },
    },
  ];
}

/**
 * Docker's RegistryConfig: insecure CIDRs (loopback always) apart from insecure registry names,
 * each of which gets an IndexConfigs entry with Secure false.
 */
function registryConfig(insecure: readonly string[], mirrors: readonly string[]) {
  const cidrs = insecure.filter((r) => r.includes('/'));
  const names = insecure.filter((r) => !r.includes('/'));
  return {
    AllowNondistributableArtifactsCIDRs: null,
    AllowNondistributableArtifactsHostnames: null,
    InsecureRegistryCIDRs: [...new Set(['::1/128', '127.0.0.0/8', ...cidrs])],
    IndexConfigs: {
      ...Object.fromEntries(names.map((n) => [n, { Name: n, Mirrors: [], Secure: false, Official: false }])),
      'docker.io': { Name: 'docker.io', Mirrors: [...mirrors], Secure: true, Official: true },
    },
    Mirrors: [...mirrors],
  };
}
