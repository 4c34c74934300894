import type { Readable } from 'node:stream';
import type {
  Change,
  CommitOptions,
  ContainerRecord,
  CreateRequest,
  PathStat,
  WaitCondition,
} from '../../../containers/index.ts';
import type { CgroupSample, ResourceFields } from '../../../runtime/index.ts';

/** What the container routes need; the daemon wires it to the container service. */
export interface ContainersBackend {
  list(): ContainerRecord[];
  find(ref: string): ContainerRecord;
  create(req: CreateRequest): Promise<{ id: string; warnings: string[] }>;
  start(ref: string): Promise<void>;
  stop(ref: string, timeoutSeconds?: number, signal?: string): Promise<void>;
  kill(ref: string, signal?: string): Promise<void>;
  wait(ref: string, condition: WaitCondition, signal?: AbortSignal): Promise<{ code: number; error: string }>;
  /** `volumes`: also remove the container's anonymous volumes (`rm -v`). */
  remove(ref: string, opts: { force?: boolean; volumes?: boolean }): Promise<void>;
  /** Drops the legacy link `alias` of container `parent`. */
  removeLink(parent: string, alias: string): Promise<void>;
  pause(ref: string): Promise<void>;
  unpause(ref: string): Promise<void>;
  restart(ref: string, timeoutSeconds?: number, signal?: string): Promise<void>;
  rename(ref: string, name: string): Promise<void>;
  prune(filter: (rec: ContainerRecord) => boolean): Promise<string[]>;
  top(ref: string, psArgs?: string): Promise<{ titles: string[]; processes: string[][] }>;
  resize(ref: string, height: number, width: number): Promise<void>;
  logPath(id: string): string;
  /** Rotated log files kept, `--details` attributes, and whether `logs` may read them. */
  logPolicy(rec: ContainerRecord): {
    maxFiles: number;
    details: Record<string, string>;
    readable: boolean;
    /** False for `none`: no file keeps the output, attach reads it live (attachOutput). */
    localFile: boolean;
  };
  /** `docker update`: validated new limits, applied live when running. */
  update(ref: string, changes: ResourceFields): Promise<{ warnings: string[] }>;
  /** A cgroup sample (none when not running) and, when asked, the one before it. */
  stats(
    ref: string,
    opts: { withPrevious: boolean },
  ): Promise<{ rec: ContainerRecord; cur?: CgroupSample; prev?: CgroupSample }>;
  /** Feeds a client's stdin to the container, once it runs; resolves when the feed ends. */
  feedStdin?(id: string, input: NodeJS.ReadableStream, signal: AbortSignal): Promise<void>;
  /**
   * The container's output straight from its monitor, for a container with no log file (the
   * `none` driver): connected before the process runs when the container is not running yet.
   * Ends when the monitor does; `exited` gives up a wait for a start that failed.
   */
  attachOutput?(
    id: string,
    signal: AbortSignal,
    exited: Promise<void>,
  ): AsyncIterable<{ stream: 'stdout' | 'stderr'; data: Buffer }>;
  /**
   * Connects a container to one more network with the endpoint settings of a create request
   * (EndpointsConfig beyond NetworkMode's, API >= 1.44), as `network connect` does.
   */
  connectNetwork(network: string, container: string, settings: Record<string, unknown>): Promise<void>;
  /** The container's networks and published ports, for inspect and ps. */
  networks(rec: ContainerRecord): ContainerNetworks;
  /** overlay2-style GraphDriver data for inspect. */
  graphDriver(rec: ContainerRecord): Record<string, string>;
  /** SizeRw (the writable layer) and SizeRootFs (that plus the image), in bytes. */
  sizes(rec: ContainerRecord): Promise<{ rw: number; rootFs: number }>;
}

/** What the filesystem routes (archive, changes, export, commit) need. */
export interface ContainerFsBackend {
  stat(ref: string, path: string): Promise<PathStat>;
  /** `consume` must read the tar to its end before it resolves. */
  archive(
    ref: string,
    path: string,
    consume: (stat: PathStat, tar: Readable) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<void>;
  extract(
    ref: string,
    path: string,
    tar: Readable,
    opts: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean; signal?: AbortSignal },
  ): Promise<void>;
  changes(ref: string): Promise<Change[]>;
  export(ref: string, consume: (tar: Readable) => Promise<void>, signal?: AbortSignal): Promise<void>;
  commit(ref: string, opts: CommitOptions): Promise<string>;
}

export interface ContainerEndpointView {
  readonly networkName: string;
  readonly networkId: string;
  readonly endpointId: string;
  readonly ip: string;
  readonly prefixLen: number;
  readonly gateway: string;
  readonly mac: string;
  readonly aliases: string[];
  readonly isDefault: boolean;
  /** A network `network create` made (Docker adds the short ID to the aliases there). */
  readonly userDefined: boolean;
  /** IPv6 address, prefix length and gateway ('' / 0 without IPv6). */
  readonly ip6: string;
  readonly prefixLen6: number;
  readonly gateway6: string;
  /** The endpoint settings as requested at create or connect. */
  readonly config: {
    IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] };
    Links?: string[];
    DriverOpts?: Record<string, string>;
    MacAddress?: string;
  };
  /** The endpoint is plugged (the container runs). */
  readonly active: boolean;
}

export interface ContainerNetworks {
  readonly endpoints: ContainerEndpointView[];
  readonly ports: { containerPort: number; proto: string; hostIp: string; hostPort: number }[];
  readonly sandboxKey: string;
}
