// Lexer and literal parsing for Go's text/template (items and quoting as text/template/parse).
import { describeRune, goQuote } from './gofmt.ts';
import type { NumberNode } from './template-ast.ts';
// ---------------------------------------------------------------------------------------------
// Lexer

export type TokType =
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

export interface Token {
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

export function lex(src: string): Token[] {
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

export function tokString(t: Token): string {
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

export class SyntaxErr extends Error {}

function hexValue(s: string): number {
  if (!/^[0-9a-fA-F]+$/.test(s)) throw new SyntaxErr('invalid syntax');
  return Number.parseInt(s, 16);
}

function pushUtf8(out: number[], cp: number): void {
  for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out.push(b);
}

/** strconv.Unquote for "...", `...` and '...' (the last yields the rune as a one-rune string). */
export function unquote(text: string): string {
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

export function parseNumber(tok: Token): NumberNode | string {
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
