// Build arguments as Docker scopes them: ARGs before the first FROM are visible only in FROM
// lines (and as defaults for a stage's own `ARG NAME`); each stage sees only the ARGs it
// declares; `--build-arg` overrides defaults; ENV of the same name wins over an ARG; the proxy
// args are usable without a declaration but kept out of history and cache keys unless declared;
// the platform args (TARGETOS, ...) are predefined in the global scope.
import type { Platform } from '../oci/image.ts';
import { getOwn } from '../base/own.ts';

export const PROXY_ARGS = [
  'HTTP_PROXY',
  'http_proxy',
  'HTTPS_PROXY',
  'https_proxy',
  'FTP_PROXY',
  'ftp_proxy',
  'NO_PROXY',
  'no_proxy',
  'ALL_PROXY',
  'all_proxy',
];

/** TARGETPLATFORM, TARGETOS, ... for the target platform; BUILD* for the host's. */
export function platformArgs(target: Platform, build: Platform): Record<string, string> {
  const fmt = (p: Platform) => `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
  return {
    TARGETPLATFORM: fmt(target),
    TARGETOS: target.os,
    TARGETARCH: target.architecture,
    TARGETVARIANT: target.variant ?? '',
    BUILDPLATFORM: fmt(build),
    BUILDOS: build.os,
    BUILDARCH: build.architecture,
    BUILDVARIANT: build.variant ?? '',
  };
}

/** The global scope: meta ARG values after their defaults, build args and the platform args. */
export class GlobalArgs {
  readonly #values = new Map<string, string | undefined>();
  readonly #buildArgs: Readonly<Record<string, string | null>>;
  readonly #used = new Set<string>();

  constructor(buildArgs: Readonly<Record<string, string | null>>, predefined: Record<string, string>) {
    this.#buildArgs = buildArgs;
    for (const [k, v] of Object.entries(predefined)) this.#values.set(k, v);
  }

  /** `ARG NAME[=default]` before the first FROM; `expandDefault` sees earlier meta args. */
  declare(name: string, def: string | undefined): void {
    this.#used.add(name);
    const given = getOwn(this.#buildArgs, name);
    this.#values.set(name, given !== undefined && given !== null ? given : def);
  }

  lookup = (name: string): string | undefined => this.#values.get(name);

  /** The global value a stage's `ARG NAME` (without default) inherits. */
  has(name: string): boolean {
    return this.#values.has(name);
  }

  markUsed(name: string): void {
    this.#used.add(name);
  }

  /** Build args given on the command line that no ARG consumed (Docker warns about them). */
  unused(): string[] {
    return Object.keys(this.#buildArgs).filter((k) => !this.#used.has(k) && !PROXY_ARGS.includes(k));
  }
}

/** The ARGs one stage has declared so far, in order. */
export class StageArgs {
  readonly #values = new Map<string, string | undefined>();
  readonly #global: GlobalArgs;
  readonly #buildArgs: Readonly<Record<string, string | null>>;

  constructor(global: GlobalArgs, buildArgs: Readonly<Record<string, string | null>>) {
    this.#global = global;
    this.#buildArgs = buildArgs;
  }

  declare(name: string, def: string | undefined): void {
    this.#global.markUsed(name);
    const given = getOwn(this.#buildArgs, name);
    if (given !== undefined && given !== null) this.#values.set(name, given);
    else if (def !== undefined) this.#values.set(name, def);
    else this.#values.set(name, this.#global.lookup(name));
  }

  get(name: string): string | undefined {
    return this.#values.get(name);
  }

  has(name: string): boolean {
    return this.#values.has(name);
  }

  /** Declared args with a value, `NAME=value`, for RUN's environment and cache key. */
  declared(): string[] {
    return [...this.#values.entries()].filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
  }

  /** Proxy args given as build args but not declared: in RUN's env only. */
  proxies(): string[] {
    return PROXY_ARGS.filter(
      (k) => !this.#values.has(k) && typeof getOwn(this.#buildArgs, k) === 'string',
    ).map((k) => `${k}=${getOwn(this.#buildArgs, k)}`);
  }
}
