/** What the system routes need from the daemon. */
export interface SystemFacts {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly gitCommit: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly kernelVersion: string;
  readonly operatingSystem: string;
  readonly osVersion: string;
  readonly architecture: string;
  readonly cpus: number;
  readonly memTotal: number;
  readonly cgroupVersion: '1' | '2';
  readonly cgroupDriver: 'cgroupfs' | 'systemd';
  readonly runtimes: Record<string, { path: string }>;
  readonly defaultRuntime: string;
  readonly images: number;
  readonly containers: { total: number; running: number; paused: number; stopped: number };
  readonly layers: number;
  readonly backingFilesystem: string;
  readonly insecureRegistries: string[];
  readonly registryMirrors: string[];
  readonly debug: boolean;
  readonly logLevel: string;
  /** The default log driver (daemon.json log-driver) and every driver accepted. */
  readonly loggingDriver: string;
  readonly logDrivers: string[];
  readonly warnings: string[];
  readonly labels: string[];
  readonly httpProxy: string;
  readonly httpsProxy: string;
  readonly noProxy: string;
  readonly liveRestore: boolean;
  /** What the kernel supports (limits, forwarding, bridge netfilter), read from the machine. */
  readonly kernel: {
    readonly memoryLimit: boolean;
    readonly swapLimit: boolean;
    readonly ipv4Forwarding: boolean;
    readonly bridgeNfIptables: boolean;
    readonly bridgeNfIp6tables: boolean;
  };
  /** Docker's `name=seccomp,profile=builtin` form. */
  readonly securityOptions: string[];
  /** Version and commit of each runtime, from `<runtime> --version` ('' when it would not say). */
  readonly runtimeVersions: Record<string, { version: string; commit: string }>;
}

export interface SystemBackend {
  facts(): Promise<SystemFacts>;
  /** `docker login`: checks the credentials against the registry (throws when refused). */
  login?(server: string, creds: { username?: string; password?: string }): Promise<void>;
}
