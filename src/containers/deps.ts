// What the container service and its helpers (create, recovery, bundle, leftovers) are given
// by the daemon: stores, the runtime driver, and the optional network, volume and log pieces.
import type { Log } from '../base/log.ts';
import type { ImageService } from '../images/index.ts';
import type { SinkDeps } from '../logs/index.ts';
import type { NetworkManager } from '../network/index.ts';
import type { ConmonRuntime } from '../runtime/conmon.ts';
import type { HostResourceFacts, Ulimit } from '../runtime/index.ts';
import type { LayerSnapshots } from '../snapshots/index.ts';
import type { LocalVolumes } from '../volumes/index.ts';
import type { LogDefaults } from './logging.ts';
import type { ContainerStore } from './store.ts';

export interface ContainerServiceDeps {
  readonly store: ContainerStore;
  readonly images: ImageService;
  readonly layers: LayerSnapshots;
  readonly layersRoot: string;
  /** e.g. `/berth`: containers get `<parent>/<id>` in every hierarchy. */
  readonly cgroupParent: string;
  readonly runtime: ConmonRuntime;
  readonly log: Log;
  readonly events?: (type: 'container', action: string, id: string, attrs: Record<string, string>) => void;
  /** Path of berth-stdin-relay, when built: feeds attach stdin into conmon's attach socket. */
  readonly stdinRelay?: string;
  /** Path of berth-console-relay, when built: the terminal end of `exec -t`. */
  readonly consoleRelay?: string;
  /** Networks; without it every container gets a private netns with only loopback. */
  readonly network?: NetworkManager;
  /** CPUs, memory nodes, hard rlimits, cgroup version; read from the host when not given. */
  readonly resourceFacts?: HostResourceFacts;
  /** Local volumes for -v / --mount / VOLUME; without it only binds and tmpfs mounts work. */
  readonly volumes?: LocalVolumes;
  /** daemon.json default-ulimits: applied at each start to the limits a container does not set. */
  readonly defaultUlimits?: readonly Ulimit[];
  /** daemon.json log-driver / log-opts (default json-file). */
  readonly logDefaults?: LogDefaults;
  /** What remote log drivers need from the daemon (the unixgram relay, the journal socket). */
  readonly logSinks?: SinkDeps;
}
