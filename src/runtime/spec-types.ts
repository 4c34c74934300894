// OCI runtime-spec types (config.json), written from the runtime spec: only the fields Berth sets.

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export interface OciUser {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
}

export interface OciCapabilities {
  bounding: string[];
  effective: string[];
  permitted: string[];
  inheritable?: string[];
  ambient?: string[];
}

export interface OciRlimit {
  type: string;
  soft: number;
  hard: number;
}

export interface OciProcess {
  terminal: boolean;
  consoleSize?: { height: number; width: number };
  user: OciUser;
  args: string[];
  env: string[];
  cwd: string;
  capabilities: OciCapabilities;
  rlimits?: OciRlimit[];
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
}

export interface OciDeviceCgroup {
  allow: boolean;
  type?: 'a' | 'c' | 'b';
  major?: number;
  minor?: number;
  access?: string;
}

export interface OciLinuxDevice {
  path: string;
  type: 'c' | 'b' | 'u' | 'p';
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface OciNamespace {
  type: 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup';
  path?: string;
}

export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly: boolean };
  hostname?: string;
  domainname?: string;
  mounts: OciMount[];
  linux: {
    namespaces: OciNamespace[];
    cgroupsPath: string;
    resources: { devices: OciDeviceCgroup[]; [k: string]: unknown };
    maskedPaths: string[];
    readonlyPaths: string[];
    sysctl?: Record<string, string>;
    seccomp?: unknown;
    devices?: OciLinuxDevice[];
    rootfsPropagation?: string;
  };
  annotations?: Record<string, string>;
}
