import { InvalidArgumentError } from '../../errdefs/index.ts';

/** A Dockerfile that cannot be parsed: the message names the line and what is wrong. */
export class DockerfileSyntaxError extends InvalidArgumentError {
  readonly line: number;
  readonly column: number;
  constructor(line: number, message: string, column = 1) {
    super('DOCKERFILE_SYNTAX', `Dockerfile:${line}: ${message}`);
    this.line = line;
    this.column = column;
  }
}
