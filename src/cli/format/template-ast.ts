// The syntax tree of a parsed Go text/template and its canonical printing (Go's String()).
import { goQuote } from './gofmt.ts';
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
export type EndOrElse =
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
