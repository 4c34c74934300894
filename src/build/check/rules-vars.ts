// Docker's build-check rules about variables and FROM lines: undefined variables and ARGs,
// defaults that leave an invalid image name, --platform values, secrets in ARG/ENV.
import { variablesIn } from '../dockerfile/expand.ts';
import type { Instruction, Stage } from '../dockerfile/types.ts';
import { parseReference } from '../../oci/reference.ts';
import {
  expandWithDefaults,
  flagValue,
  instructions,
  lineOf,
  PLATFORM_ARGS,
  stageChain,
  suggest,
} from './ast.ts';
import type { Report, Rule, RuleInput } from './types.ts';

/** The words of an instruction that Docker expands (RUN, CMD and ENTRYPOINT are left to the shell). */
function expandedWords(instr: Instruction): string[] {
  switch (instr.kind) {
    case 'ENV':
      return instr.pairs.map((p) => p.value);
    case 'LABEL':
      return instr.pairs.flatMap((p) => [p.key, p.value]);
    case 'ARG':
      return instr.args.flatMap((a) => (a.default === undefined ? [] : [a.default]));
    case 'COPY':
    case 'ADD':
      return [
        ...instr.sources.filter((s) => !s.startsWith('<<')),
        instr.dest,
        ...instr.flags.filter((f) => ['chown', 'chmod', 'from'].includes(f.name)).map((f) => f.value ?? ''),
      ];
    case 'WORKDIR':
      return [instr.path];
    case 'USER':
      return [instr.user];
    case 'VOLUME':
      return [...instr.paths];
    case 'EXPOSE':
      return [...instr.ports];
    case 'STOPSIGNAL':
      return [instr.signal];
    default:
      return [];
  }
}

/** Names an instruction defines for the instructions after it. */
function definedBy(instr: Instruction): string[] {
  if (instr.kind === 'ENV') return instr.pairs.map((p) => p.key);
  if (instr.kind === 'ARG') return instr.args.map((a) => a.name);
  return [];
}

function baseIsExternal(input: RuleInput, stage: Stage): string | undefined {
  const root = stageChain(input.df, stage)[0]!;
  const img = expandWithDefaults(input.df, root.from.image) ?? root.from.image;
  return img.toLowerCase() === 'scratch' ? undefined : img;
}

export const undefinedVar: Rule = {
  name: 'UndefinedVar',
  run(input) {
    const { df } = input;
    const esc = df.directives.escape;
    const metaNames = df.metaArgs.flatMap((a) => a.args.map((x) => x.name));
    const out: Report[] = [];
    for (const stage of df.stages) {
      // Every image has PATH (Docker gives scratch a default one).
      const defined = new Set<string>(['PATH']);
      for (const s of stageChain(df, stage).slice(0, -1)) {
        for (const i of s.instructions) for (const n of definedBy(i)) defined.add(n);
      }
      const external = baseIsExternal(input, stage);
      for (const instr of stage.instructions) {
        const missing = new Set<string>();
        for (const w of expandedWords(instr)) {
          for (const v of variablesIn(w, esc)) if (!defined.has(v)) missing.add(v);
        }
        for (const v of missing) {
          const near = suggest(v, [...defined, ...metaNames]);
          const hint = external
            ? ` (unless base image '${external}' sets it, which this check cannot see)`
            : '';
          out.push({
            line: lineOf(instr),
            message: `Usage of undefined variable '$${v}'${near ? ` (did you mean $${near}?)` : ''}: declare it with ARG or ENV before this line${hint}`,
          });
        }
        for (const n of definedBy(instr)) defined.add(n);
      }
    }
    return out;
  },
};

function fromWords(from: Extract<Instruction, { kind: 'FROM' }>): string[] {
  const platform = from.platform ?? flagValue(from.flags, 'platform');
  return platform === undefined ? [from.image] : [from.image, platform];
}

export const undefinedArgInFrom: Rule = {
  name: 'UndefinedArgInFrom',
  run({ df }) {
    const declared = new Set([
      ...Object.keys(PLATFORM_ARGS),
      ...df.metaArgs.flatMap((a) => a.args.map((x) => x.name)),
    ]);
    const out: Report[] = [];
    for (const stage of df.stages) {
      const names = new Set(fromWords(stage.from).flatMap((w) => variablesIn(w, df.directives.escape)));
      for (const v of names) {
        if (declared.has(v)) continue;
        const near = suggest(v, declared);
        out.push({
          line: lineOf(stage.from),
          message: `FROM argument '${v}' is not declared${near ? ` (did you mean ${near}?)` : ''}: declare it with ARG ${v}=<default> before the first FROM`,
        });
      }
    }
    return out;
  },
};

export const invalidDefaultArgInFrom: Rule = {
  name: 'InvalidDefaultArgInFrom',
  run({ df }) {
    const out: Report[] = [];
    for (const stage of df.stages) {
      const image = stage.from.image;
      if (variablesIn(image, df.directives.escape).length === 0) continue;
      const v = expandWithDefaults(df, image);
      let ok = v !== undefined && v !== '';
      if (
        ok &&
        v!.toLowerCase() !== 'scratch' &&
        !df.stages.some((s) => s.index < stage.index && s.name === v!.toLowerCase())
      ) {
        try {
          parseReference(v!);
        } catch {
          ok = false;
        }
      }
      if (!ok) {
        out.push({
          line: lineOf(stage.from),
          message: `Default value for ARG ${image} results in empty or invalid base image name: give the ARG a default (ARG NAME=value) or write \${NAME:-value}`,
        });
      }
    }
    return out;
  },
};

export const fromPlatformFlagConstDisallowed: Rule = {
  name: 'FromPlatformFlagConstDisallowed',
  run({ df }) {
    const out: Report[] = [];
    for (const stage of df.stages) {
      const p = stage.from.platform ?? flagValue(stage.from.flags, 'platform');
      if (p === undefined || p.includes('$')) continue;
      // A stage named for its platform (build_amd64) is platform-specific on purpose.
      const name = stage.name ?? '';
      const parts = p.toLowerCase().split('/').filter(Boolean);
      if (name !== '' && parts.some((x) => name.includes(x))) continue;
      out.push({
        line: lineOf(stage.from),
        message: `FROM --platform flag should not use constant value "${p}": leave it out and pass --platform to the build, use $BUILDPLATFORM, or name the stage for the platform`,
      });
    }
    return out;
  },
};

export const redundantTargetPlatform: Rule = {
  name: 'RedundantTargetPlatform',
  run({ df }) {
    const out: Report[] = [];
    for (const stage of df.stages) {
      const p = stage.from.platform ?? flagValue(stage.from.flags, 'platform');
      if (p !== undefined && /^\$(?:TARGETPLATFORM|\{TARGETPLATFORM\})$/.test(p)) {
        out.push({
          line: lineOf(stage.from),
          message:
            'Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior: remove --platform',
        });
      }
    }
    return out;
  },
};

const SECRET_RE =
  /(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)/i;
const PUBLIC_RE = /(?:_|^)public(?:_|$)/i;

export const secretsUsedInArgOrEnv: Rule = {
  name: 'SecretsUsedInArgOrEnv',
  run({ df }) {
    const out: Report[] = [];
    for (const { instr } of instructions(df)) {
      if (instr.kind !== 'ARG' && instr.kind !== 'ENV') continue;
      for (const name of definedBy(instr)) {
        if (!SECRET_RE.test(name) || PUBLIC_RE.test(name)) continue;
        out.push({
          line: lineOf(instr),
          message: `Do not use ARG or ENV instructions for sensitive data (${instr.kind} "${name}"): the value stays in the image; pass it with a secret mount (RUN --mount=type=secret,id=...) instead`,
        });
      }
    }
    return out;
  },
};

export function variableRules(): Rule[] {
  return [
    undefinedVar,
    undefinedArgInFrom,
    invalidDefaultArgInFrom,
    fromPlatformFlagConstDisallowed,
    redundantTargetPlatform,
    secretsUsedInArgOrEnv,
  ];
}
