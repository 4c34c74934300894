// One error type for everything wrong in a compose model: the CLI prints it as
// `FILE:LINE:COL: message` so the user sees where to look and what to change.

export interface Where {
  readonly file?: string;
  readonly line?: number;
  readonly col?: number;
}

export class ComposeError extends Error {
  readonly where: Where;
  /** Where in the model the problem is, for the loader to find the file and line it came from. */
  readonly modelPath: readonly (string | number)[] | undefined;
  constructor(message: string, where: Where = {}, modelPath?: readonly (string | number)[]) {
    super(message);
    this.name = 'ComposeError';
    this.where = where;
    this.modelPath = modelPath;
  }

  /** `file:line:col: message` (the parts that are known). */
  describe(): string {
    const { file, line, col } = this.where;
    if (!file) return this.message;
    const pos = line !== undefined ? `:${line}${col !== undefined ? `:${col}` : ''}` : '';
    return `${file}${pos}: ${this.message}`;
  }
}
