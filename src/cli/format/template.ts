// Evaluator for --format templates (Go text/template semantics on JSON-shaped data) with Go's
// builtins and the docker CLI's extra functions. Hand-written: no maintained JS library speaks
// Go templates, and docker users' habits depend on them.
import { InvalidArgumentError } from '../../errdefs/index.ts';
import { type Command, type Node, type Operand, type Pipeline, parseTemplate } from './template-parse.ts';

export interface Template {
  render(data: unknown): string;
}

const NO_VALUE = Symbol('no value');
type Value = unknown;

function execError(msg: string): never {
  throw new InvalidArgumentError('TEMPLATE_EXEC', `template: :1: executing "" at <${msg}`);
}

/** Go's truthiness. */
export function truthy(v: Value): boolean {
  if (v === NO_VALUE || v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

function goNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  // Go's %v for float64 is the shortest representation ('g' with exponent above 1e21).
  const s = String(n);
  return s.includes('e') ? s.replace(/e([+-])(\d)$/, 'e$10$2') : s;
}

/** Go's fmt `%v`. */
export function formatValue(v: Value, top = true): string {
  if (v === NO_VALUE || v === undefined) return '<no value>';
  if (v === null) return top ? '<no value>' : '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goNumber(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map((x) => formatValue(x, false)).join(' ')}]`;
  if (typeof v === 'object') {
    const keys = Object.keys(v as object).sort();
    return `map[${keys.map((k) => `${k}:${formatValue((v as Record<string, unknown>)[k], false)}`).join(' ')}]`;
  }
  return String(v);
}

function sortKeys(v: Value): Value {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const rec = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(rec)
        .sort()
        .map((k) => [k, sortKeys(rec[k])]),
    );
  }
  return v;
}

/** Go's json.Marshal of decoded JSON (maps): compact, keys sorted, <, >, & escaped. */
export function goJson(v: Value): string {
  const s = JSON.stringify(v === NO_VALUE || v === undefined ? null : sortKeys(v)) ?? 'null';
  return s.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

function fieldOf(v: Value, name: string): Value {
  if (v === NO_VALUE || v === null || v === undefined) return NO_VALUE;
  if (typeof v === 'object' && !Array.isArray(v)) {
    const rec = v as Record<string, unknown>;
    return Object.hasOwn(rec, name) ? rec[name] : NO_VALUE;
  }
  return execError(
    `.${name}>: can't evaluate field ${name} in type ${Array.isArray(v) ? 'slice' : typeof v}`,
  );
}

function walk(v: Value, path: readonly string[]): Value {
  let cur = v;
  for (const p of path) cur = fieldOf(cur, p);
  return cur;
}

function printf(format: string, args: Value[]): string {
  let i = 0;
  return format.replace(
    /%([-+# 0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])/g,
    (_m, flags: string, w?: string, prec?: string, verb?: string) => {
      if (verb === '%') return '%';
      const arg = args[i++];
      if (arg === undefined) return `%!${verb}(MISSING)`;
      let s: string;
      switch (verb) {
        case 'd':
          s = typeof arg === 'number' ? String(Math.trunc(arg)) : `%!d(${typeof arg}=${formatValue(arg)})`;
          break;
        case 'f':
        case 'F':
          s =
            typeof arg === 'number'
              ? arg.toFixed(prec === undefined ? 6 : Number(prec))
              : `%!f(${formatValue(arg)})`;
          break;
        case 'q':
          s = JSON.stringify(formatValue(arg));
          break;
        case 'x':
          s =
            typeof arg === 'number'
              ? Math.trunc(arg).toString(16)
              : Buffer.from(formatValue(arg)).toString('hex');
          break;
        case 't':
          s = String(Boolean(arg));
          break;
        default:
          s = formatValue(arg);
          if (prec !== undefined && verb === 's') s = [...s].slice(0, Number(prec)).join('');
      }
      const width = w ? Number(w) : 0;
      const len = [...s].length;
      if (len < width) {
        if (flags.includes('-')) s += ' '.repeat(width - len);
        else s = (flags.includes('0') && verb !== 's' ? '0' : ' ').repeat(width - len) + s;
      }
      return s;
    },
  );
}

function len(v: Value): number {
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (v && typeof v === 'object') return Object.keys(v).length;
  return execError(`len>: error calling len: len of type ${v === NO_VALUE ? 'nil' : typeof v}`);
}

function compare(a: Value, b: Value): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return execError('lt>: error calling lt: incompatible types for comparison');
}

function equal(a: Value, b: Value): boolean {
  const na = a === NO_VALUE ? null : a;
  const nb = b === NO_VALUE ? null : b;
  return na === nb || JSON.stringify(na) === JSON.stringify(nb);
}

type Fn = (...args: Value[]) => Value;

const FUNCS: Record<string, Fn> = {
  // Go builtins (and/or are handled lazily in evalCommand)
  not: (v) => !truthy(v),
  len: (v) => len(v),
  index: (v, ...keys) => {
    let cur = v;
    for (const k of keys) {
      if (Array.isArray(cur)) cur = cur[Number(k)];
      else if (cur && typeof cur === 'object') cur = (cur as Record<string, unknown>)[String(k)] ?? NO_VALUE;
      else return NO_VALUE;
    }
    return cur === undefined ? NO_VALUE : cur;
  },
  slice: (v, ...idx) => {
    const [a = 0, b] = idx.map(Number);
    if (typeof v === 'string') return v.slice(a, b);
    if (Array.isArray(v)) return v.slice(a, b);
    return execError("slice>: can't slice item");
  },
  print: (...args) => args.map((a) => formatValue(a)).join(''),
  println: (...args) => `${args.map((a) => formatValue(a)).join(' ')}\n`,
  printf: (fmt, ...args) => printf(String(fmt), args),
  eq: (a, ...bs) => bs.some((b) => equal(a, b)),
  ne: (a, b) => !equal(a, b),
  lt: (a, b) => compare(a, b) < 0,
  le: (a, b) => compare(a, b) <= 0,
  gt: (a, b) => compare(a, b) > 0,
  ge: (a, b) => compare(a, b) >= 0,
  // docker CLI extras (cli/templates)
  json: (v) => goJson(v),
  join: (list, sep) =>
    Array.isArray(list) ? list.map((x) => formatValue(x)).join(String(sep)) : formatValue(list),
  split: (s, sep) => String(s).split(String(sep)),
  title: (s) =>
    String(s).replace(/(^|[^\p{L}\p{N}'])(\p{L})/gu, (_m, p: string, c: string) => p + c.toUpperCase()),
  lower: (s) => String(s).toLowerCase(),
  upper: (s) => String(s).toUpperCase(),
  pad: (s, left, right) => ' '.repeat(Number(left)) + formatValue(s) + ' '.repeat(Number(right)),
  truncate: (s, n) => [...String(s)].slice(0, Number(n)).join(''),
};

class Scope {
  constructor(
    readonly vars: Map<string, Value>,
    readonly parent?: Scope,
  ) {}
  get(name: string): Value {
    for (let s: Scope | undefined = this; s; s = s.parent) if (s.vars.has(name)) return s.vars.get(name);
    return execError(`${name}>: undefined variable: ${name}`);
  }
  set(name: string, v: Value): void {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      if (s.vars.has(name)) {
        s.vars.set(name, v);
        return;
      }
    }
    execError(`${name}>: undefined variable: ${name}`);
  }
}

function evalOperand(op: Operand, dot: Value, scope: Scope): Value {
  switch (op.kind) {
    case 'field':
      return walk(dot, op.path);
    case 'var':
      return walk(scope.get(op.name), op.path);
    case 'string':
    case 'number':
    case 'bool':
      return op.value;
    case 'nil':
      return null;
    case 'pipe':
      return walk(evalPipeline(op.pipe, dot, scope), op.path);
    case 'ident':
      return callFunction(op.name, [], dot, scope);
  }
}

function callFunction(name: string, args: Operand[], dot: Value, scope: Scope, piped?: { v: Value }): Value {
  if (name === 'and' || name === 'or') {
    const vals = [...args.map((a) => () => evalOperand(a, dot, scope)), ...(piped ? [() => piped.v] : [])];
    let last: Value = NO_VALUE;
    for (const get of vals) {
      last = get();
      if (name === 'and' ? !truthy(last) : truthy(last)) return last;
    }
    return last;
  }
  const fn = FUNCS[name];
  if (!fn) {
    throw new InvalidArgumentError(
      'INVALID_TEMPLATE',
      `template parsing error: template: :1: function "${name}" not defined`,
    );
  }
  const values = args.map((a) => evalOperand(a, dot, scope));
  if (piped) values.push(piped.v);
  return fn(...values);
}

function evalCommand(cmd: Command, dot: Value, scope: Scope, piped?: { v: Value }): Value {
  const [first, ...rest] = cmd.args;
  if (first?.kind === 'ident') return callFunction(first.name, rest, dot, scope, piped);
  if (rest.length > 0 || piped) {
    execError(`${formatOp(first!)}>: can't give argument to non-function ${formatOp(first!)}`);
  }
  return evalOperand(first!, dot, scope);
}

function formatOp(op: Operand): string {
  return op.kind === 'field' ? `.${op.path.join('.')}` : op.kind;
}

function evalPipeline(p: Pipeline, dot: Value, scope: Scope): Value {
  let piped: { v: Value } | undefined;
  for (const cmd of p.cmds) piped = { v: evalCommand(cmd, dot, scope, piped) };
  const v = piped!.v;
  if (p.decl.length > 0) {
    if (p.assign) scope.set(p.decl[0]!, v);
    else scope.vars.set(p.decl[0]!, v);
  }
  return v;
}

function exec(nodes: readonly Node[], dot: Value, scope: Scope, out: string[]): void {
  for (const n of nodes) {
    switch (n.kind) {
      case 'text':
        out.push(n.text);
        break;
      case 'action': {
        const v = evalPipeline(n.pipe, dot, scope);
        if (n.pipe.decl.length === 0) out.push(formatValue(v));
        break;
      }
      case 'if':
      case 'with': {
        const inner = new Scope(new Map(), scope);
        const v = evalPipeline(n.pipe, dot, inner);
        if (truthy(v)) exec(n.body, n.kind === 'with' ? v : dot, inner, out);
        else exec(n.else, dot, inner, out);
        break;
      }
      case 'range': {
        const inner = new Scope(new Map(), scope);
        const { decl, cmds } = n.pipe;
        const v = evalPipeline({ decl: [], assign: false, cmds }, dot, inner);
        let entries: [Value, Value][] = [];
        if (Array.isArray(v)) entries = v.map((x, i) => [i, x]);
        else if (v && typeof v === 'object') {
          entries = Object.keys(v)
            .sort()
            .map((k) => [k, (v as Record<string, unknown>)[k]]);
        } else if (typeof v === 'number') entries = Array.from({ length: v }, (_, i) => [i, i]);
        else if (truthy(v)) execError(`range>: range can't iterate over ${formatValue(v)}`);
        if (entries.length === 0) {
          exec(n.else, dot, inner, out);
          break;
        }
        for (const [k, x] of entries) {
          if (decl.length === 1) inner.vars.set(decl[0]!, x);
          if (decl.length === 2) {
            inner.vars.set(decl[0]!, k);
            inner.vars.set(decl[1]!, x);
          }
          exec(n.body, x, inner, out);
        }
        break;
      }
    }
  }
}

export function compileTemplate(source: string): Template {
  const nodes = parseTemplate(source);
  return {
    render(data: unknown): string {
      const out: string[] = [];
      exec(nodes, data, new Scope(new Map([['$', data]])), out);
      return out.join('');
    },
  };
}
