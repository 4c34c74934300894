// Docker's build-check rules about how a Dockerfile is written: casing, stage names, instruction
// forms. Names and messages follow Docker's build checks reference; each message ends with what
// to do.
import path from 'node:path';
import type { Instruction } from '../dockerfile/types.ts';
import { aliasAsWritten, flagValue, instructions, keywordOf, lineOf, stageChain } from './ast.ts';
import { rawDirectives } from './directive.ts';
import type { Report, Rule } from './types.ts';

const isLower = (s: string) => s === s.toLowerCase();
const isUpper = (s: string) => s === s.toUpperCase();

export const consistentInstructionCasing: Rule = {
  name: 'ConsistentInstructionCasing',
  run({ df }) {
    const all = [...instructions(df)].map(({ instr }) => instr);
    let lower = 0;
    let upper = 0;
    for (const i of all) {
      const k = keywordOf(i);
      if (isLower(k)) lower++;
      else if (isUpper(k)) upper++;
    }
    const majorityLower = lower > upper;
    const out: Report[] = [];
    for (const i of all) {
      const k = keywordOf(i);
      const wrong = majorityLower ? !isLower(k) : !isUpper(k);
      if (!wrong) continue;
      const casing = majorityLower ? 'lowercase' : 'uppercase';
      out.push({
        line: lineOf(i),
        message: `Command '${k}' should match the case of the command majority (${casing}): write it ${majorityLower ? k.toLowerCase() : k.toUpperCase()}`,
      });
    }
    return out;
  },
};

export const fromAsCasing: Rule = {
  name: 'FromAsCasing',
  run({ df }) {
    const out: Report[] = [];
    for (const stage of df.stages) {
      const from = stage.from;
      if (from.alias === undefined) continue;
      const words = from.original.trim().split(/\s+/);
      const as = words.at(-2);
      const kw = keywordOf(from);
      if (as?.toLowerCase() !== 'as') continue;
      if ((isUpper(kw) && !isUpper(as)) || (isLower(kw) && !isLower(as))) {
        out.push({
          line: lineOf(from),
          message: `'${as}' and '${kw}' keywords' casing do not match: write '${isUpper(kw) ? 'AS' : 'as'}' to match '${kw}'`,
        });
      }
    }
    return out;
  },
};

export const stageNameCasing: Rule = {
  name: 'StageNameCasing',
  run({ df }) {
    const out: Report[] = [];
    for (const s of df.stages) {
      const name = aliasAsWritten(s.from);
      if (name === undefined || isLower(name)) continue;
      out.push({
        line: lineOf(s.from),
        message: `Stage name '${name}' should be lowercase: name it '${name.toLowerCase()}'`,
      });
    }
    return out;
  },
};

const RESERVED_STAGE_NAMES = new Set(['context', 'scratch']);

export const reservedStageName: Rule = {
  name: 'ReservedStageName',
  run({ df }) {
    return df.stages
      .filter((s) => s.name !== undefined && RESERVED_STAGE_NAMES.has(s.name))
      .map((s) => ({
        line: lineOf(s.from),
        message: `'${s.name}' is reserved and should not be used as a stage name: choose another name`,
      }));
  },
};

export const jsonArgsRecommended: Rule = {
  name: 'JSONArgsRecommended',
  run({ df }) {
    const out: Report[] = [];
    for (const stage of df.stages) {
      // An explicit SHELL (here or in a stage this one builds on) makes the shell form a choice.
      let shellSet = stageChain(df, stage)
        .slice(0, -1)
        .some((s) => s.instructions.some((i) => i.kind === 'SHELL'));
      for (const i of stage.instructions) {
        if (i.kind === 'SHELL') shellSet = true;
        if ((i.kind === 'CMD' || i.kind === 'ENTRYPOINT') && i.command.form === 'shell' && !shellSet) {
          out.push({
            line: lineOf(i),
            message: `JSON arguments recommended for ${i.kind} to prevent unintended behavior related to OS signals: write ${i.kind} ["program", "arg"...] (or set SHELL if a shell is intended)`,
          });
        }
      }
    }
    return out;
  },
};

export const maintainerDeprecated: Rule = {
  name: 'MaintainerDeprecated',
  run({ df }) {
    return [...instructions(df)]
      .filter(({ instr }) => instr.kind === 'MAINTAINER')
      .map(({ instr }) => ({
        line: lineOf(instr),
        message: `MAINTAINER instruction is deprecated in favor of using label: write LABEL org.opencontainers.image.authors="${instr.kind === 'MAINTAINER' ? instr.name.replaceAll('"', '\\"') : ''}"`,
      }));
  },
};

export const multipleInstructionsDisallowed: Rule = {
  name: 'MultipleInstructionsDisallowed',
  run({ df }) {
    const out: Report[] = [];
    for (const stage of df.stages) {
      for (const kind of ['CMD', 'ENTRYPOINT', 'HEALTHCHECK'] as const) {
        const found = stage.instructions.filter((i) => i.kind === kind);
        // Every one but the last is dead: report those.
        for (const i of found.slice(0, -1)) {
          out.push({
            line: lineOf(i),
            message: `Multiple ${kind} instructions should not be used in the same stage because only the last one will be used: remove this one (line ${lineOf(found.at(-1)!)} wins)`,
          });
        }
      }
    }
    return out;
  },
};

export const legacyKeyValueFormat: Rule = {
  name: 'LegacyKeyValueFormat',
  run({ df }) {
    const out: Report[] = [];
    for (const { instr } of instructions(df)) {
      if ((instr.kind === 'ENV' || instr.kind === 'LABEL') && instr.legacy) {
        const k = instr.kind;
        const key = instr.pairs[0]?.key ?? 'key';
        out.push({
          line: lineOf(instr),
          message: `"${k} key=value" should be used instead of legacy "${k} key value" format: write ${k} ${key}="..."`,
        });
      }
    }
    return out;
  },
};

export const exposeInvalidFormat: Rule = {
  name: 'ExposeInvalidFormat',
  run({ df }) {
    const out: Report[] = [];
    for (const { instr } of instructions(df)) {
      if (instr.kind !== 'EXPOSE') continue;
      for (const p of instr.ports) {
        if (p.includes('$') || !p.includes(':')) continue;
        const port = p.split(':').at(-1);
        out.push({
          line: lineOf(instr),
          message: `EXPOSE instruction should not define an IP address or host-port mapping, found '${p}': expose only the container port (EXPOSE ${port}) and publish it with docker run -p`,
        });
      }
    }
    return out;
  },
};

export const exposeProtoCasing: Rule = {
  name: 'ExposeProtoCasing',
  run({ df }) {
    const out: Report[] = [];
    for (const { instr } of instructions(df)) {
      if (instr.kind !== 'EXPOSE') continue;
      for (const p of instr.ports) {
        const slash = p.indexOf('/');
        if (slash === -1 || p.includes('$')) continue;
        const proto = p.slice(slash + 1);
        if (!isLower(proto)) {
          out.push({
            line: lineOf(instr),
            message: `Defined protocol '${p}' in EXPOSE instruction should be lowercase: write ${p.slice(0, slash)}/${proto.toLowerCase()}`,
          });
        }
      }
    }
    return out;
  },
};

export const workdirRelativePath: Rule = {
  name: 'WorkdirRelativePath',
  run({ df }) {
    const out: Report[] = [];
    for (const stage of df.stages) {
      // A WORKDIR in a stage this one builds on fixes the base the relative path starts from.
      let set = stageChain(df, stage)
        .slice(0, -1)
        .some((s) => s.instructions.some((i) => i.kind === 'WORKDIR'));
      for (const i of stage.instructions) {
        if (i.kind !== 'WORKDIR') continue;
        const p = i.path;
        // `$VAR/...` may well be absolute; only literal relative paths are reported.
        if (!set && !p.startsWith('/') && !p.startsWith('$') && !/^[A-Za-z]:[\\/]/.test(p)) {
          out.push({
            line: lineOf(i),
            message: `Relative workdir '${p}' can have unexpected results if the base image changes: use an absolute path (WORKDIR /${p.replace(/^\.\//, '')}) or set an absolute WORKDIR first`,
          });
        }
        set = true;
      }
    }
    return out;
  },
};

export const noEmptyContinuation: Rule = {
  name: 'NoEmptyContinuation',
  run({ df }) {
    const all = [...instructions(df)].map(({ instr }) => instr);
    const containing = (line: number): Instruction | undefined =>
      all.find((i) => i.range.start.line <= line && line <= i.range.end.line);
    return df.warnings
      .filter((w) => w.rule === 'NoEmptyContinuation' || w.rule === 'NoEmptyContinuations')
      .map((w) => {
        const instr = containing(w.range.start.line);
        const what = instr ? instr.original.replace(/\s+/g, ' ').trim() : w.message;
        return {
          line: w.range.start.line,
          message: `Empty continuation line found in: ${what}: remove the empty line or put a comment on it (this will become an error)`,
        };
      });
  },
};

export const copyIgnoredFile: Rule = {
  name: 'CopyIgnoredFile',
  run({ df, opts }) {
    const ignored = opts.ignoredPaths;
    if (!ignored) return [];
    const out: Report[] = [];
    for (const { instr } of instructions(df)) {
      if (instr.kind !== 'COPY' && instr.kind !== 'ADD') continue;
      if (flagValue(instr.flags, 'from') !== undefined) continue;
      for (const src of instr.sources) {
        // Heredocs, URLs, variables and wildcards name nothing fixed in the context.
        if (src.startsWith('<<') || /^[a-z][a-z0-9+.-]*:\/\//i.test(src) || src.startsWith('git@')) continue;
        if (/[$*?[]/.test(src)) continue;
        const rel = path.posix.normalize(src.replace(/^\/+/, '')).replace(/^(\.\/)+/, '');
        if (rel === '.' || rel === '' || rel.startsWith('../')) continue;
        if (ignored(rel.replace(/\/+$/, ''))) {
          const verb = instr.kind === 'COPY' ? 'Copy' : 'Add';
          out.push({
            line: lineOf(instr),
            message: `Attempting to ${verb} file "${src}" that is excluded by .dockerignore: the build will not find it; remove it from .dockerignore (or add !${rel}) or stop copying it`,
          });
        }
      }
    }
    return out;
  },
};

export const invalidDefinitionDescription: Rule = {
  name: 'InvalidDefinitionDescription',
  experimental: true,
  run({ df, lines }) {
    const directiveLines = new Set(rawDirectives(lines).map((d) => d.line));
    // The comment line right above an instruction is its description (as `--call=outline` reads it).
    const commentAbove = (line: number): string | undefined => {
      const l = line - 1;
      if (l < 1 || directiveLines.has(l)) return undefined;
      const m = /^\s*#\s?(.*)$/.exec(lines[l - 1] ?? '');
      return m?.[1];
    };
    const out: Report[] = [];
    const check = (what: string, names: string[], instr: Instruction) => {
      const c = commentAbove(lineOf(instr));
      if (c === undefined || names.includes(c.split(' ')[0]!)) return;
      const example = what === 'ARG' && names.length > 1 ? '<arg_key>' : names[0]!;
      out.push({
        line: lineOf(instr),
        message: `Comment for ${what} should follow the format: \`# ${example} <description>\`; if it is not a description, put an empty line between the comment and the instruction`,
      });
    };
    for (const { instr } of instructions(df)) {
      if (instr.kind === 'FROM' && instr.alias !== undefined) {
        check('build stage', [...new Set([aliasAsWritten(instr)!, instr.alias])], instr);
      }
      if (instr.kind === 'ARG')
        check(
          'ARG',
          instr.args.map((a) => a.name),
          instr,
        );
    }
    return out;
  },
};

export function styleRules(): Rule[] {
  return [
    consistentInstructionCasing,
    fromAsCasing,
    stageNameCasing,
    reservedStageName,
    jsonArgsRecommended,
    maintainerDeprecated,
    multipleInstructionsDisallowed,
    legacyKeyValueFormat,
    exposeInvalidFormat,
    exposeProtoCasing,
    workdirRelativePath,
    noEmptyContinuation,
    copyIgnoredFile,
    invalidDefinitionDescription,
  ];
}
