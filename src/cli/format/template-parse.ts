// Lexer and parser for Go's text/template language, following text/template/parse's grammar and
// error messages ("template: :1: unclosed action", "function \"x\" not defined", ...).
import { InvalidArgumentError } from '../../errdefs/index.ts';
import { goQuote } from './gofmt.ts';
import type {
  ArgNode,
  BranchNode,
  CommandNode,
  EndOrElse,
  LoopControlNode,
  Node,
  ParsedTemplate,
  PipeNode,
  TemplateNode,
} from './template-ast.ts';
import { nodeString } from './template-ast.ts';
import { lex, parseNumber, type Token, type TokType, tokString, unquote } from './template-lex.ts';
export * from './template-ast.ts';

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
