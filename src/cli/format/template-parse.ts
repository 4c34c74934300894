// Lexer and parser for Go's text/template language, following text/template/parse's grammar and
// error messages ("template: :1: unclosed action", "function \"x\" not defined", ...).
import { InvalidArgumentError } from '../../errdefs/index.ts';
import { describeRune, goQuote } from './gofmt.ts';

/** A template that failed to parse or execute. `detail` is Go's own message. */
export class TemplateError extends InvalidArgumentError {
  /** The error as Go's text/template words it, without docker's "template parsing error: " prefix. */
  readonly detail: string;
  constructor(code: string, detail: string) {
    super(code, `template parsing error: ${detail}`);
    this.detail = detail;
  }
}

// ---------------------------------------------------------------------------------------------
// AST

export interface FieldNode {
  readonly kind: 'field';
  readonly pos: number;
  readonly idents: readonly string[];
}
export interface VariableNode {
  readonly kind: 'variable';
  readonly pos: number;
  readonly name: string;
  readonly idents: readonly string[];
}
export interface DotNode {
  readonly kind: 'dot';
  readonly pos: number;
}
export interface NilNode {
  readonly kind: 'nil';
  readonly pos: number;
}
export interface BoolNode {
  readonly kind: 'bool';
  readonly pos: number;
  readonly value: boolean;
}
export interface NumberNode {
  readonly kind: 'number';
  readonly pos: number;
  readonly text: string;
  readonly value: number;
  readonly isInt: boolean;
}
export interface StringNode {
  readonly kind: 'string';
  readonly pos: number;
  readonly quoted: string;
  readonly value: string;
}
export interface IdentifierNode {
  readonly kind: 'identifier';
  readonly pos: number;
  readonly name: string;
}
export interface ChainNode {
  readonly kind: 'chain';
  readonly pos: number;
  readonly node: ArgNode;
  readonly fields: readonly string[];
}
export interface PipeNode {
  readonly kind: 'pipe';
  readonly pos: number;
  isAssign: boolean;
  readonly decl: { readonly name: string; readonly pos: number }[];
  readonly cmds: CommandNode[];
}
export type ArgNode =
  | FieldNode
  | VariableNode
  | DotNode
  | NilNode
  | BoolNode
  | NumberNode
  | StringNode
  | IdentifierNode
  | ChainNode
  | PipeNode;
export interface CommandNode {
  readonly kind: 'command';
  readonly pos: number;
  readonly args: ArgNode[];
}
export interface TextNode {
  readonly kind: 'text';
  readonly text: string;
}
export interface ActionNode {
  readonly kind: 'action';
  readonly pos: number;
  readonly pipe: PipeNode;
}
export interface BranchNode {
  readonly kind: 'if' | 'with' | 'range';
  readonly pos: number;
  readonly pipe: PipeNode;
  readonly list: readonly Node[];
  readonly elseList: readonly Node[] | null;
}
export interface TemplateNode {
  readonly kind: 'template';
  readonly pos: number;
  readonly name: string;
  readonly pipe: PipeNode | null;
}
export interface LoopControlNode {
  readonly kind: 'break' | 'continue';
  readonly pos: number;
}
export type Node = TextNode | ActionNode | BranchNode | TemplateNode | LoopControlNode;
type EndOrElse =
  | { readonly kind: 'end'; readonly pos: number }
  | { readonly kind: 'else'; readonly pos: number };

export type AnyNode = Node | ArgNode | CommandNode;

export interface ParsedTemplate {
  readonly source: string;
  readonly root: readonly Node[];
  readonly defs: ReadonlyMap<string, readonly Node[]>;
}

function pipeString(p: PipeNode): string {
  let s = '';
  if (p.decl.length > 0) s = `${p.decl.map((d) => d.name).join(', ')} := `;
  return s + p.cmds.map(commandString).join(' | ');
}

function commandString(c: CommandNode): string {
  return c.args.map((a) => (a.kind === 'pipe' ? `(${pipeString(a)})` : nodeString(a))).join(' ');
}

function listString(list: readonly Node[]): string {
  return list.map(nodeString).join('');
}

/** A node as Go's String() prints it (used in "executing ... at <...>" messages). */
export function nodeString(n: AnyNode | EndOrElse): string {
  switch (n.kind) {
    case 'field':
      return `.${n.idents.join('.')}`;
    case 'variable':
      return [n.name, ...n.idents].join('.');
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'bool':
      return String(n.value);
    case 'number':
      return n.text;
    case 'string':
      return n.quoted;
    case 'identifier':
      return n.name;
    case 'chain': {
      const base = n.node.kind === 'pipe' ? `(${nodeString(n.node)})` : nodeString(n.node);
      return base + n.fields.map((f) => `.${f}`).join('');
    }
    case 'pipe':
      return pipeString(n);
    case 'command':
      return commandString(n);
    case 'text':
      return n.text;
    case 'action':
      return `{{${pipeString(n.pipe)}}}`;
    case 'if':
    case 'with':
    case 'range':
      return `{{${n.kind} ${pipeString(n.pipe)}}}${listString(n.list)}${
        n.elseList ? `{{else}}${listString(n.elseList)}` : ''
      }{{end}}`;
    case 'template':
      return `{{template ${goQuote(n.name)}${n.pipe ? ` ${pipeString(n.pipe)}` : ''}}}`;
    case 'break':
      return '{{break}}';
    case 'continue':
      return '{{continue}}';
    case 'end':
      return '{{end}}';
    case 'else':
      return '{{else}}';
  }
}

// ---------------------------------------------------------------------------------------------
// Lexer

type TokType =
  | 'text'
  | 'leftDelim'
  | 'rightDelim'
  | 'space'
  | 'field'
  | 'variable'
  | 'identifier'
  | 'keyword'
  | 'bool'
  | 'nil'
  | 'dot'
  | 'number'
  | 'charConst'
  | 'string'
  | 'rawString'
  | 'pipe'
  | 'declare'
  | 'assign'
  | 'leftParen'
  | 'rightParen'
  | 'char'
  | 'eof'
  | 'error';

interface Token {
  readonly type: TokType;
  readonly val: string;
  readonly pos: number;
}

const KEYWORDS = new Set([
  'block',
  'break',
  'continue',
  'define',
  'else',
  'end',
  'if',
  'range',
  'template',
  'with',
]);

function isSpaceChar(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

const ALNUM = /^[\p{L}\p{Nd}_]$/u;

function runeAt(s: string, i: number): string | undefined {
  const cp = s.codePointAt(i);
  return cp === undefined ? undefined : String.fromCodePoint(cp);
}

function isAlnum(c: string | undefined): boolean {
  return c !== undefined && ALNUM.test(c);
}

function lex(src: string): Token[] {
  const toks: Token[] = [];
  let pos = 0;
  const push = (type: TokType, start: number, end: number) => {
    toks.push({ type, val: src.slice(start, end), pos: start });
  };
  const fail = (msg: string, at: number): Token[] => {
    toks.push({ type: 'error', val: msg, pos: at });
    return toks;
  };
  const skipSpaces = (i: number) => {
    while (i < src.length && isSpaceChar(src[i])) i++;
    return i;
  };
  // At "}}" or " -}}"?
  const atRightDelim = (i: number): { trim: boolean } | null => {
    if (isSpaceChar(src[i]) && src[i + 1] === '-' && src.startsWith('}}', i + 2)) return { trim: true };
    if (src.startsWith('}}', i)) return { trim: false };
    return null;
  };
  const atTerminator = (i: number): boolean => {
    const c = src[i];
    if (c === undefined || isSpaceChar(c)) return true;
    if ('.,|:()'.includes(c)) return true;
    return src.startsWith('}}', i);
  };
  const scanAlnum = (i: number): number => {
    for (;;) {
      const r = runeAt(src, i);
      if (!isAlnum(r)) return i;
      i += r!.length;
    }
  };
  const badChar = (i: number): Token[] => fail(`bad character ${describeRune(src.codePointAt(i) ?? 0)}`, i);

  for (;;) {
    const x = src.indexOf('{{', pos);
    if (x < 0) {
      if (pos < src.length) push('text', pos, src.length);
      break;
    }
    const leftTrim = src[x + 2] === '-' && isSpaceChar(src[x + 3]);
    let textEnd = x;
    if (leftTrim) while (textEnd > pos && isSpaceChar(src[textEnd - 1])) textEnd--;
    if (textEnd > pos) push('text', pos, textEnd);
    const afterMarker = x + 2 + (leftTrim ? 2 : 0);
    if (src.startsWith('/*', afterMarker)) {
      const close = src.indexOf('*/', afterMarker + 2);
      if (close < 0) return fail('unclosed comment', x);
      let q = close + 2;
      const rd = atRightDelim(q);
      if (!rd) return fail('comment ends before closing delimiter', x);
      q += (rd.trim ? 2 : 0) + 2;
      if (rd.trim) q = skipSpaces(q);
      pos = q;
      continue;
    }
    push('leftDelim', x, x + 2);
    pos = afterMarker;
    let parenDepth = 0;
    for (;;) {
      const rd = atRightDelim(pos);
      if (rd) {
        if (parenDepth !== 0) return fail('unclosed left paren', pos);
        const start = pos + (rd.trim ? 2 : 0);
        push('rightDelim', start, start + 2);
        pos = start + 2;
        if (rd.trim) pos = skipSpaces(pos);
        break;
      }
      const c = src[pos];
      if (c === undefined) return fail('unclosed action', pos);
      const start = pos;
      if (isSpaceChar(c)) {
        let q = skipSpaces(pos);
        if (src[q] === '-' && src.startsWith('}}', q + 1)) {
          q--; // that space belongs to the " -}}" marker
          if (q === pos) continue;
        }
        push('space', pos, q);
        pos = q;
        continue;
      }
      switch (c) {
        case '=':
          push('assign', pos, ++pos);
          continue;
        case ':':
          if (src[pos + 1] !== '=') return fail('expected :=', pos);
          pos += 2;
          push('declare', start, pos);
          continue;
        case '|':
          push('pipe', pos, ++pos);
          continue;
        case '"': {
          let q = pos + 1;
          for (;;) {
            const d = src[q];
            if (d === '\\') {
              q++;
              if (q >= src.length || src[q] === '\n') return fail('unterminated quoted string', start);
            } else if (d === undefined || d === '\n') return fail('unterminated quoted string', start);
            else if (d === '"') break;
            q++;
          }
          pos = q + 1;
          push('string', start, pos);
          continue;
        }
        case '`': {
          const q = src.indexOf('`', pos + 1);
          if (q < 0) return fail('unterminated raw quoted string', start);
          pos = q + 1;
          push('rawString', start, pos);
          continue;
        }
        case "'": {
          let q = pos + 1;
          for (;;) {
            const d = src[q];
            if (d === '\\') {
              q++;
              if (q >= src.length || src[q] === '\n') return fail('unterminated character constant', start);
            } else if (d === undefined || d === '\n') return fail('unterminated character constant', start);
            else if (d === "'") break;
            q++;
          }
          pos = q + 1;
          push('charConst', start, pos);
          continue;
        }
        case '$':
        case '.': {
          if (c === '.' && src[pos + 1] !== undefined && src[pos + 1]! >= '0' && src[pos + 1]! <= '9') break;
          if (atTerminator(pos + 1)) {
            pos++;
            push(c === '$' ? 'variable' : 'dot', start, pos);
            continue;
          }
          const q = scanAlnum(pos + 1);
          if (!atTerminator(q)) return badChar(q);
          pos = q;
          push(c === '$' ? 'variable' : 'field', start, pos);
          continue;
        }
        case '(':
          parenDepth++;
          push('leftParen', pos, ++pos);
          continue;
        case ')':
          parenDepth--;
          if (parenDepth < 0) return fail('unexpected right paren', pos);
          push('rightParen', pos, ++pos);
          continue;
        default:
          break;
      }
      if (c === '+' || c === '-' || c === '.' || (c >= '0' && c <= '9')) {
        const scanNumber = (i: number): { end: number; ok: boolean } => {
          if (src[i] === '+' || src[i] === '-') i++;
          let digits = '0123456789_';
          if (src[i] === '0') {
            i++;
            const p = src[i];
            if (p === 'x' || p === 'X') {
              digits = '0123456789abcdefABCDEF_';
              i++;
            } else if (p === 'o' || p === 'O') {
              digits = '01234567_';
              i++;
            } else if (p === 'b' || p === 'B') {
              digits = '01_';
              i++;
            }
          }
          const run = (set: string) => {
            while (i < src.length && set.includes(src[i]!)) i++;
          };
          run(digits);
          if (src[i] === '.') {
            i++;
            run(digits);
          }
          if (digits.length === 11 && (src[i] === 'e' || src[i] === 'E')) {
            i++;
            if (src[i] === '+' || src[i] === '-') i++;
            run('0123456789_');
          }
          if (digits.length === 23 && (src[i] === 'p' || src[i] === 'P')) {
            i++;
            if (src[i] === '+' || src[i] === '-') i++;
            run('0123456789_');
          }
          if (src[i] === 'i') i++;
          const r = runeAt(src, i);
          if (isAlnum(r)) return { end: i + r!.length, ok: false };
          return { end: i, ok: true };
        };
        let r = scanNumber(pos);
        if (!r.ok) return fail(`bad number syntax: ${goQuote(src.slice(start, r.end))}`, start);
        if (src[r.end] === '+' || src[r.end] === '-') {
          const r2 = scanNumber(r.end);
          if (!r2.ok || src[r2.end - 1] !== 'i') {
            return fail(`bad number syntax: ${goQuote(src.slice(start, r2.end))}`, start);
          }
          r = r2;
        }
        pos = r.end;
        push('number', start, pos);
        continue;
      }
      const r = runeAt(src, pos)!;
      if (isAlnum(r)) {
        const q = scanAlnum(pos);
        if (!atTerminator(q)) return badChar(q);
        const word = src.slice(pos, q);
        pos = q;
        if (KEYWORDS.has(word)) push('keyword', start, pos);
        else if (word === 'nil') push('nil', start, pos);
        else if (word === 'true' || word === 'false') push('bool', start, pos);
        else push('identifier', start, pos);
        continue;
      }
      const cp = r.codePointAt(0)!;
      if (cp < 0x80 && cp >= 0x20 && cp !== 0x7f) {
        push('char', pos, ++pos);
        continue;
      }
      return fail(`unrecognized character in action: ${describeRune(cp)}`, pos);
    }
  }
  toks.push({ type: 'eof', val: '', pos: src.length });
  return toks;
}

function tokString(t: Token): string {
  switch (t.type) {
    case 'eof':
      return 'EOF';
    case 'error':
      return t.val;
    case 'keyword':
    case 'dot':
    case 'nil':
      return `<${t.val}>`;
    default: {
      const chars = [...t.val];
      return chars.length > 10 ? `${goQuote(chars.slice(0, 10).join(''))}...` : goQuote(t.val);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Literals

class SyntaxErr extends Error {}

function hexValue(s: string): number {
  if (!/^[0-9a-fA-F]+$/.test(s)) throw new SyntaxErr('invalid syntax');
  return Number.parseInt(s, 16);
}

function pushUtf8(out: number[], cp: number): void {
  for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out.push(b);
}

/** strconv.Unquote for "...", `...` and '...' (the last yields the rune as a one-rune string). */
function unquote(text: string): string {
  const q = text[0];
  const body = text.slice(1, -1);
  if (q === '`') return body.replace(/\r/g, '');
  const bytes: number[] = [];
  let i = 0;
  while (i < body.length) {
    const ch = runeAt(body, i)!;
    if (ch !== '\\') {
      if (ch === q) throw new SyntaxErr('invalid syntax');
      pushUtf8(bytes, ch.codePointAt(0)!);
      i += ch.length;
      continue;
    }
    const e = body[i + 1];
    i += 2;
    switch (e) {
      case 'a':
        bytes.push(7);
        break;
      case 'b':
        bytes.push(8);
        break;
      case 'f':
        bytes.push(12);
        break;
      case 'n':
        bytes.push(10);
        break;
      case 'r':
        bytes.push(13);
        break;
      case 't':
        bytes.push(9);
        break;
      case 'v':
        bytes.push(11);
        break;
      case '\\':
        bytes.push(0x5c);
        break;
      case "'":
      case '"':
        if (e !== q) throw new SyntaxErr('invalid syntax');
        bytes.push(e.charCodeAt(0));
        break;
      case 'x':
        bytes.push(hexValue(body.slice(i, i + 2).padEnd(2, 'g')));
        i += 2;
        break;
      case 'u':
      case 'U': {
        const n = e === 'u' ? 4 : 8;
        const cp = hexValue(body.slice(i, i + n).padEnd(n, 'g'));
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new SyntaxErr('invalid syntax');
        pushUtf8(bytes, cp);
        i += n;
        break;
      }
      default: {
        const oct = body.slice(i - 1, i + 2);
        if (!/^[0-7]{3}$/.test(oct)) throw new SyntaxErr('invalid syntax');
        const v = Number.parseInt(oct, 8);
        if (v > 255) throw new SyntaxErr('invalid syntax');
        bytes.push(v);
        i += 2;
      }
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

const INT_SYNTAX = /^(0[xX](_?[0-9a-fA-F])+|0[bB](_?[01])+|0[oO](_?[0-7])+|0(_?[0-7])*|[1-9](_?[0-9])*)$/;
const FLOAT_SYNTAX = /^(?=\.?\d)(\d(_?\d)*)?(\.(\d(_?\d)*)?)?([eE][+-]?\d(_?\d)*)?$/;

function parseNumber(tok: Token): NumberNode | string {
  const text = tok.val;
  if (tok.type === 'charConst') {
    let s: string;
    try {
      s = unquote(text);
    } catch {
      return 'invalid syntax';
    }
    const runes = [...s];
    if (runes.length === 0) return 'invalid syntax';
    if (runes.length !== 1) return `malformed character constant: ${text}`;
    return { kind: 'number', pos: tok.pos, text, value: runes[0]!.codePointAt(0)!, isInt: true };
  }
  if (text.endsWith('i')) return `complex numbers are not supported: ${goQuote(text)}`;
  const neg = text[0] === '-';
  const body = text[0] === '-' || text[0] === '+' ? text.slice(1) : text;
  if (INT_SYNTAX.test(body)) {
    const clean = body.replace(/_/g, '');
    const lit = /^0[0-7]+$/.test(clean) ? `0o${clean.slice(1)}` : clean;
    let v = BigInt(lit);
    if (neg) v = -v;
    if (v >= 2n ** 63n || v < -(2n ** 63n)) return `integer overflow: ${goQuote(text)}`;
    return { kind: 'number', pos: tok.pos, text, value: Number(v), isInt: true };
  }
  if (FLOAT_SYNTAX.test(body)) {
    // Go reads an integer that ParseInt rejects (like 08) as a float, then refuses it.
    if (!/[.eE]/.test(body)) return `integer overflow: ${goQuote(text)}`;
    const v = Number(body.replace(/_/g, ''));
    if (!Number.isFinite(v)) return `illegal number syntax: ${goQuote(text)}`;
    const value = neg ? -v : v;
    return { kind: 'number', pos: tok.pos, text, value, isInt: Number.isInteger(value) };
  }
  return `illegal number syntax: ${goQuote(text)}`;
}

// ---------------------------------------------------------------------------------------------
// Parser

function isEmptyList(list: readonly Node[]): boolean {
  return list.every((n) => n.kind === 'text' && n.text.trim() === '');
}

class Parser {
  private readonly toks: Token[];
  private i = 0;
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  private actionLine = 0;
  private last: Token;
  private readonly lineStarts: number[] = [0];
  readonly defs = new Map<string, readonly Node[]>();

  constructor(
    src: string,
    private readonly funcs: ReadonlySet<string>,
  ) {
    this.toks = lex(src);
    this.last = this.toks[0]!;
    for (let k = 0; k < src.length; k++) if (src[k] === '\n') this.lineStarts.push(k + 1);
  }

  private lineOf(pos: number): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  private errorf(msg: string, tok: Token = this.last): never {
    throw new TemplateError('TEMPLATE_PARSE_ERROR', `template: :${this.lineOf(tok.pos)}: ${msg}`);
  }

  private check(t: Token): Token {
    this.last = t;
    if (t.type === 'error') {
      const line = this.lineOf(t.pos);
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== line) {
        extra = ` in action started at :${this.actionLine}`;
        if (t.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.errorf(`${t.val}${extra}`, t);
    }
    return t;
  }

  private next(): Token {
    const t = this.toks[this.i] ?? this.toks[this.toks.length - 1]!;
    if (this.i < this.toks.length - 1) this.i++;
    else this.i = this.toks.length;
    return this.check(t);
  }

  private backup(): void {
    this.i--;
  }

  private peek(): Token {
    return this.check(this.toks[this.i] ?? this.toks[this.toks.length - 1]!);
  }

  private nextNonSpace(): Token {
    let t = this.next();
    while (t.type === 'space') t = this.next();
    return t;
  }

  private peekNonSpace(): Token {
    const t = this.nextNonSpace();
    this.backup();
    return t;
  }

  private unexpected(t: Token, context: string): never {
    this.errorf(`unexpected ${tokString(t)} in ${context}`, t);
  }

  private expect(type: TokType, context: string): Token {
    const t = this.nextNonSpace();
    if (t.type !== type) this.unexpected(t, context);
    return t;
  }

  parse(): readonly Node[] {
    const root: Node[] = [];
    while (this.peek().type !== 'eof') {
      if (this.peek().type === 'leftDelim') {
        const save = this.i;
        const delim = this.next();
        const t = this.nextNonSpace();
        if (t.type === 'keyword' && t.val === 'define') {
          this.actionLine = this.lineOf(delim.pos);
          this.parseDefinition();
          this.actionLine = 0;
          continue;
        }
        this.i = save;
      }
      const n = this.textOrAction();
      if (n.kind === 'end' || n.kind === 'else') this.errorf(`unexpected ${nodeString(n)}`);
      root.push(n);
    }
    return root;
  }

  private addDefinition(name: string, list: readonly Node[]): void {
    if (this.defs.has(name) && isEmptyList(list)) return;
    this.defs.set(name, list);
  }

  private inNewScope<R>(fn: () => R): R {
    const vars = this.vars;
    const depth = this.rangeDepth;
    this.vars = ['$'];
    this.rangeDepth = 0;
    try {
      return fn();
    } finally {
      this.vars = vars;
      this.rangeDepth = depth;
    }
  }

  private parseTemplateName(t: Token, context: string): string {
    if (t.type !== 'string' && t.type !== 'rawString') this.unexpected(t, context);
    try {
      return unquote(t.val);
    } catch (e) {
      this.errorf((e as Error).message, t);
    }
  }

  private parseDefinition(): void {
    const context = 'define clause';
    const name = this.parseTemplateName(this.nextNonSpace(), context);
    this.expect('rightDelim', context);
    this.inNewScope(() => {
      const { list, next } = this.itemList();
      if (next.kind !== 'end') this.errorf(`unexpected ${nodeString(next)} in ${context}`);
      this.addDefinition(name, list);
    });
  }

  private itemList(): { list: Node[]; next: EndOrElse } {
    const list: Node[] = [];
    while (this.peekNonSpace().type !== 'eof') {
      const n = this.textOrAction();
      if (n.kind === 'end' || n.kind === 'else') return { list, next: n };
      list.push(n);
    }
    this.errorf('unexpected EOF');
  }

  private textOrAction(): Node | EndOrElse {
    const t = this.nextNonSpace();
    if (t.type === 'text') return { kind: 'text', text: t.val };
    if (t.type === 'leftDelim') {
      const saved = this.actionLine;
      this.actionLine = this.lineOf(t.pos);
      try {
        return this.action();
      } finally {
        this.actionLine = saved;
      }
    }
    this.unexpected(t, 'input');
  }

  private action(): Node | EndOrElse {
    const t = this.nextNonSpace();
    if (t.type === 'keyword') {
      switch (t.val) {
        case 'block':
          return this.blockControl();
        case 'break':
        case 'continue':
          return this.loopControl(t);
        case 'else':
          return this.elseControl();
        case 'end':
          return { kind: 'end', pos: this.expect('rightDelim', 'end').pos };
        case 'if':
        case 'range':
        case 'with':
          return this.branch(t.val, t.pos);
        case 'template':
          return this.templateControl();
        default:
          break;
      }
    }
    this.backup();
    const pos = this.peek().pos;
    return { kind: 'action', pos, pipe: this.pipeline('command', 'rightDelim') };
  }

  private loopControl(t: Token): LoopControlNode {
    const kind = t.val as 'break' | 'continue';
    const next = this.nextNonSpace();
    if (next.type !== 'rightDelim') this.unexpected(next, `{{${kind}}}`);
    if (this.rangeDepth === 0) this.errorf(`{{${kind}}} outside {{range}}`, t);
    return { kind, pos: t.pos };
  }

  private elseControl(): EndOrElse {
    const p = this.peekNonSpace();
    if (p.type === 'keyword' && (p.val === 'if' || p.val === 'with')) return { kind: 'else', pos: p.pos };
    return { kind: 'else', pos: this.expect('rightDelim', 'else').pos };
  }

  private branch(context: 'if' | 'range' | 'with', pos: number): BranchNode {
    const mark = this.vars.length;
    try {
      const pipe = this.pipeline(context, 'rightDelim');
      if (context === 'range') this.rangeDepth++;
      const { list, next } = this.itemList();
      if (context === 'range') this.rangeDepth--;
      let elseList: Node[] | null = null;
      if (next.kind === 'else') {
        const p = this.peek();
        if ((context === 'if' || context === 'with') && p.type === 'keyword' && p.val === context) {
          this.next();
          elseList = [this.branch(context, p.pos)];
        } else {
          const r = this.itemList();
          if (r.next.kind !== 'end') this.errorf(`expected end; found ${nodeString(r.next)}`);
          elseList = r.list;
        }
      }
      return { kind: context, pos, pipe, list, elseList };
    } finally {
      this.vars.length = mark;
    }
  }

  private templateControl(): TemplateNode {
    const context = 'template clause';
    const t = this.nextNonSpace();
    const name = this.parseTemplateName(t, context);
    let pipe: PipeNode | null = null;
    if (this.nextNonSpace().type !== 'rightDelim') {
      this.backup();
      pipe = this.pipeline(context, 'rightDelim');
    }
    return { kind: 'template', pos: t.pos, name, pipe };
  }

  private blockControl(): TemplateNode {
    const context = 'block clause';
    const t = this.nextNonSpace();
    const name = this.parseTemplateName(t, context);
    const pipe = this.pipeline(context, 'rightDelim');
    this.inNewScope(() => {
      const { list, next } = this.itemList();
      if (next.kind !== 'end') this.errorf(`unexpected ${nodeString(next)} in ${context}`);
      this.addDefinition(name, list);
    });
    return { kind: 'template', pos: t.pos, name, pipe };
  }

  private pipeline(context: string, end: 'rightDelim' | 'rightParen'): PipeNode {
    const pipe: PipeNode = {
      kind: 'pipe',
      pos: this.peekNonSpace().pos,
      isAssign: false,
      decl: [],
      cmds: [],
    };
    for (;;) {
      const save = this.i;
      const v = this.nextNonSpace();
      if (v.type !== 'variable') {
        this.i = save;
        break;
      }
      const next = this.peekNonSpace();
      if (next.type === 'assign' || next.type === 'declare') {
        pipe.isAssign = next.type === 'assign';
        this.nextNonSpace();
        pipe.decl.push({ name: v.val, pos: v.pos });
        this.vars.push(v.val);
        break;
      }
      if (next.type === 'char' && next.val === ',') {
        this.nextNonSpace();
        pipe.decl.push({ name: v.val, pos: v.pos });
        this.vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const p = this.peekNonSpace();
          if (p.type === 'variable' || p.type === 'rightDelim' || p.type === 'rightParen') continue;
          this.errorf('range can only initialize variables');
        }
        this.errorf(`too many declarations in ${context}`);
      }
      this.i = save;
      break;
    }
    for (;;) {
      const t = this.nextNonSpace();
      if (t.type === end) {
        if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
        pipe.cmds.slice(1).forEach((c, k) => {
          const k0 = c.args[0]?.kind;
          if (k0 === 'bool' || k0 === 'dot' || k0 === 'nil' || k0 === 'number' || k0 === 'string') {
            this.errorf(`non executable command in pipeline stage ${k + 2}`);
          }
        });
        return pipe;
      }
      switch (t.type) {
        case 'bool':
        case 'charConst':
        case 'dot':
        case 'field':
        case 'identifier':
        case 'number':
        case 'nil':
        case 'rawString':
        case 'string':
        case 'variable':
        case 'leftParen':
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(t, context);
      }
    }
  }

  private command(): CommandNode {
    const cmd: CommandNode = { kind: 'command', pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const t = this.next();
      if (t.type === 'space') continue;
      if (t.type === 'rightDelim' || t.type === 'rightParen') this.backup();
      else if (t.type !== 'pipe') this.unexpected(t, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  private operand(): ArgNode | null {
    const node = this.term();
    if (node === null) return null;
    if (this.peek().type !== 'field') return node;
    const pos = this.peek().pos;
    const fields: string[] = [];
    while (this.peek().type === 'field') fields.push(this.next().val.slice(1));
    switch (node.kind) {
      case 'field':
        return { kind: 'field', pos, idents: [...node.idents, ...fields] };
      case 'variable':
        return { kind: 'variable', pos, name: node.name, idents: [...node.idents, ...fields] };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        return this.errorf(`unexpected . after term ${goQuote(nodeString(node))}`);
      default:
        return { kind: 'chain', pos, node, fields };
    }
  }

  private term(): ArgNode | null {
    const t = this.nextNonSpace();
    switch (t.type) {
      case 'identifier':
        if (!this.funcs.has(t.val)) this.errorf(`function ${goQuote(t.val)} not defined`);
        return { kind: 'identifier', pos: t.pos, name: t.val };
      case 'dot':
        return { kind: 'dot', pos: t.pos };
      case 'nil':
        return { kind: 'nil', pos: t.pos };
      case 'variable':
        if (!this.vars.includes(t.val)) this.errorf(`undefined variable ${goQuote(t.val)}`);
        return { kind: 'variable', pos: t.pos, name: t.val, idents: [] };
      case 'field':
        return { kind: 'field', pos: t.pos, idents: [t.val.slice(1)] };
      case 'bool':
        return { kind: 'bool', pos: t.pos, value: t.val === 'true' };
      case 'charConst':
      case 'number': {
        const n = parseNumber(t);
        if (typeof n === 'string') this.errorf(n);
        return n;
      }
      case 'leftParen':
        return this.pipeline('parenthesized pipeline', 'rightParen');
      case 'string':
      case 'rawString':
        try {
          return { kind: 'string', pos: t.pos, quoted: t.val, value: unquote(t.val) };
        } catch (e) {
          return this.errorf((e as Error).message);
        }
      default:
        this.backup();
        return null;
    }
  }
}

/** Parses a template; `funcs` names the functions it may call. Throws TemplateError. */
export function parseTemplate(source: string, funcs: ReadonlySet<string>): ParsedTemplate {
  const p = new Parser(source, funcs);
  const root = p.parse();
  return { source, root, defs: p.defs };
}
