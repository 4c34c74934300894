// A Go text/template interpreter for the CLI's --format flag, with Go's builtins and the docker
// CLI's extra functions (see functions.ts). Parse once with compileTemplate, render many times.
//
// Semantics follow text/template (checked against docker's own output), on the value model of
// values.ts. Where JS data cannot say what Go would know, the choices are:
// - A missing field is a missing map key: it renders `<no value>` (Go's missingkey=default),
//   or fails with `map has no entry for key "X"` under `missingKey: 'error'`. Go would fail on a
//   missing *struct* field ("can't evaluate field X in type T"); JS objects don't say which
//   they are. Fields of strings, numbers, booleans and lists do fail as in Go.
// - null is a nil pointer: `{{.X}}` prints `<nil>`, `{{.X.Y}}` fails with "nil pointer
//   evaluating", `if`/`with`/`range` treat it as empty.
// - Function-valued fields are methods: `{{.Label "com.example"}}` calls obj.Label("com.example")
//   (`this` is the object). Only `call`'s first argument is taken as the function itself.
// - Numbers are one type: comparisons between integral and fractional numbers work (Go's
//   "incompatible types for comparison" between int and float64 is not reproduced), integral
//   numbers print as ints (`{{1e6}}` is 1000000, where Go prints the float 1e+06) and float
//   verbs (%f %e %g) accept them.
// - Plain objects and Maps both print as Go maps (`map[k:v]`, sorted); `json` keeps a plain
//   object's key order (like a struct) and sorts a Map's keys.
// Not supported: complex numbers, Go 1.23 range-over-func, %#v beyond an approximation, custom
// delimiters. `else with`, break/continue, range over integers, define/template/block are.
// Errors are TemplateError (an InvalidArgumentError) whose message is docker's:
// "template parsing error: template: :1:2: executing \"\" at <.X>: ...".
import { BUILTIN_FUNCS, FuncError, type FuncSpec, type ParamType, userFunc } from './functions.ts';
import { goQuote, sprint } from './gofmt.ts';
import {
  type AnyNode,
  type ArgNode,
  type BranchNode,
  type ChainNode,
  type FieldNode,
  type IdentifierNode,
  type Node,
  type ParsedTemplate,
  type PipeNode,
  parseTemplate,
  nodeString,
  type TemplateNode,
  TemplateError,
  type VariableNode,
} from './template-parse.ts';
import { goKind, goTypeName, isTrue, lookupProperty, mapEntries, sliceItems, utf8Length } from './values.ts';

export { TemplateError } from './template-parse.ts';

export type TemplateFunction = (...args: unknown[]) => unknown;

/** What a missing map key or field does: print `<no value>` (Go's default) or fail. */
export type MissingKey = 'default' | 'error';

export interface CompileOptions {
  /** Extra functions (or replacements), called with their arguments; missing values arrive as null. */
  readonly functions?: Readonly<Record<string, TemplateFunction>> | undefined;
}

export interface RenderOptions {
  readonly missingKey?: MissingKey | undefined;
}

export interface Template {
  readonly source: string;
  /** Renders against `data` (the template's `.` and `$`). Throws TemplateError. */
  render(data: unknown, options?: RenderOptions): string;
}

/** Go's missingVal: "no final value" for the first command of a pipeline. */
const MISSING: unique symbol = Symbol('missing');
type Final = unknown;

const BREAK = { signal: 'break' };
const CONTINUE = { signal: 'continue' };

/** Go allows 100000 nested {{template}} calls; JS stacks are smaller. */
const MAX_EXEC_DEPTH = 200;

interface Var {
  readonly name: string;
  value: unknown;
}

function paramTypeName(t: ParamType): string {
  switch (t) {
    case 'string':
      return 'string';
    case 'int':
      return 'int';
    case 'strings':
      return '[]string';
    case 'any':
      return 'interface {}';
    case 'value':
      return 'reflect.Value';
  }
}

class State {
  node: AnyNode | null = null;

  constructor(
    private readonly tmpl: ParsedTemplate,
    private readonly funcs: ReadonlyMap<string, FuncSpec>,
    private readonly missingKey: MissingKey,
    private readonly name: string,
    private readonly depth: number,
    private readonly vars: Var[],
    readonly out: string[],
  ) {}

  private at(node: AnyNode): void {
    this.node = node;
  }

  private errorf(msg: string): never {
    let detail: string;
    const node = this.node;
    if (node === null || !('pos' in node)) detail = `template: ${this.name}: ${msg}`;
    else {
      const src = this.tmpl.source;
      const pos = node.pos;
      const lineStart = src.lastIndexOf('\n', pos - 1) + 1;
      let line = 1;
      for (let i = 0; i < lineStart; i++) if (src.charCodeAt(i) === 10) line++;
      const col = utf8Length(src.slice(lineStart, pos));
      detail = `template: :${line}:${col}: executing ${goQuote(this.name)} at <${nodeString(node)}>: ${msg}`;
    }
    throw new TemplateError('TEMPLATE_EXEC_ERROR', detail);
  }

  // --- variables

  private findVar(name: string): Var {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i]!;
      if (v.name === name) return v;
    }
    this.errorf(`undefined variable: ${name}`);
  }

  private setTopVar(n: number, value: unknown): void {
    this.vars[this.vars.length - n]!.value = value;
  }

  // --- walking

  walkList(dot: unknown, list: readonly Node[]): void {
    for (const n of list) this.walk(dot, n);
  }

  private walk(dot: unknown, node: Node): void {
    switch (node.kind) {
      case 'text':
        this.out.push(node.text);
        return;
      case 'action': {
        this.at(node);
        const v = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, v);
        return;
      }
      case 'if':
      case 'with':
        this.walkIfOrWith(dot, node);
        return;
      case 'range':
        this.walkRange(dot, node);
        return;
      case 'template':
        this.walkTemplate(dot, node);
        return;
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
    }
  }

  private walkIfOrWith(dot: unknown, node: BranchNode): void {
    const mark = this.vars.length;
    try {
      const val = this.evalPipeline(dot, node.pipe);
      if (isTrue(val)) this.walkList(node.kind === 'with' ? val : dot, node.list);
      else if (node.elseList) this.walkList(dot, node.elseList);
    } finally {
      this.vars.length = mark;
    }
  }

  private walkRange(dot: unknown, node: BranchNode): void {
    this.at(node);
    const mark = this.vars.length;
    try {
      const val = this.evalPipeline(dot, node.pipe);
      const iterMark = this.vars.length;
      const { decl, isAssign } = node.pipe;
      const oneIteration = (index: unknown, elem: unknown): boolean => {
        if (decl.length > 0) {
          if (isAssign) this.findVar(decl[0]!.name).value = decl.length > 1 ? index : elem;
          else this.setTopVar(1, elem);
        }
        if (decl.length > 1) {
          if (isAssign) this.findVar(decl[1]!.name).value = elem;
          else this.setTopVar(2, index);
        }
        try {
          this.walkList(elem, node.list);
        } catch (e) {
          if (e === BREAK) return false;
          if (e !== CONTINUE) throw e;
        } finally {
          this.vars.length = iterMark;
        }
        return true;
      };
      let ran = false;
      switch (goKind(val)) {
        case 'slice':
        case 'bytes': {
          const items = sliceItems(val);
          for (let i = 0; i < items.length; i++) {
            ran = true;
            if (!oneIteration(i, items[i])) break;
          }
          break;
        }
        case 'map':
          for (const [k, v] of mapEntries(val as object)) {
            ran = true;
            if (!oneIteration(k, v)) break;
          }
          break;
        case 'int': {
          if (decl.length > 1) this.errorf(`can't use ${sprint(val)} to iterate over more than one variable`);
          const n = Number(val);
          for (let i = 0; i < n; i++) {
            ran = true;
            if (!oneIteration(i, i)) break;
          }
          break;
        }
        case 'nil':
          break;
        default:
          this.errorf(`range can't iterate over ${sprint(val)}`);
      }
      if (!ran && node.elseList) this.walkList(dot, node.elseList);
    } finally {
      this.vars.length = mark;
    }
  }

  private walkTemplate(dot: unknown, node: TemplateNode): void {
    this.at(node);
    const list = this.tmpl.defs.get(node.name);
    if (list === undefined) this.errorf(`template ${goQuote(node.name)} not defined`);
    if (this.depth >= MAX_EXEC_DEPTH) this.errorf(`exceeded maximum template depth (${MAX_EXEC_DEPTH})`);
    const newDot = node.pipe ? this.evalPipeline(dot, node.pipe) : undefined;
    const sub = new State(
      this.tmpl,
      this.funcs,
      this.missingKey,
      node.name,
      this.depth + 1,
      [{ name: '$', value: newDot }],
      this.out,
    );
    sub.walkList(newDot, list);
  }

  private printValue(node: AnyNode, v: unknown): void {
    this.at(node);
    if (v === undefined) {
      this.out.push('<no value>');
      return;
    }
    if (typeof v === 'function') this.errorf(`can't print ${nodeString(node)} of type ${goTypeName(v)}`);
    this.out.push(sprint(v));
  }

  // --- evaluation

  private evalPipeline(dot: unknown, pipe: PipeNode): unknown {
    this.at(pipe);
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    for (const d of pipe.decl) {
      if (pipe.isAssign) this.findVar(d.name).value = value;
      else this.vars.push({ name: d.name, value });
    }
    return value;
  }

  private notAFunction(args: readonly ArgNode[], final: Final): void {
    if (args.length > 1 || final !== MISSING) {
      this.errorf(`can't give argument to non-function ${nodeString(args[0]!)}`);
    }
  }

  private evalCommand(dot: unknown, cmd: { readonly args: ArgNode[] } & AnyNode, final: Final): unknown {
    const first = cmd.args[0]!;
    switch (first.kind) {
      case 'field':
        return this.evalFieldNode(dot, first, cmd.args, final);
      case 'chain':
        return this.evalChainNode(dot, first, cmd.args, final);
      case 'identifier':
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable':
        return this.evalVariableNode(dot, first, cmd.args, final);
      default:
        break;
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.kind) {
      case 'dot':
        return dot;
      case 'nil':
        return this.errorf('nil is not a command');
      default:
        return first.value;
    }
  }

  private evalFieldNode(
    dot: unknown,
    field: FieldNode,
    args: readonly ArgNode[] | null,
    final: Final,
  ): unknown {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.idents, args, final);
  }

  private evalChainNode(
    dot: unknown,
    chain: ChainNode,
    args: readonly ArgNode[] | null,
    final: Final,
  ): unknown {
    this.at(chain);
    if (chain.node.kind === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const pipe = this.evalArg(dot, 'value', chain.node);
    return this.evalFieldChain(dot, pipe, chain, chain.fields, args, final);
  }

  private evalVariableNode(
    dot: unknown,
    v: VariableNode,
    args: readonly ArgNode[] | null,
    final: Final,
  ): unknown {
    this.at(v);
    const value = this.findVar(v.name).value;
    if (v.idents.length === 0) {
      if (args) this.notAFunction(args, final);
      else if (final !== MISSING) this.errorf(`can't give argument to non-function ${nodeString(v)}`);
      return value;
    }
    return this.evalFieldChain(dot, value, v, v.idents, args, final);
  }

  private evalFieldChain(
    dot: unknown,
    receiver: unknown,
    node: AnyNode,
    idents: readonly string[],
    args: readonly ArgNode[] | null,
    final: Final,
  ): unknown {
    const n = idents.length;
    for (let i = 0; i < n - 1; i++) receiver = this.evalField(dot, idents[i]!, node, null, MISSING, receiver);
    return this.evalField(dot, idents[n - 1]!, node, args, final, receiver);
  }

  /** Looks a field up without invoking it; undefined receiver → undefined. */
  private lookupField(
    name: string,
    receiver: unknown,
  ): { found: boolean; value: unknown; obj: object } | null {
    if (receiver === undefined) {
      if (this.missingKey === 'error') this.errorf(`nil data; no entry for key ${goQuote(name)}`);
      return null;
    }
    if (receiver === null) this.errorf(`nil pointer evaluating interface {}.${name}`);
    if (goKind(receiver) !== 'map') {
      this.errorf(`can't evaluate field ${name} in type ${goTypeName(receiver)}`);
    }
    const obj = receiver as object;
    try {
      if (obj instanceof Map) return { found: obj.has(name), value: obj.get(name), obj };
      return { ...lookupProperty(obj, name), obj };
    } catch (e) {
      this.errorf(`error calling ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private evalField(
    dot: unknown,
    name: string,
    node: AnyNode,
    args: readonly ArgNode[] | null,
    final: Final,
    receiver: unknown,
  ): unknown {
    const field = this.lookupField(name, receiver);
    if (field === null) return undefined;
    const { found, value, obj } = field;
    if (found && typeof value === 'function') {
      const fn = value as (...a: unknown[]) => unknown;
      const method: FuncSpec = { params: [], variadic: 'any', call: (a) => fn.apply(obj, a) };
      return this.evalCall(dot, method, node, name, args, final);
    }
    const hasArgs = (args !== null && args.length > 1) || final !== MISSING;
    if (hasArgs) {
      this.errorf(
        obj instanceof Map
          ? `${name} is not a method but has arguments`
          : `${name} has arguments but cannot be invoked as function`,
      );
    }
    if (!found && this.missingKey === 'error') this.errorf(`map has no entry for key ${goQuote(name)}`);
    return value;
  }

  /** `call`'s first argument: a field holding a function is passed, not invoked. */
  private evalCallee(dot: unknown, n: ArgNode): unknown {
    if ((n.kind !== 'field' && n.kind !== 'variable') || n.idents.length === 0)
      return this.evalArg(dot, 'value', n);
    this.at(n);
    let receiver = n.kind === 'field' ? dot : this.findVar(n.name).value;
    const last = n.idents.length - 1;
    for (let i = 0; i < last; i++) receiver = this.evalField(dot, n.idents[i]!, n, null, MISSING, receiver);
    const field = this.lookupField(n.idents[last]!, receiver);
    if (field === null) return undefined;
    return typeof field.value === 'function' ? field.value.bind(field.obj) : field.value;
  }

  private evalFunction(
    dot: unknown,
    ident: IdentifierNode,
    node: AnyNode,
    args: readonly ArgNode[] | null,
    final: Final,
  ): unknown {
    this.at(ident);
    const spec = this.funcs.get(ident.name);
    if (spec === undefined) this.errorf(`${goQuote(ident.name)} is not a defined function`);
    return this.evalCall(dot, spec, node, ident.name, args, final);
  }

  private evalCall(
    dot: unknown,
    spec: FuncSpec,
    node: AnyNode,
    name: string,
    args: readonly ArgNode[] | null,
    final: Final,
  ): unknown {
    const argNodes = args ? args.slice(1) : [];
    const numIn = argNodes.length + (final !== MISSING ? 1 : 0);
    const numFixed = spec.params.length;
    if (spec.variadic !== undefined) {
      if (numIn < numFixed) {
        this.errorf(`wrong number of args for ${name}: want at least ${numFixed} got ${argNodes.length}`);
      }
    } else if (numIn !== numFixed) {
      this.errorf(`wrong number of args for ${name}: want ${numFixed} got ${numIn}`);
    }
    const typeAt = (i: number): ParamType => (i < numFixed ? spec.params[i]! : (spec.variadic ?? 'any'));
    if (spec.shortCircuit) {
      let v: unknown;
      for (const a of argNodes) {
        v = this.evalArg(dot, 'value', a);
        if (isTrue(v) === (spec.shortCircuit === 'or')) return v;
      }
      if (final !== MISSING) v = final;
      return v;
    }
    const argv = argNodes.map((a, i) =>
      i === 0 && spec.passCallee ? this.evalCallee(dot, a) : this.evalArg(dot, typeAt(i), a),
    );
    if (final !== MISSING) argv.push(this.validateType(final, typeAt(argNodes.length)));
    if (spec.passCallee) argv.unshift(argNodes[0] ? nodeString(argNodes[0]) : '');
    try {
      return spec.call(argv);
    } catch (e) {
      if (e instanceof TemplateError) throw e;
      this.at(node);
      const msg = e instanceof FuncError || e instanceof Error ? e.message : String(e);
      this.errorf(`error calling ${name}: ${msg}`);
    }
  }

  private evalArg(dot: unknown, type: ParamType, n: ArgNode): unknown {
    this.at(n);
    switch (n.kind) {
      case 'dot':
        return this.validateType(dot, type);
      case 'nil':
        if (type === 'value' || type === 'any' || type === 'strings') return null;
        return this.errorf(`cannot assign nil to ${paramTypeName(type)}`);
      case 'field':
        return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), type);
      case 'variable':
        return this.validateType(this.evalVariableNode(dot, n, null, MISSING), type);
      case 'pipe':
        return this.validateType(this.evalPipeline(dot, n), type);
      case 'identifier':
        return this.validateType(this.evalFunction(dot, n, n, null, MISSING), type);
      case 'chain':
        return this.validateType(this.evalChainNode(dot, n, null, MISSING), type);
      default:
        break;
    }
    switch (type) {
      case 'value':
      case 'any':
        return n.value;
      case 'string':
        if (n.kind === 'string') return n.value;
        return this.errorf(`expected string; found ${nodeString(n)}`);
      case 'int':
        if (n.kind === 'number' && n.isInt) return n.value;
        return this.errorf(`expected integer; found ${nodeString(n)}`);
      case 'strings':
        return this.errorf(`can't handle ${nodeString(n)} for arg of type []string`);
    }
  }

  private validateType(v: unknown, type: ParamType): unknown {
    switch (type) {
      case 'value':
        return v;
      case 'any':
        return v === undefined ? null : v;
      case 'string':
        if (typeof v === 'string') return v;
        break;
      case 'int':
        if (goKind(v) === 'int') return Number(v);
        break;
      case 'strings':
        if (v === null) return [];
        if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
        break;
    }
    if (v === undefined) this.errorf(`invalid value; expected ${paramTypeName(type)}`);
    const got = v === null ? 'interface {}' : goTypeName(v);
    return this.errorf(`wrong type for value; expected ${paramTypeName(type)}; got ${got}`);
  }
}

class CompiledTemplate implements Template {
  constructor(
    readonly parsed: ParsedTemplate,
    readonly funcs: ReadonlyMap<string, FuncSpec>,
  ) {}

  get source(): string {
    return this.parsed.source;
  }

  private readonly merged = new WeakMap<ReadonlyMap<string, FuncSpec>, ReadonlyMap<string, FuncSpec>>();

  execute(data: unknown, options: ExecuteOptions): { output: string; error: TemplateError | null } {
    let funcs = this.funcs;
    if (options.functions) {
      const overrides = options.functions;
      funcs = this.merged.get(overrides) ?? new Map([...this.funcs, ...overrides]);
      this.merged.set(overrides, funcs);
    }
    const out: string[] = [];
    const state = new State(
      this.parsed,
      funcs,
      options.missingKey ?? 'default',
      '',
      0,
      [{ name: '$', value: data }],
      out,
    );
    try {
      state.walkList(data, this.parsed.root);
      return { output: out.join(''), error: null };
    } catch (e) {
      if (e instanceof TemplateError) return { output: out.join(''), error: e };
      if (e instanceof RangeError && /call stack/i.test(e.message)) {
        const detail = `template: : exceeded maximum template depth (${MAX_EXEC_DEPTH})`;
        return { output: out.join(''), error: new TemplateError('TEMPLATE_EXEC_ERROR', detail) };
      }
      throw e;
    }
  }

  render(data: unknown, options: RenderOptions = {}): string {
    const { output, error } = this.execute(data, options);
    if (error) throw error;
    return output;
  }
}

/** Parses a Go template once. Throws TemplateError ("template parsing error: template: :1: ..."). */
export function compileTemplate(source: string, options: CompileOptions = {}): Template {
  const funcs = new Map(BUILTIN_FUNCS);
  for (const [name, fn] of Object.entries(options.functions ?? {})) funcs.set(name, userFunc(fn));
  return new CompiledTemplate(parseTemplate(source, new Set(funcs.keys())), funcs);
}

export interface ExecuteOptions extends RenderOptions {
  /** Replaces functions by name for this execution (e.g. docker's header functions). */
  readonly functions?: ReadonlyMap<string, FuncSpec> | undefined;
}

/**
 * Runs a compiled template and returns what it wrote even when it fails part way (Go writes
 * as it goes; docker prints a table header's partial output and ignores the error).
 */
export function executeTemplate(
  template: Template,
  data: unknown,
  options: ExecuteOptions = {},
): { output: string; error: TemplateError | null } {
  if (!(template instanceof CompiledTemplate)) {
    try {
      return { output: template.render(data, options), error: null };
    } catch (e) {
      if (e instanceof TemplateError) return { output: '', error: e };
      throw e;
    }
  }
  return template.execute(data, options);
}
