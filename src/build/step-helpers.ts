// Small pure pieces the executor's steps share: cache keys, errors naming the line, flag
// lookup, the variable lookup of a stage (ENV wins over ARG), heredoc expansion.
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../errdefs/index.ts';
import type { ImageConfig } from '../oci/image.ts';
import type { StageArgs } from './args.ts';
import type { Lookup } from './dockerfile/expand.ts';
import type { Instruction } from './dockerfile/types.ts';
import type { CopyItem } from './steps/copy.ts';

export function key(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

export function bad(instr: Instruction | undefined, why: string): never {
  throw new InvalidArgumentError(
    'DOCKERFILE_INVALID',
    instr ? `Dockerfile:${instr.range.start.line}: ${why}` : why,
  );
}

export function flag(instr: Instruction, name: string): string | undefined {
  return instr.flags.find((f) => f.name === name)?.value;
}

export function envLookup(cfg: ImageConfig, args: StageArgs): Lookup {
  const env = cfg.config?.Env ?? [];
  return (name) => {
    for (let i = env.length - 1; i >= 0; i--) {
      const e = env[i]!;
      if (e.startsWith(`${name}=`)) return e.slice(name.length + 1);
    }
    return args.get(name);
  };
}

/** What COPY --from matched in an image, its checksum and (one source) whether it is a dir. */
export interface SourceSum {
  readonly items: CopyItem[];
  readonly sum: string;
  readonly kind?: 'file' | 'dir';
}

/** Remembers an image's source checksum; the map is bounded (cleared when it grows large). */
export function rememberSum(map: Map<string, SourceSum> | undefined, k: string, v: SourceSum): void {
  if (!map) return;
  if (map.size >= 4096) map.clear();
  map.set(k, v);
}

/** Heredoc bodies expand `$VAR`/`${VAR}` only (no quote removal), as BuildKit does. */
export function expandHeredoc(content: string, lookup: Lookup): string {
  return content.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (m, a, b) => {
    const v = lookup((a ?? b) as string);
    return v ?? m;
  });
}
