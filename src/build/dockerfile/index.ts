export { DockerfileSyntaxError } from './errors.ts';
export { expandWord, expandWords, type Lookup, variablesIn } from './expand.ts';
export { parseDockerfile, parseInstruction } from './parser.ts';
export type * from './types.ts';
