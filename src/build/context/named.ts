// Named build contexts (`--build-context NAME=VALUE`, compose's `build.additional_contexts`), as
// docker buildx passes them to BuildKit: `FROM NAME`, `COPY --from=NAME` and
// `RUN --mount=from=NAME` read the named context instead of an image of that name.
//
// Over the classic POST /build API (Berth's extension, `namedcontexts` query parameter):
// - an image context is `{"image": REF}`;
// - a local directory travels inside the context tar below a reserved top directory
//   `.berth-named.<20 hex>/<index>` (the client picks the random part) and the parameter says
//   `{"dir": ".berth-named.<hex>/<index>"}`. The daemon moves each one out of the main context
//   before the build (so `COPY .` never sees them) and reads it as a context of its own: COPY
//   sources and bind mounts resolve inside the named directory only, as they do inside the
//   main context (no `..`, symlinks followed inside it).
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '../../errdefs/index.ts';
import { parseReference } from '../../oci/reference.ts';
import { resolveInRoot } from './scope.ts';

/** What a name stands for during the build: a directory on the daemon's side, or an image. */
export type NamedContext = { readonly dir: string } | { readonly image: string };

/** The wire form: `dir` is the tree's path inside the context tar. */
export type NamedContextSpec = { readonly dir: string } | { readonly image: string };

export const NAMED_DIR_ROOT = /^\.berth-named\.[0-9a-f]{20}$/;
const NAMED_DIR = /^(\.berth-named\.[0-9a-f]{20})\/(\d{1,4})$/;
/** Names as BuildKit takes them: an image reference or a plain word (no `=`, spaces or `$`). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._\-/:@]{0,254}$/;

function bad(message: string): InvalidArgumentError {
  return new InvalidArgumentError('BUILD_NAMED_CONTEXT', message);
}

/** Checks a context name (shared by the CLI and the daemon). */
export function checkContextName(name: string): void {
  if (!NAME.test(name))
    throw bad(
      `invalid named context name ${JSON.stringify(name)}: use letters, digits and . _ - / : @ (an image name or a word)`,
    );
}

/** Parses and checks the `namedcontexts` parameter (absent: no named contexts). */
export function parseNamedContexts(raw: string | null): Map<string, NamedContextSpec> {
  const out = new Map<string, NamedContextSpec>();
  if (!raw) return out;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    v = undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw bad(
      `invalid namedcontexts ${JSON.stringify(raw.slice(0, 200))}: send a JSON object of name → {"image": REF} or {"dir": PATH}`,
    );
  for (const [name, spec] of Object.entries(v as Record<string, unknown>)) {
    checkContextName(name);
    const s = spec as Record<string, unknown> | null;
    if (s && typeof s.image === 'string' && s.dir === undefined) {
      try {
        parseReference(s.image);
      } catch (err) {
        throw bad(
          `named context "${name}": invalid image reference ${JSON.stringify(s.image)}: ${(err as Error).message}`,
        );
      }
      out.set(name, { image: s.image });
    } else if (s && typeof s.dir === 'string' && s.image === undefined && NAMED_DIR.test(s.dir)) {
      out.set(name, { dir: s.dir });
    } else {
      throw bad(
        `named context "${name}": expected {"image": REF} or {"dir": ".berth-named.<20 hex>/<n>"}, got ${JSON.stringify(spec)?.slice(0, 200)}`,
      );
    }
  }
  return out;
}

/**
 * Moves the local named contexts out of the extracted main context `contextDir` into `destRoot`
 * (a new directory) and returns name → context. Each tree must be a real directory at exactly
 * its path (no symlink anywhere on the way); the reserved top directories are removed from the
 * main context even when a spec did not name them.
 */
export async function detachNamedContexts(
  contextDir: string,
  specs: ReadonlyMap<string, NamedContextSpec>,
  destRoot: string,
): Promise<Map<string, NamedContext>> {
  const out = new Map<string, NamedContext>();
  let i = 0;
  for (const [name, spec] of specs) {
    if ('image' in spec) {
      out.set(name, spec);
      continue;
    }
    const r = resolveInRoot(contextDir, spec.dir, false);
    if (!r.stat?.isDirectory() || r.abs !== path.join(path.resolve(contextDir), spec.dir))
      throw bad(`named context "${name}": ${spec.dir} is not a directory in the build context tar`);
    await fsp.mkdir(destRoot, { recursive: true, mode: 0o700 });
    const dest = path.join(destRoot, String(i++));
    await fsp.rename(r.abs, dest);
    out.set(name, { dir: dest });
  }
  for (const entry of await fsp.readdir(contextDir)) {
    if (NAMED_DIR_ROOT.test(entry))
      await fsp.rm(path.join(contextDir, entry), { recursive: true, force: true });
  }
  return out;
}
