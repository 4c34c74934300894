// The shapes shared by the Dockerfile checker's rules (`berth build --check`).
import type { Dockerfile } from '../dockerfile/types.ts';

export type Level = 'warning' | 'error';

/** One problem found in a Dockerfile. `line` is 1-based; 0 means the finding has no line (e.g. the context). */
export interface Finding {
  readonly rule: string;
  readonly level: Level;
  /** What is wrong and what to do about it. */
  readonly message: string;
  readonly line: number;
  /** A page describing the rule (Docker's rules link to Docker's reference). */
  readonly url?: string;
}

export interface CheckOptions {
  /** Bytes in the build context (after nothing is excluded); enables LargeContextWithoutDockerignore. */
  readonly contextSize?: number;
  /** Whether the context has a .dockerignore. */
  readonly hasDockerignore?: boolean;
  /** True when .dockerignore excludes this context-relative path (`dir/file`, no leading `./`). */
  readonly ignoredPaths?: (p: string) => boolean;
}

/** What a rule sees: the parsed file, its raw lines and the caller's options. */
export interface RuleInput {
  readonly df: Dockerfile;
  /** The Dockerfile split into lines (index 0 is line 1). */
  readonly lines: readonly string[];
  readonly opts: CheckOptions;
}

/** A rule reports a message and a line; the engine adds the name, level and URL. */
export interface Report {
  readonly message: string;
  readonly line: number;
}

export interface Rule {
  readonly name: string;
  /** Docker's experimental rules run only when `# check=experimental=` names them (as in Docker). */
  readonly experimental?: boolean;
  readonly url?: string;
  run(input: RuleInput): Report[];
}

/** Docker's reference page for one of its rule names. */
export function dockerRuleUrl(name: string): string {
  const kebab = name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/([A-Z])([A-Z][a-z])/g, '$1-$2');
  return `https://docs.docker.com/go/dockerfile/rule/${kebab.toLowerCase()}/`;
}
