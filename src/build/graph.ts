// The stage graph: which stage a FROM, `COPY --from` or `RUN --mount=from=` names, which stages
// a target needs, and cycles (an error, as Docker's).
import { InvalidArgumentError } from '../errdefs/index.ts';
import { expandWord, type Lookup } from './dockerfile/expand.ts';
import type { Dockerfile, Instruction, Stage } from './dockerfile/types.ts';

/** A stage by name (case-insensitive) or by index; undefined when `ref` names an image. */
export function findStage(stages: readonly Stage[], ref: string): Stage | undefined {
  const lower = ref.toLowerCase();
  const named = stages.find((s) => s.name === lower);
  if (named) return named;
  if (/^\d+$/.test(ref)) return stages[Number(ref)];
  return undefined;
}

function mountFroms(instr: Instruction): string[] {
  if (instr.kind !== 'RUN') return [];
  return instr.flags
    .filter((f) => f.name === 'mount')
    .map((f) => /(?:^|,)from=([^,]+)/.exec(f.value ?? '')?.[1])
    .filter((v): v is string => v !== undefined);
}

/** The earlier stage a FROM names (a later or its own name is an image name, as Docker's). */
export function baseStage(df: Dockerfile, stage: Stage, globalLookup: Lookup): Stage | undefined {
  const s = findStage(df.stages, expandWord(stage.from.image, globalLookup, df.directives.escape));
  return s && s.index < stage.index ? s : undefined;
}

/** Stages `stage` depends on directly: its base and the stages it copies or mounts from. */
export function stageDeps(df: Dockerfile, stage: Stage, globalLookup: Lookup): number[] {
  const esc = df.directives.escape;
  const out = new Set<number>();
  const base = baseStage(df, stage, globalLookup);
  if (base) out.add(base.index);
  for (const instr of stage.instructions) {
    const refs = [
      ...(instr.kind === 'COPY'
        ? instr.flags.filter((f) => f.name === 'from').map((f) => f.value ?? '')
        : []),
      ...mountFroms(instr),
    ];
    for (const r of refs) {
      const s = findStage(df.stages, expandWord(r, globalLookup, esc));
      if (s) out.add(s.index);
    }
  }
  return [...out];
}

/** The target stage and every stage it needs, in an order where dependencies come first. */
export function plan(
  df: Dockerfile,
  target: string | undefined,
  globalLookup: Lookup,
): { target: Stage; order: Stage[] } {
  let t: Stage | undefined;
  if (target) {
    t = df.stages.find((s) => s.name === target.toLowerCase());
    if (!t) {
      const names = df.stages.map((s) => s.name).filter(Boolean);
      throw new InvalidArgumentError(
        'BUILD_TARGET_NOT_FOUND',
        `target stage "${target}" could not be found${names.length ? `: the Dockerfile names ${names.join(', ')}` : ': no stage has a name (use FROM image AS name)'}`,
      );
    }
  } else t = df.stages.at(-1)!;
  const order: Stage[] = [];
  const state = new Map<number, 'visiting' | 'done'>();
  const visit = (s: Stage, chain: string[]) => {
    const st = state.get(s.index);
    if (st === 'done') return;
    const label = s.name ?? String(s.index);
    if (st === 'visiting') {
      throw new InvalidArgumentError(
        'BUILD_STAGE_CYCLE',
        `circular dependency detected on stage: ${label} (${[...chain, label].join(' -> ')})`,
      );
    }
    state.set(s.index, 'visiting');
    for (const d of stageDeps(df, s, globalLookup)) visit(df.stages[d]!, [...chain, label]);
    state.set(s.index, 'done');
    order.push(s);
  };
  visit(t, []);
  return { target: t, order };
}
