// The Dockerfile parser: directives, comments, line continuations (with either escape
// character), heredocs, flags, and the typed instructions of types.ts. Pure: text in, AST out.
// Errors name the line (DockerfileSyntaxError). Variables are left for expand.ts.
import { DockerfileSyntaxError } from './errors.ts';
import type {
  CommandLine,
  Directives,
  Dockerfile,
  Flag,
  Heredoc,
  Instruction,
  KeyValue,
  ParseWarning,
  Range,
  Stage,
} from './types.ts';
import { getOwn } from '../../base/own.ts';

type Esc = '\\' | '`';

const FLAGS: Record<string, readonly string[]> = {
  FROM: ['platform'],
  RUN: ['mount', 'network', 'security', 'device'],
  COPY: ['from', 'chown', 'chmod', 'link', 'parents', 'exclude'],
  ADD: ['chown', 'chmod', 'link', 'checksum', 'keep-git-dir', 'exclude', 'unpack'],
  HEALTHCHECK: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
};

const KEYWORDS = [
  'FROM',
  'RUN',
  'CMD',
  'ENTRYPOINT',
  'SHELL',
  'ENV',
  'LABEL',
  'ARG',
  'MAINTAINER',
  'EXPOSE',
  'COPY',
  'ADD',
  'VOLUME',
  'USER',
  'WORKDIR',
  'ONBUILD',
  'STOPSIGNAL',
  'HEALTHCHECK',
];

/** A logical line: one instruction with its continuation lines joined and its heredocs. */
interface LogicalLine {
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly endColumn: number;
  readonly heredocs: Heredoc[];
}

function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)] as number[]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(
        d[i - 1]![j]! + 1,
        d[i]![j - 1]! + 1,
        d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
  return d[a.length]![b.length]!;
}

function suggestion(word: string): string {
  const up = word.toUpperCase();
  const best = KEYWORDS.map((k) => [k, levenshtein(up, k)] as const).sort((a, b) => a[1] - b[1])[0]!;
  return best[1] <= 2 ? ` (did you mean ${best[0]}?)` : '';
}

/** Parses `# key=value` directives at the very top. */
function parseDirectives(lines: string[]): { directives: Directives; consumed: number } {
  const found: Record<string, string> = {};
  let i = 0;
  for (; i < lines.length; i++) {
    const m = /^\s*#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$/.exec(lines[i]!);
    if (!m) break;
    const key = m[1]!.toLowerCase();
    if (!['syntax', 'escape', 'check'].includes(key)) break;
    if (found[key] !== undefined)
      throw new DockerfileSyntaxError(i + 1, `only one ${key} parser directive can be used`);
    found[key] = m[2]!;
  }
  const esc = found.escape ?? '\\';
  if (esc !== '\\' && esc !== '`') {
    throw new DockerfileSyntaxError(1, `invalid escape token '${esc}' does not match ` + '` or \\');
  }
  return {
    directives: {
      escape: esc,
      ...(found.syntax !== undefined ? { syntax: found.syntax } : {}),
      ...(found.check !== undefined ? { check: found.check } : {}),
    },
    consumed: i,
  };
}

const HEREDOC = /<<(-?)[ \t]*(["']?)([A-Za-z_][A-Za-z0-9_.-]*)\2/g;

/** Heredoc markers outside quotes in an instruction's text (RUN, COPY, ADD only). */
function heredocMarkers(text: string): { name: string; stripTabs: boolean; expand: boolean }[] {
  const out: { name: string; stripTabs: boolean; expand: boolean }[] = [];
  // Quoted spans (`echo "<<x"` is no heredoc), except a quoted delimiter right after `<<`.
  const spans: [number, number][] = [];
  for (const m of text.matchAll(/'[^']*'|"(?:\\.|[^"\\])*"/g)) {
    if (/<<-?[ \t]*$/.test(text.slice(0, m.index))) continue;
    spans.push([m.index!, m.index! + m[0].length]);
  }
  for (const m of text.matchAll(HEREDOC)) {
    if (spans.some(([a, b]) => m.index! >= a && m.index! < b)) continue;
    out.push({ name: m[3]!, stripTabs: m[1] === '-', expand: m[2] === '' });
  }
  return out;
}

function splitLogicalLines(
  lines: string[],
  first: number,
  esc: Esc,
  warnings: ParseWarning[],
): LogicalLine[] {
  const out: LogicalLine[] = [];
  let i = first;
  const contRe = esc === '\\' ? /\\[ \t]*$/ : /`[ \t]*$/;
  while (i < lines.length) {
    const line = lines[i]!;
    if (/^\s*$/.test(line) || /^\s*#/.test(line)) {
      i++;
      continue;
    }
    const start = i + 1;
    let text = '';
    let cur = line.replace(/^\s+/, '');
    let sawEmpty = false;
    while (contRe.test(cur)) {
      text += cur.replace(contRe, '');
      i++;
      // Comment lines inside a continuation are dropped; empty lines too (with a warning).
      while (i < lines.length && (/^\s*#/.test(lines[i]!) || /^\s*$/.test(lines[i]!))) {
        if (/^\s*$/.test(lines[i]!)) sawEmpty = true;
        i++;
      }
      if (i >= lines.length) {
        cur = '';
        break;
      }
      cur = lines[i]!;
    }
    text += cur;
    const end = i + 1;
    if (sawEmpty) {
      warnings.push({
        rule: 'NoEmptyContinuation',
        message:
          'Empty continuation line found in the instruction starting here: remove the empty line or the escape before it',
        range: { start: { line: start, column: 1 }, end: { line: end, column: 1 } },
      });
    }
    i++;
    const keyword = /^\s*(\S+)/.exec(text)?.[1]?.toUpperCase() ?? '';
    const heredocs: Heredoc[] = [];
    if (['RUN', 'COPY', 'ADD'].includes(keyword)) {
      for (const mk of heredocMarkers(text)) {
        const body: string[] = [];
        let closed = false;
        while (i < lines.length) {
          const l = lines[i++]!;
          const cmp = mk.stripTabs ? l.replace(/^\t+/, '') : l;
          if (cmp === mk.name) {
            closed = true;
            break;
          }
          body.push(mk.stripTabs ? l.replace(/^\t+/, '') : l);
        }
        if (!closed) {
          throw new DockerfileSyntaxError(
            start,
            `unterminated heredoc: no line "${mk.name}" ends the heredoc started here`,
          );
        }
        heredocs.push({
          name: mk.name,
          content: body.length > 0 ? `${body.join('\n')}\n` : '',
          expand: mk.expand,
          stripTabs: mk.stripTabs,
        });
      }
    }
    const lastLine = i; // heredocs may have moved i
    out.push({
      text: text.trim(),
      start,
      end: Math.max(end, lastLine),
      endColumn: (lines[Math.max(end, lastLine) - 1] ?? '').length + 1,
      heredocs,
    });
  }
  return out;
}

/** Splits on whitespace outside quotes, keeping the quotes (expand.ts removes them). */
function words(s: string, esc: Esc): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      cur += c;
      if (c === esc && quote === '"' && i + 1 < s.length) cur += s[++i];
      else if (c === quote) quote = undefined;
      continue;
    }
    if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    inWord = true;
    cur += c;
    if (c === esc && i + 1 < s.length) cur += s[++i];
    else if (c === '"' || c === "'") quote = c;
  }
  if (inWord) out.push(cur);
  return out;
}

function jsonArray(rest: string): string[] | undefined {
  if (!rest.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(rest) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    /* not JSON: shell form */
  }
  return undefined;
}

function command(rest: string): CommandLine {
  const json = jsonArray(rest);
  return json ? { form: 'exec', args: json } : { form: 'shell', text: rest };
}

function pairs(kind: string, rest: string, esc: Esc, line: number): { pairs: KeyValue[]; legacy: boolean } {
  const ws = words(rest, esc);
  if (ws.length === 0) throw new DockerfileSyntaxError(line, `${kind} requires at least one argument`);
  if (!ws[0]!.includes('=')) {
    // Legacy `ENV key value with spaces`: the key, then everything after the first blank.
    const m = /^(\S+)\s+([\s\S]*)$/.exec(rest);
    if (!m || m[2]!.trim() === '')
      throw new DockerfileSyntaxError(
        line,
        `${kind} must have two arguments: ${kind} key value (or ${kind} key=value)`,
      );
    return { pairs: [{ key: m[1]!, value: m[2]!.trim() }], legacy: true };
  }
  return {
    pairs: ws.map((w) => {
      const eq = w.indexOf('=');
      if (eq <= 0)
        throw new DockerfileSyntaxError(
          line,
          `${kind} names can not be blank and every pair needs key=value: "${w}"`,
        );
      return { key: w.slice(0, eq), value: w.slice(eq + 1) };
    }),
    legacy: false,
  };
}

function parseFlags(kind: string, rest: string, line: number): { flags: Flag[]; rest: string } {
  const flags: Flag[] = [];
  let r = rest;
  for (;;) {
    const m = /^--([A-Za-z][A-Za-z0-9-]*)(?:=("(?:\\.|[^"\\])*"|\S*))?(?:\s+|$)/.exec(r);
    if (!m) break;
    const allowed = getOwn(FLAGS, kind) ?? [];
    if (!allowed.includes(m[1]!)) {
      throw new DockerfileSyntaxError(
        line,
        `unknown flag: --${m[1]} for ${kind}${allowed.length ? ` (it takes ${allowed.map((f) => `--${f}`).join(', ')})` : ' (it takes no flags)'}`,
      );
    }
    let value = m[2];
    if (value?.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    flags.push({ name: m[1]!, ...(value !== undefined ? { value } : {}) });
    r = r.slice(m[0].length);
  }
  return { flags, rest: r.trim() };
}

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

function toInstruction(ll: LogicalLine, esc: Esc): Instruction {
  const line = ll.start;
  const m = /^(\S+)\s*([\s\S]*)$/.exec(ll.text)!;
  const kw = m[1]!;
  const kind = kw.toUpperCase();
  if (!KEYWORDS.includes(kind))
    throw new DockerfileSyntaxError(line, `unknown instruction: ${kw}${suggestion(kw)}`);
  const { flags, rest } = parseFlags(kind, m[2]!, line);
  const range: Range = { start: { line, column: 1 }, end: { line: ll.end, column: ll.endColumn } };
  const base = { range, original: ll.text, flags, heredocs: ll.heredocs };
  const need = (what: string) => {
    if (rest === '') throw new DockerfileSyntaxError(line, `${kind} requires ${what}`);
  };
  switch (kind) {
    case 'FROM': {
      const ws = words(rest, esc);
      if (ws.length !== 1 && !(ws.length === 3 && ws[1]!.toUpperCase() === 'AS')) {
        throw new DockerfileSyntaxError(
          line,
          'FROM requires either one argument, or three: FROM <image> [AS <name>]',
        );
      }
      let alias: string | undefined;
      if (ws.length === 3) {
        alias = ws[2]!.toLowerCase();
        if (!STAGE_NAME.test(alias)) {
          throw new DockerfileSyntaxError(
            line,
            `invalid name for build stage: "${ws[2]}", name can't start with a number or contain symbols`,
          );
        }
      }
      const platform = flags.find((f) => f.name === 'platform')?.value;
      return { ...base, kind, image: ws[0]!, ...(alias ? { alias } : {}), ...(platform ? { platform } : {}) };
    }
    case 'RUN':
    case 'CMD':
    case 'ENTRYPOINT':
      need('at least one argument');
      return { ...base, kind, command: command(rest) };
    case 'SHELL': {
      const json = jsonArray(rest);
      if (!json)
        throw new DockerfileSyntaxError(
          line,
          'SHELL requires the arguments to be in JSON form, e.g. SHELL ["/bin/bash", "-c"]',
        );
      return { ...base, kind, shell: json };
    }
    case 'ENV':
    case 'LABEL':
      return { ...base, kind, ...pairs(kind, rest, esc, line) };
    case 'ARG': {
      need('at least one argument');
      const args = words(rest, esc).map((w) => {
        const eq = w.indexOf('=');
        const name = eq === -1 ? w : w.slice(0, eq);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
          throw new DockerfileSyntaxError(line, `invalid ARG name "${name}"`);
        return eq === -1 ? { name } : { name, default: w.slice(eq + 1) };
      });
      return { ...base, kind, args };
    }
    case 'MAINTAINER':
      need('exactly one argument');
      return { ...base, kind, name: rest };
    case 'EXPOSE':
      need('at least one argument');
      return { ...base, kind, ports: words(rest, esc) };
    case 'COPY':
    case 'ADD': {
      const json = jsonArray(rest);
      const ws = json ?? words(rest, esc);
      if (ws.length < 2)
        throw new DockerfileSyntaxError(
          line,
          `${kind} requires at least two arguments, but only one was provided. Destination could not be determined.`,
        );
      return { ...base, kind, sources: ws.slice(0, -1), dest: ws.at(-1)! };
    }
    case 'VOLUME': {
      need('at least one argument');
      const json = jsonArray(rest);
      return { ...base, kind, paths: json ?? words(rest, esc) };
    }
    case 'USER':
      need('exactly one argument');
      return { ...base, kind, user: rest };
    case 'WORKDIR':
      need('exactly one argument');
      return { ...base, kind, path: rest };
    case 'STOPSIGNAL':
      need('exactly one argument');
      return { ...base, kind, signal: rest };
    case 'ONBUILD': {
      need('at least one argument');
      const trigger = /^\S+/.exec(rest)![0].toUpperCase();
      if (['ONBUILD', 'FROM', 'MAINTAINER'].includes(trigger)) {
        throw new DockerfileSyntaxError(line, `${trigger} isn't allowed as an ONBUILD trigger`);
      }
      toInstruction({ ...ll, text: rest, heredocs: [] }, esc); // validates the trigger now
      return { ...base, kind, trigger: rest };
    }
    case 'HEALTHCHECK': {
      need('at least one argument');
      const hm = /^(\S+)\s*([\s\S]*)$/.exec(rest)!;
      const typ = hm[1]!.toUpperCase();
      if (typ === 'NONE') {
        if (hm[2] !== '' || flags.length > 0)
          throw new DockerfileSyntaxError(line, 'HEALTHCHECK NONE takes no other arguments');
        return { ...base, kind };
      }
      if (typ !== 'CMD')
        throw new DockerfileSyntaxError(line, `unknown type "${hm[1]}" in HEALTHCHECK (try CMD)`);
      if (hm[2] === '') throw new DockerfileSyntaxError(line, 'HEALTHCHECK CMD requires a command');
      return { ...base, kind, command: command(hm[2]!) };
    }
  }
  throw new DockerfileSyntaxError(line, `unknown instruction: ${kw}`);
}

/** One instruction from its text (e.g. an ONBUILD trigger run in a child build). */
export function parseInstruction(text: string, esc: Esc = '\\'): Instruction {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const lls = splitLogicalLines(lines, 0, esc, []);
  if (lls.length !== 1)
    throw new DockerfileSyntaxError(1, `expected one instruction, got ${lls.length}: ${text}`);
  return toInstruction(lls[0]!, esc);
}

export function parseDockerfile(text: string): Dockerfile {
  const lines = text
    .replace(/^\uFEFF/, '')
    .replace(/\r\n?/g, '\n')
    .split('\n');
  const { directives, consumed } = parseDirectives(lines);
  const warnings: ParseWarning[] = [];
  const lls = splitLogicalLines(lines, consumed, directives.escape, warnings);
  if (lls.length === 0)
    throw new DockerfileSyntaxError(1, 'the Dockerfile is empty: it needs at least a FROM instruction');
  const metaArgs: Extract<Instruction, { kind: 'ARG' }>[] = [];
  const stages: Stage[] = [];
  let current: { from: Extract<Instruction, { kind: 'FROM' }>; instructions: Instruction[] } | undefined;
  const names = new Map<string, number>();
  const close = () => {
    if (!current) return;
    const index = stages.length;
    stages.push({
      index,
      from: current.from,
      ...(current.from.alias ? { name: current.from.alias } : {}),
      instructions: current.instructions,
    });
  };
  for (const ll of lls) {
    const instr = toInstruction(ll, directives.escape);
    if (instr.kind === 'FROM') {
      close();
      if (instr.alias) {
        const prev = names.get(instr.alias);
        if (prev !== undefined) {
          throw new DockerfileSyntaxError(
            instr.range.start.line,
            `duplicate stage name "${instr.alias}" (first defined on line ${prev}): give each stage its own name`,
          );
        }
        names.set(instr.alias, instr.range.start.line);
      }
      current = { from: instr, instructions: [] };
    } else if (!current) {
      if (instr.kind !== 'ARG') {
        throw new DockerfileSyntaxError(
          instr.range.start.line,
          `${instr.kind} cannot come before the first FROM (only ARG can): start the stage with FROM <image>`,
        );
      }
      metaArgs.push(instr);
    } else current.instructions.push(instr);
  }
  close();
  if (stages.length === 0)
    throw new DockerfileSyntaxError(lls.at(-1)!.start, 'no build stage in the Dockerfile: add FROM <image>');
  return { directives, metaArgs, stages, warnings };
}
