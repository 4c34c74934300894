// `--build-context NAME=VALUE` (docker buildx's flag) and compose's `build.additional_contexts`
// on the client side: what a value may be, and the local directories packed with the context.
// The daemon's side (and the wire format) is src/build/context/named.ts.
import fs from 'node:fs';
import path from 'node:path';
import { checkContextName } from '../build/context/named.ts';
import { CliError } from './context.ts';

/** A named context as the client holds it: a local directory (absolute) or an image. */
export type LocalNamedContext = { readonly dir: string } | { readonly image: string };

const IMAGE_SCHEME = 'docker-image://';

/**
 * Classifies a named context's value: `docker-image://REF`, or a local directory (relative to
 * `base`). Other forms buildx knows (`oci-layout://`, git and https URLs, `target:`) are refused
 * naming what works.
 */
export function namedContextValue(name: string, value: string, base: string): LocalNamedContext {
  try {
    checkContextName(name);
  } catch (err) {
    throw new CliError((err as Error).message, 125);
  }
  if (value.startsWith(IMAGE_SCHEME)) {
    const image = value.slice(IMAGE_SCHEME.length);
    if (image === '')
      throw new CliError(`named context "${name}": docker-image:// needs an image reference`, 125);
    return { image };
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value) || /^git@|^[A-Za-z][\w-]*:(?!\/\/)/.test(value))
    throw new CliError(
      `named context "${name}": ${JSON.stringify(value)} is not supported: use a local directory or docker-image://REF (Berth's builder has no oci-layout://, git or URL contexts)`,
      125,
    );
  if (value === '')
    throw new CliError(
      `named context "${name}" has an empty value: give a directory or docker-image://REF`,
      125,
    );
  const abs = path.resolve(base, value);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    throw new CliError(`named context "${name}": directory ${abs} not found`, 125);
  }
  if (!st.isDirectory()) throw new CliError(`named context "${name}": ${abs} is not a directory`, 125);
  return { dir: abs };
}

/** `--build-context NAME=VALUE` flags → name → context (values relative to the current directory). */
export function parseBuildContextFlags(
  flags: readonly string[],
  cwd = process.cwd(),
): Map<string, LocalNamedContext> {
  const out = new Map<string, LocalNamedContext>();
  for (const f of flags) {
    const eq = f.indexOf('=');
    if (eq <= 0)
      throw new CliError(`invalid --build-context "${f}": use NAME=PATH or NAME=docker-image://REF`, 125);
    const name = f.slice(0, eq);
    if (out.has(name)) throw new CliError(`--build-context "${name}" given twice`, 125);
    out.set(name, namedContextValue(name, f.slice(eq + 1), cwd));
  }
  return out;
}
