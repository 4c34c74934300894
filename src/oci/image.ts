import type { Digest } from './digest.ts';
import { InvalidArgumentError } from '../errdefs/index.ts';

/** OCI descriptor. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly annotations?: Record<string, string>;
  readonly platform?: Platform;
}

export interface Platform {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
  readonly 'os.version'?: string;
}

export interface ImageManifest {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly annotations?: Record<string, string>;
}

export interface ImageIndex {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly manifests: readonly Descriptor[];
  readonly annotations?: Record<string, string>;
}

/** The container part of an image config (Docker's field names, which OCI shares). */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Healthcheck?: unknown;
  OnBuild?: string[] | null;
  Shell?: string[];
  ArgsEscaped?: boolean;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** Image config JSON (OCI `application/vnd.oci.image.config.v1+json` / Docker image v1.2). */
export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  author?: string;
  config?: ContainerConfig;
  container_config?: ContainerConfig;
  docker_version?: string;
  comment?: string;
  rootfs: { type: 'layers'; diff_ids: Digest[] };
  history?: HistoryEntry[];
  [extra: string]: unknown;
}

/** The host's platform in OCI terms. */
export function hostPlatform(): Platform {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch === 'ia32' ? '386' : process.arch;
  return { architecture: arch, os: 'linux' };
}

/** `os[/arch[/variant]]` as docker's --platform; arch defaults to the host's. */
export function parsePlatform(text: string): Platform {
  const [os, architecture, variant, extra] = text.trim().toLowerCase().split('/');
  if (!os || extra !== undefined || (architecture !== undefined && architecture === '')) {
    throw new InvalidArgumentError(
      'INVALID_PLATFORM',
      `invalid platform "${text}": use os[/arch[/variant]], e.g. linux/amd64 or linux/arm64/v8`,
    );
  }
  const arch = architecture === 'x86_64' ? 'amd64' : architecture === 'aarch64' ? 'arm64' : architecture;
  return { os, architecture: arch ?? hostPlatform().architecture, ...(variant ? { variant } : {}) };
}
