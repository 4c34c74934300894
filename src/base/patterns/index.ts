// User patterns: the one way the daemon turns text a user typed into a matcher. Both kinds run
// in time linear in the input (see each file for why), and a malformed pattern is a 400 that
// names it. Nothing else in src/ may build a RegExp or a glob from user input.
export {
  BadPatternError,
  compileGlob,
  type Glob,
  type GlobOptions,
  globMatch,
  hasGlobMeta,
} from './glob.ts';
export { compileRegex, MAX_REGEX_LENGTH, MAX_REGEX_PROGRAM, type UserRegex } from './regex.ts';
