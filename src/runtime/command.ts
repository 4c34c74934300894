// Docker's rules for what a container runs: image Entrypoint/Cmd vs the create request's.
import { InvalidArgumentError } from '../errdefs/index.ts';

export interface CommandSources {
  readonly imageEntrypoint?: readonly string[] | null;
  readonly imageCmd?: readonly string[] | null;
  /** undefined/null: keep the image's. `[]` or `[""]`: reset (`--entrypoint ""`). */
  readonly entrypoint?: readonly string[] | null;
  readonly cmd?: readonly string[] | null;
}

/**
 * The argv a container starts with. Overriding the entrypoint discards the image's CMD, as in
 * Docker; an empty result is an error naming the fix.
 */
export function composeCommand(s: CommandSources): { entrypoint: string[]; cmd: string[]; args: string[] } {
  let entrypoint: string[];
  let cmd: string[];
  if (s.entrypoint !== undefined && s.entrypoint !== null) {
    entrypoint = s.entrypoint.length === 1 && s.entrypoint[0] === '' ? [] : [...s.entrypoint];
    cmd = [...(s.cmd ?? [])];
  } else {
    entrypoint = [...(s.imageEntrypoint ?? [])];
    cmd = s.cmd && s.cmd.length > 0 ? [...s.cmd] : [...(s.imageCmd ?? [])];
  }
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) {
    throw new InvalidArgumentError(
      'NO_COMMAND',
      'no command specified: the image has no CMD or ENTRYPOINT; give a command after the image name',
    );
  }
  return { entrypoint, cmd, args };
}

/** `KEY=value` entries of `overrides` replace same-key entries of `base`, others are appended. */
export function replaceOrAppendEnv(base: readonly string[], overrides: readonly string[]): string[] {
  const out = [...base];
  for (const e of overrides) {
    if (!e.includes('=')) continue; // `-e NAME` without a value and unset on the client: dropped
    const key = e.split('=')[0]!;
    const i = out.findIndex((x) => x.split('=')[0] === key);
    if (i >= 0) out[i] = e;
    else out.push(e);
  }
  return out;
}

/** Docker's env merge: image env, then request env overriding by key; a PATH always. */
export function mergeEnv(image: readonly string[] = [], request: readonly string[] = []): string[] {
  const out = replaceOrAppendEnv(image, request);
  if (!out.some((e) => e.startsWith('PATH=')))
    out.unshift('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  return out;
}
