// Image references normalised as Docker does (distribution/reference semantics):
// `busybox` → `docker.io/library/busybox:latest`; `host:port/ns/name:tag@sha256:...`.
import { InvalidArgumentError } from '../errdefs/index.ts';
import { type Digest, isDigest } from './digest.ts';

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const NAME_TOTAL_LENGTH_MAX = 255;

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_RE = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`,
);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const HEX64_RE = /^[a-f0-9]{64}$/;

/** A parsed, normalised reference. `tag` and `digest` may both be present. */
export interface Reference {
  /** Registry host, e.g. `docker.io` or `localhost:5000`. */
  readonly domain: string;
  /** Repository path inside the registry, e.g. `library/busybox`. */
  readonly path: string;
  readonly tag?: string;
  readonly digest?: Digest;
}

function invalid(detail?: string): never {
  throw new InvalidArgumentError(
    'INVALID_REFERENCE',
    detail ? `invalid reference format: ${detail}` : 'invalid reference format',
  );
}

function splitDomain(name: string): { domain: string; path: string } {
  const i = name.indexOf('/');
  let domain: string;
  let rest: string;
  if (i === -1) {
    domain = DEFAULT_DOMAIN;
    rest = name;
  } else {
    const first = name.slice(0, i);
    if (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first) {
      domain = DEFAULT_DOMAIN;
      rest = name;
    } else {
      domain = first;
      rest = name.slice(i + 1);
    }
  }
  if (domain === LEGACY_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !rest.includes('/')) rest = OFFICIAL_REPO_PREFIX + rest;
  return { domain, path: rest };
}

/**
 * Parses a user-supplied reference and normalises it as `docker pull` would. Does not add
 * the default tag; use {@link withDefaultTag} for that.
 */
export function parseReference(input: string): Reference {
  if (input.length === 0) invalid();
  let s = input;
  let digest: Digest | undefined;
  const at = s.indexOf('@');
  if (at !== -1) {
    const d = s.slice(at + 1);
    if (!isDigest(d)) {
      // Shaped like a digest (algorithm:32+ hex) but not sha256: say so; otherwise a format error.
      if (
        /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/.test(d) &&
        !d.startsWith('sha256:')
      ) {
        throw new InvalidArgumentError(
          'INVALID_REFERENCE',
          `unsupported digest algorithm in "${input}": only sha256 is supported`,
        );
      }
      invalid();
    }
    digest = d;
    s = s.slice(0, at);
  }
  let tag: string | undefined;
  const lastColon = s.lastIndexOf(':');
  if (lastColon > s.lastIndexOf('/')) {
    tag = s.slice(lastColon + 1);
    s = s.slice(0, lastColon);
    if (!TAG_RE.test(tag)) invalid();
  }
  if (s.length === 0) invalid();
  if (HEX64_RE.test(s)) {
    throw new InvalidArgumentError(
      'INVALID_REFERENCE',
      `invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`,
    );
  }
  const { domain, path } = splitDomain(s);
  if (!DOMAIN_RE.test(domain)) invalid();
  const components = path.split('/');
  for (const c of components) {
    if (!PATH_COMPONENT_RE.test(c)) {
      if (c.toLowerCase() !== c && PATH_COMPONENT_RE.test(c.toLowerCase())) {
        invalid(`repository name (${path}) must be lowercase`);
      }
      invalid();
    }
  }
  if (domain.length + 1 + path.length > NAME_TOTAL_LENGTH_MAX) {
    invalid(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  return { domain, path, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** Adds `:latest` when the reference has neither tag nor digest. */
export function withDefaultTag(ref: Reference): Reference {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: 'latest' } : ref;
}

/** `docker.io/library/busybox` */
export function fullName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** Full normalised string, e.g. `docker.io/library/busybox:latest`. */
export function formatReference(ref: Reference): string {
  return fullName(ref) + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest ? `@${ref.digest}` : '');
}

/** Docker's familiar name: `busybox`, `user/app`, `localhost:5000/app`. */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return fullName(ref);
  return ref.path.startsWith(OFFICIAL_REPO_PREFIX) && ref.path.split('/').length === 2
    ? ref.path.slice(OFFICIAL_REPO_PREFIX.length)
    : ref.path;
}

/** Docker's familiar string, e.g. `busybox:latest`, `localhost:5000/app@sha256:...`. */
export function familiarString(ref: Reference): string {
  return (
    familiarName(ref) + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest ? `@${ref.digest}` : '')
  );
}

/** Parses a repository name with no tag or digest (as in `docker tag x REPO:TAG` or `?repo=`). */
export function parseRepository(input: string): Reference {
  const ref = parseReference(input);
  if (ref.tag !== undefined || ref.digest !== undefined) invalid();
  return ref;
}
