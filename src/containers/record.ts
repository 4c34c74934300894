// Container records and their state machine. Docker's booleans (Running, Paused, …) are derived
// from the one `state` union at the API edge.
import type { Digest } from '../oci/digest.ts';

export type ContainerState =
  | { readonly status: 'created' }
  | {
      readonly status: 'running';
      readonly pid: number;
      readonly monitorPid: number;
      readonly startedAt: string;
    }
  | {
      readonly status: 'paused';
      readonly pid: number;
      readonly monitorPid: number;
      readonly startedAt: string;
    }
  | {
      readonly status: 'exited';
      readonly exitCode: number;
      readonly startedAt: string;
      readonly finishedAt: string;
      readonly error: string;
      /** The kernel's OOM killer killed a process of the container's cgroup. */
      readonly oomKilled?: boolean;
    }
  | { readonly status: 'dead'; readonly error: string };

/** The container part of a create request, in Docker's field names (stored as given). */
export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[];
  Cmd: string[] | null;
  Entrypoint: string[] | null;
  Image: string;
  WorkingDir: string;
  Labels: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
  /** Image HEALTHCHECK or the run flags (Docker's shape, durations in nanoseconds). */
  Healthcheck?: {
    Test?: string[];
    Interval?: number;
    Timeout?: number;
    Retries?: number;
    StartPeriod?: number;
  };
  ExposedPorts?: Record<string, Record<string, never>>;
  Volumes?: Record<string, Record<string, never>> | null;
}

/** The subset of HostConfig Berth acts on today; the rest is stored and echoed back. */
export interface HostConfig {
  AutoRemove?: boolean;
  ReadonlyRootfs?: boolean;
  Init?: boolean | null;
  Runtime?: string;
  NetworkMode?: string;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  GroupAdd?: string[] | null;
  ExtraHosts?: string[] | null;
  Tmpfs?: Record<string, string>;
  ShmSize?: number;
  /** [height, width] of the client's terminal at create time. */
  ConsoleSize?: [number, number] | null;
  LogConfig?: { Type: string; Config: Record<string, string> };
  [other: string]: unknown;
}

/**
 * A resolved mount of the container (Docker's MountPoint), fixed at create: volumes are
 * created and named, bind sources checked. Shown in inspect's `Mounts`.
 */
export interface MountPoint {
  readonly Type: 'volume' | 'bind' | 'tmpfs';
  /** Volume name (volumes only). */
  readonly Name?: string;
  /** Host path: the bind source or the volume's data directory; '' for tmpfs. */
  readonly Source: string;
  readonly Destination: string;
  /** The mode text given with `-v` (Docker echoes it), '' for `--mount`. */
  readonly Mode: string;
  readonly RW: boolean;
  readonly Propagation: string;
  /** Copy the image's content at Destination into the volume while it is empty (not `nocopy`). */
  readonly CopyData?: boolean;
  /** Created for this container without a name: `rm -v` and `--rm` remove it. */
  readonly Anonymous?: boolean;
  readonly NonRecursive?: boolean;
  readonly TmpfsSize?: number;
  readonly TmpfsMode?: number;
}

export interface ContainerRecord {
  readonly id: string;
  /** Without the leading slash Docker shows in inspect. */
  readonly name: string;
  readonly created: string;
  readonly imageId: Digest;
  readonly config: ContainerConfig;
  readonly hostConfig: HostConfig;
  /** argv[0] and the rest, as Docker's Path/Args. */
  readonly path: string;
  readonly args: string[];
  readonly state: ContainerState;
  readonly restartCount: number;
  /** Set by a user's stop or kill: ends restarts (and unless-stopped's restart at start-up). */
  readonly stoppedByUser?: boolean;
  /** Between an exit and the restart its policy asked for. */
  readonly restarting?: boolean;
  /** The healthcheck's state while the container runs (State.Health). */
  readonly health?: {
    Status: 'starting' | 'healthy' | 'unhealthy';
    FailingStreak: number;
    Log: { Start: string; End: string; ExitCode: number; Output: string }[];
  };
  /**
   * The daemon itself froze the container (commit's pause, a cp/export freeze), written before
   * the freeze: the next start resumes it if a crash left it so. A user's pause never sets it.
   */
  readonly daemonPaused?: 'commit' | 'freeze';
  /** Volumes, binds and `--mount` tmpfs mounts (absent in records from before volumes). */
  readonly mounts?: readonly MountPoint[];
  /**
   * The absolute cgroup parent, fixed at create (HostConfig.CgroupParent or berthd's
   * --cgroup-parent then). Absent in older records: berthd's current --cgroup-parent applies.
   */
  readonly cgroupParent?: string;
  /** The topmost parent directory that did not exist at create in some hierarchy (a summary). */
  readonly cgroupParentMade?: string;
  /**
   * Per hierarchy name, the topmost parent directory that did not exist there at create: rm
   * removes it (and below) in that hierarchy only, once empty. Records with only
   * cgroupParentMade (before this field) remove none: which hierarchy it was missing in is unknown.
   */
  readonly cgroupParentMadeIn?: Readonly<Record<string, string>>;
}

/** Docker's status word for `ps` filters and inspect. */
export function statusWord(s: ContainerState): 'created' | 'running' | 'paused' | 'exited' | 'dead' {
  return s.status;
}
