// Walking the parsed Dockerfile the way the rules need it: instructions in file order with their
// stage, keywords as written, and the earlier stage a FROM builds on.
import { expandWord, type Lookup } from '../dockerfile/expand.ts';
import type { Dockerfile, Flag, Instruction, Stage } from '../dockerfile/types.ts';

export type FromInstruction = Extract<Instruction, { kind: 'FROM' }>;

/** The build's predefined platform args; values only matter for checking that names stay valid. */
export const PLATFORM_ARGS: Readonly<Record<string, string>> = {
  TARGETPLATFORM: 'linux/amd64',
  TARGETOS: 'linux',
  TARGETARCH: 'amd64',
  TARGETVARIANT: '',
  BUILDPLATFORM: 'linux/amd64',
  BUILDOS: 'linux',
  BUILDARCH: 'amd64',
  BUILDVARIANT: '',
};

export function lineOf(instr: Instruction): number {
  return instr.range.start.line;
}

/** The instruction keyword exactly as written (`From`, `run`, ...). */
export function keywordOf(instr: Instruction): string {
  return /^\s*(\S+)/.exec(instr.original)?.[1] ?? instr.kind;
}

/** The `AS name` of a FROM as written (the parser lower-cases the stage name). */
export function aliasAsWritten(from: FromInstruction): string | undefined {
  if (from.alias === undefined) return undefined;
  const words = from.original.trim().split(/\s+/);
  return words.at(-2)?.toLowerCase() === 'as' ? words.at(-1) : from.alias;
}

export function flagValue(flags: readonly Flag[], name: string): string | undefined {
  return flags.find((f) => f.name === name)?.value;
}

/** Every instruction in file order: the meta ARGs (stage undefined), then each stage's FROM and body. */
export function* instructions(df: Dockerfile): Generator<{ instr: Instruction; stage?: Stage }> {
  for (const a of df.metaArgs) yield { instr: a };
  for (const stage of df.stages) {
    yield { instr: stage.from, stage };
    for (const instr of stage.instructions) yield { instr, stage };
  }
}

/**
 * The global scope FROM lines see when no --build-arg is given: each meta ARG's default (empty
 * when it has none) and the platform args.
 */
export function defaultMetaLookup(df: Dockerfile): Lookup {
  const values = new Map<string, string | undefined>(Object.entries(PLATFORM_ARGS));
  const esc = df.directives.escape;
  for (const a of df.metaArgs) {
    for (const { name, default: def } of a.args) {
      let v: string | undefined;
      if (def !== undefined) {
        try {
          v = expandWord(def, (k: string) => values.get(k), esc);
        } catch {
          v = '';
        }
      }
      values.set(name, v);
    }
  }
  return (k: string) => values.get(k);
}

/** Expands a FROM word with the defaults; undefined when expansion fails (`${X:?msg}` on an unset X). */
export function expandWithDefaults(df: Dockerfile, word: string): string | undefined {
  try {
    return expandWord(word, defaultMetaLookup(df), df.directives.escape);
  } catch {
    return undefined;
  }
}

/** The earlier stage this stage's FROM names, if any (a later or its own name is an image, as in Docker). */
export function baseStageOf(df: Dockerfile, stage: Stage): Stage | undefined {
  const ref = expandWithDefaults(df, stage.from.image)?.toLowerCase();
  if (ref === undefined) return undefined;
  return df.stages.find((s) => s.index < stage.index && s.name === ref);
}

/** The chain of stages this stage builds on inside the Dockerfile, nearest first, ending with itself last. */
export function stageChain(df: Dockerfile, stage: Stage): Stage[] {
  const chain: Stage[] = [];
  const seen = new Set<number>();
  let s: Stage | undefined = stage;
  while (s && !seen.has(s.index)) {
    seen.add(s.index);
    chain.unshift(s);
    s = baseStageOf(df, s);
  }
  return chain;
}

/** Levenshtein distance, for "did you mean" suggestions. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The closest known name to a mistyped one, when it is close enough to be a typo. */
export function suggest(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const k of known) {
    if (k === name) continue;
    const d = k.toLowerCase() === name.toLowerCase() ? 0 : distance(name, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== undefined && bestD <= Math.min(2, Math.max(1, Math.floor(name.length / 2)))
    ? best
    : undefined;
}
