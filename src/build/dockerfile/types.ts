// The typed shape of a parsed Dockerfile. The parser (parser.ts) is pure: text in, this out.
// Variables are NOT expanded here: expansion needs the build's args and each stage's env,
// so the executor calls expand.ts on the words Docker expands, instruction by instruction.

/** 1-based line and column in the Dockerfile. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

export interface Range {
  readonly start: Position;
  readonly end: Position;
}

export interface Directives {
  /** `# syntax=` (accepted and ignored by the builder). */
  readonly syntax?: string;
  /** `# escape=`: `\` (default) or `` ` ``. */
  readonly escape: '\\' | '`';
  /** `# check=` raw value, e.g. `skip=JSONArgsRecommended;error=true`. */
  readonly check?: string;
}

/** `--name=value` (or `--name` alone: value is undefined) before an instruction's arguments. */
export interface Flag {
  readonly name: string;
  readonly value?: string;
}

export interface Heredoc {
  /** The delimiter word without quotes, e.g. `EOF`. */
  readonly name: string;
  /** Body lines joined with `\n`, ending in `\n` (leading tabs removed for `<<-`). */
  readonly content: string;
  /** False when the delimiter was quoted (`<<"EOF"`, `<<'EOF'`): no variable expansion. */
  readonly expand: boolean;
  /** `<<-EOF` */
  readonly stripTabs: boolean;
}

/** Shell form (one string for `/bin/sh -c`) or exec form (a JSON array). */
export type CommandLine =
  | { readonly form: 'shell'; readonly text: string }
  | { readonly form: 'exec'; readonly args: readonly string[] };

interface Base {
  readonly range: Range;
  /** The instruction as written (continuations joined, heredoc bodies excluded), for messages and history. */
  readonly original: string;
  /** Flags as written, still unexpanded. Instructions that take none reject any at parse time. */
  readonly flags: readonly Flag[];
  /** Heredocs attached to this instruction, in order (RUN, COPY, ADD only). */
  readonly heredocs: readonly Heredoc[];
}

/** KEY=value pair as written: quotes and variables are still in `value`; expand.ts removes and expands them. */
export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

export type Instruction =
  | (Base & {
      readonly kind: 'FROM';
      readonly image: string;
      readonly alias?: string;
      readonly platform?: string;
    })
  | (Base & { readonly kind: 'RUN'; readonly command: CommandLine })
  | (Base & { readonly kind: 'CMD'; readonly command: CommandLine })
  | (Base & { readonly kind: 'ENTRYPOINT'; readonly command: CommandLine })
  | (Base & { readonly kind: 'SHELL'; readonly shell: readonly string[] })
  /** `legacy`: written `ENV key value` / `LABEL`-less form with a space instead of `=`. */
  | (Base & { readonly kind: 'ENV'; readonly pairs: readonly KeyValue[]; readonly legacy: boolean })
  | (Base & { readonly kind: 'LABEL'; readonly pairs: readonly KeyValue[]; readonly legacy: boolean })
  | (Base & {
      readonly kind: 'ARG';
      readonly args: readonly { readonly name: string; readonly default?: string }[];
    })
  | (Base & { readonly kind: 'MAINTAINER'; readonly name: string })
  | (Base & { readonly kind: 'EXPOSE'; readonly ports: readonly string[] })
  /**
   * COPY and ADD: `sources` and `dest` are unexpanded words (quotes of the JSON form already
   * removed). With heredocs, a source word `<<EOF` names the heredoc with that delimiter.
   */
  | (Base & {
      readonly kind: 'COPY' | 'ADD';
      readonly sources: readonly string[];
      readonly dest: string;
    })
  | (Base & { readonly kind: 'VOLUME'; readonly paths: readonly string[] })
  | (Base & { readonly kind: 'USER'; readonly user: string })
  | (Base & { readonly kind: 'WORKDIR'; readonly path: string })
  /** `trigger` is the instruction text after ONBUILD, e.g. `RUN echo hi` (parsed again in the child build). */
  | (Base & { readonly kind: 'ONBUILD'; readonly trigger: string })
  | (Base & { readonly kind: 'STOPSIGNAL'; readonly signal: string })
  | (Base & {
      readonly kind: 'HEALTHCHECK';
      /** undefined for `HEALTHCHECK NONE`. */
      readonly command?: CommandLine;
    });

export type InstructionKind = Instruction['kind'];

export interface Stage {
  /** Index in the Dockerfile, from 0. */
  readonly index: number;
  readonly from: Extract<Instruction, { kind: 'FROM' }>;
  /** Lower-cased `AS name` (stage names are case-insensitive). */
  readonly name?: string;
  /** Instructions after FROM up to the next FROM. */
  readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
  readonly directives: Directives;
  /** ARG instructions before the first FROM. */
  readonly metaArgs: readonly Extract<Instruction, { kind: 'ARG' }>[];
  readonly stages: readonly Stage[];
  /** Non-fatal findings of the parser (e.g. empty continuation lines), for `--check` and warnings. */
  readonly warnings: readonly ParseWarning[];
}

export interface ParseWarning {
  /** Rule name as in Docker's build checks, e.g. `NoEmptyContinuation`. */
  readonly rule: string;
  readonly message: string;
  readonly range: Range;
}
