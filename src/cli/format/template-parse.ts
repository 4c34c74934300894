// Parser for the subset of Go's text/template that docker users write in --format:
// text, {{actions}} with trim markers and comments, pipelines, field chains, variables,
// if / else if / else, range (with $i, $v :=), with, literals and parenthesised pipelines.
import { InvalidArgumentError } from '../../errdefs/index.ts';

export type Operand =
  | { kind: 'field'; base: 'dot'; path: string[] }
  | { kind: 'var'; name: string; path: string[] }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'nil' }
  | { kind: 'ident'; name: string }
  | { kind: 'pipe'; pipe: Pipeline; path: string[] };

export interface Command {
  readonly args: Operand[];
}

export interface Pipeline {
  readonly decl: string[];
  /** `:=` declares, `=` assigns. */
  readonly assign: boolean;
  readonly cmds: Command[];
}

export type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline }
  | { kind: 'if' | 'with'; pipe: Pipeline; body: Node[]; else: Node[] }
  | { kind: 'range'; pipe: Pipeline; body: Node[]; else: Node[] };

function parseError(msg: string, line = 1): never {
  throw new InvalidArgumentError('INVALID_TEMPLATE', `template parsing error: template: :${line}: ${msg}`);
}

type Tok =
  | { t: 'field'; path: string[] }
  | { t: 'var'; name: string; path: string[] }
  | { t: 'string'; v: string }
  | { t: 'number'; v: number }
  | { t: 'ident'; v: string }
  | { t: 'pipe' | 'lparen' | 'rparen' | 'declare' | 'assign' | 'comma' }
  | { t: 'rparen-field'; path: string[] };

function lexAction(src: string, line: number): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const fieldPath = (): string[] => {
    const path: string[] = [];
    while (src[i] === '.' && /[A-Za-z_]/.test(src[i + 1] ?? '')) {
      i++;
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      path.push(m[0]);
      i += m[0].length;
    }
    return path;
  };
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '|') {
      toks.push({ t: 'pipe' });
      i++;
    } else if (c === '(') {
      toks.push({ t: 'lparen' });
      i++;
    } else if (c === ')') {
      i++;
      const path = fieldPath();
      toks.push(path.length > 0 ? { t: 'rparen-field', path } : { t: 'rparen' });
    } else if (c === ',') {
      toks.push({ t: 'comma' });
      i++;
    } else if (c === ':' && src[i + 1] === '=') {
      toks.push({ t: 'declare' });
      i += 2;
    } else if (c === '=') {
      toks.push({ t: 'assign' });
      i++;
    } else if (c === '.') {
      if (/[A-Za-z_]/.test(src[i + 1] ?? '')) toks.push({ t: 'field', path: fieldPath() });
      else {
        toks.push({ t: 'field', path: [] });
        i++;
      }
    } else if (c === '$') {
      const m = /^\$[A-Za-z0-9_]*/.exec(src.slice(i))!;
      i += m[0].length;
      toks.push({ t: 'var', name: m[0], path: fieldPath() });
    } else if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      if (j >= src.length) parseError('unterminated quoted string', line);
      try {
        toks.push({ t: 'string', v: JSON.parse(src.slice(i, j + 1)) as string });
      } catch {
        parseError(`bad string syntax: ${src.slice(i, j + 1)}`, line);
      }
      i = j + 1;
    } else if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j === -1) parseError('unterminated raw quoted string', line);
      toks.push({ t: 'string', v: src.slice(i + 1, j) });
      i = j + 1;
    } else if (/[-+0-9]/.test(c)) {
      const m = /^[-+]?(0x[0-9a-fA-F]+|\d+(\.\d+)?([eE][-+]?\d+)?)/.exec(src.slice(i));
      if (!m) parseError(`bad number syntax: ${src.slice(i, i + 10)}`, line);
      toks.push({ t: 'number', v: Number(m[0]) });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      toks.push({ t: 'ident', v: m[0] });
      i += m[0].length;
    } else {
      parseError(`unexpected "${c}" in command`, line);
    }
  }
  return toks;
}

class PipeParser {
  #i = 0;
  constructor(
    private readonly toks: Tok[],
    private readonly line: number,
  ) {}

  done(): boolean {
    return this.#i >= this.toks.length;
  }

  pipeline(allowDecl: boolean, allowTwoVars = false): Pipeline {
    const decl: string[] = [];
    let assign = false;
    if (allowDecl) {
      // `$x :=`, `$i, $v :=` or `$x =`
      const save = this.#i;
      const names: string[] = [];
      while (this.toks[this.#i]?.t === 'var') {
        names.push((this.toks[this.#i] as { name: string }).name);
        this.#i++;
        if (this.toks[this.#i]?.t === 'comma' && allowTwoVars && names.length === 1) this.#i++;
        else break;
      }
      const op = this.toks[this.#i]?.t;
      if (names.length > 0 && (op === 'declare' || op === 'assign')) {
        decl.push(...names);
        assign = op === 'assign';
        this.#i++;
      } else this.#i = save;
    }
    const cmds: Command[] = [];
    for (;;) {
      const args: Operand[] = [];
      while (!this.done()) {
        const t = this.toks[this.#i]!;
        if (t.t === 'pipe' || t.t === 'rparen' || t.t === 'rparen-field') break;
        args.push(this.operand());
      }
      if (args.length === 0)
        parseError(cmds.length === 0 ? 'missing value for command' : 'missing command after |', this.line);
      cmds.push({ args });
      if (this.toks[this.#i]?.t === 'pipe') {
        this.#i++;
        continue;
      }
      break;
    }
    return { decl, assign, cmds };
  }

  operand(): Operand {
    const t = this.toks[this.#i++]!;
    switch (t.t) {
      case 'field':
        return { kind: 'field', base: 'dot', path: t.path };
      case 'var':
        return { kind: 'var', name: t.name, path: t.path };
      case 'string':
        return { kind: 'string', value: t.v };
      case 'number':
        return { kind: 'number', value: t.v };
      case 'ident':
        if (t.v === 'true' || t.v === 'false') return { kind: 'bool', value: t.v === 'true' };
        if (t.v === 'nil') return { kind: 'nil' };
        return { kind: 'ident', name: t.v };
      case 'lparen': {
        const pipe = this.pipeline(true);
        const close = this.toks[this.#i++];
        if (close?.t === 'rparen') return { kind: 'pipe', pipe, path: [] };
        if (close?.t === 'rparen-field') return { kind: 'pipe', pipe, path: close.path };
        return parseError('unclosed left paren', this.line);
      }
      default:
        return parseError(`unexpected ${t.t} in operand`, this.line);
    }
  }
}

interface RawAction {
  kind: 'action';
  src: string;
  line: number;
}

/** Splits the template into text and action sources, applying `{{-` / `-}}` trimming. */
function scan(source: string): (string | RawAction)[] {
  const parts: (string | RawAction)[] = [];
  let i = 0;
  let line = 1;
  while (i < source.length) {
    const open = source.indexOf('{{', i);
    if (open === -1) {
      parts.push(source.slice(i));
      break;
    }
    let text = source.slice(i, open);
    let start = open + 2;
    if (source[start] === '-' && /\s/.test(source[start + 1] ?? '')) {
      text = text.replace(/\s+$/, '');
      start += 1;
    }
    if (text) parts.push(text);
    line += (source.slice(i, open).match(/\n/g) ?? []).length;
    // Find the closing braces, skipping string literals and comments.
    let j = start;
    let close = -1;
    while (j < source.length) {
      const c = source[j];
      if (c === '"') {
        j++;
        while (j < source.length && source[j] !== '"') j += source[j] === '\\' ? 2 : 1;
        j++;
      } else if (c === '`') {
        j = source.indexOf('`', j + 1);
        if (j === -1) break;
        j++;
      } else if (source.startsWith('/*', j)) {
        const end = source.indexOf('*/', j + 2);
        if (end === -1) parseError('unclosed comment', line);
        j = end + 2;
      } else if (source.startsWith('}}', j)) {
        close = j;
        break;
      } else j++;
    }
    if (close === -1) parseError('unclosed action', line);
    let inner = source.slice(start, close);
    let next = close + 2;
    if (/\s-$/.test(inner)) {
      inner = inner.slice(0, -1);
      const m = /^\s*/.exec(source.slice(next))!;
      next += m[0].length;
    }
    parts.push({ kind: 'action', src: inner, line });
    line += (source.slice(open, next).match(/\n/g) ?? []).length;
    i = next;
  }
  return parts;
}

export function parseTemplate(source: string): Node[] {
  const parts = scan(source);
  let pos = 0;

  const parseList = (terminators: string[]): { nodes: Node[]; end: string; endPipe?: RawAction } => {
    const nodes: Node[] = [];
    while (pos < parts.length) {
      const p = parts[pos++]!;
      if (typeof p === 'string') {
        nodes.push({ kind: 'text', text: p });
        continue;
      }
      const src = p.src.trim();
      if (src.startsWith('/*')) {
        if (!src.endsWith('*/')) parseError('comment ends before closing delimiter', p.line);
        continue;
      }
      const word = /^[a-z]+/.exec(src)?.[0] ?? '';
      if (word === 'end' || word === 'else') {
        if (!terminators.includes(word)) parseError(`unexpected {{${word}}}`, p.line);
        return { nodes, end: word, endPipe: p };
      }
      if (word === 'if' || word === 'with' || word === 'range') {
        nodes.push(parseControl(word, src.slice(word.length), p.line));
        continue;
      }
      if (['define', 'template', 'block', 'break', 'continue'].includes(word)) {
        parseError(`{{${word}}} is not supported in --format templates`, p.line);
      }
      const pp = new PipeParser(lexAction(src, p.line), p.line);
      const pipe = pp.pipeline(true);
      if (!pp.done()) parseError('unexpected ")" in operand', p.line);
      nodes.push({ kind: 'action', pipe });
    }
    if (terminators.length > 0) return { nodes, end: '' };
    return { nodes, end: 'eof' };
  };

  /** Parses `if|with|range PIPE` through its {{end}}; `{{else if}}` chains share that {{end}}. */
  function parseControl(word: 'if' | 'with' | 'range', pipeSrc: string, line: number): Node {
    const pp = new PipeParser(lexAction(pipeSrc, line), line);
    const pipe = pp.pipeline(true, word === 'range');
    if (!pp.done()) parseError(`unexpected token in ${word}`, line);
    const body = parseList(['end', 'else']);
    if (body.end === '') parseError('unexpected EOF', line);
    let elseNodes: Node[] = [];
    if (body.end === 'else') {
      const rest = body.endPipe!.src.trim().slice(4).trim();
      if (rest !== '' && (rest.startsWith('if') || rest.startsWith('with')) && word !== 'range') {
        const chained = rest.startsWith('if') ? 'if' : 'with';
        elseNodes = [parseControl(chained, rest.slice(chained.length), body.endPipe!.line)];
      } else {
        if (rest !== '') parseError(`unexpected "${rest}" after else`, body.endPipe!.line);
        const tail = parseList(['end']);
        if (tail.end === '') parseError('unexpected EOF', line);
        elseNodes = tail.nodes;
      }
    }
    return { kind: word, pipe, body: body.nodes, else: elseNodes };
  }

  const top = parseList([]);
  return top.nodes;
}
