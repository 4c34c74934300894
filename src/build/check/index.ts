// `berth build --check`: reports Dockerfile problems without building. Pure: the caller reads the
// Dockerfile and measures the context; this parses, applies `# check=` and runs the rules.
import { DockerfileSyntaxError } from '../dockerfile/errors.ts';
import { parseDockerfile } from '../dockerfile/parser.ts';
import type { Dockerfile } from '../dockerfile/types.ts';
import {
  type CheckConfig,
  CheckDirectiveError,
  DEFAULT_CHECK_CONFIG,
  parseCheckDirective,
  rawDirectives,
} from './directive.ts';
import { ALL_RULES } from './rules.ts';
import { type CheckOptions, dockerRuleUrl, type Finding } from './types.ts';

export type { CheckConfig } from './directive.ts';
export { parseCheckDirective } from './directive.ts';
export { ALL_RULES, BERTH_RULES, DOCKER_RULES } from './rules.ts';
export { LARGE_CONTEXT_BYTES } from './rules-berth.ts';
export type { CheckOptions, Finding, Level, Rule } from './types.ts';

export interface CheckResult {
  readonly findings: Finding[];
  /** True when the check should fail: an error, or any finding under `# check=error=true`. */
  readonly failed: boolean;
}

function enabled(config: CheckConfig, name: string, experimental: boolean): boolean {
  if (config.skipAll || config.skip.has(name)) return false;
  if (!experimental) return true;
  return config.experimental === 'all' || config.experimental.has(name);
}

export function checkDockerfile(text: string, opts: CheckOptions = {}): CheckResult {
  const lines = text.split(/\r?\n/);
  const findings: Finding[] = [];

  let config = DEFAULT_CHECK_CONFIG;
  const directive = rawDirectives(lines).find((d) => d.key === 'check');
  try {
    config = parseCheckDirective(directive?.value);
  } catch (err) {
    if (!(err instanceof CheckDirectiveError)) throw err;
    findings.push({
      rule: 'CheckDirective',
      level: 'error',
      message: err.message,
      line: directive?.line ?? 0,
    });
  }

  let df: Dockerfile;
  try {
    df = parseDockerfile(text);
  } catch (err) {
    if (!(err instanceof DockerfileSyntaxError)) throw err;
    const message = err.message.replace(/^Dockerfile:\d+: /, '');
    // The parser refuses duplicate stage names (the build would fail on them); report it under
    // Docker's rule name so the finding reads the same as Docker's.
    const duplicate = /^duplicate stage name/i.test(message);
    findings.push({
      rule: duplicate ? 'DuplicateStageName' : 'SyntaxError',
      level: 'error',
      message: duplicate ? `D${message.slice(1)}` : message,
      line: err.line,
      ...(duplicate ? { url: dockerRuleUrl('DuplicateStageName') } : {}),
    });
    return { findings, failed: true };
  }
  if (df.stages.length === 0) {
    findings.push({
      rule: 'SyntaxError',
      level: 'error',
      message: 'the Dockerfile has no FROM instruction: start a stage with FROM <image>',
      line: 0,
    });
    return { findings, failed: true };
  }

  const input = { df, lines, opts };
  for (const rule of ALL_RULES) {
    if (!enabled(config, rule.name, rule.experimental === true)) continue;
    for (const r of rule.run(input)) {
      findings.push({
        rule: rule.name,
        level: 'warning',
        message: r.message,
        line: r.line,
        ...(rule.url !== undefined ? { url: rule.url } : {}),
      });
    }
  }
  // Parser warnings no rule above turns into a finding are passed on as they are.
  const covered = new Set([...ALL_RULES.map((r) => r.name), 'NoEmptyContinuations']);
  for (const w of df.warnings) {
    if (covered.has(w.rule) || !enabled(config, w.rule, false)) continue;
    findings.push({ rule: w.rule, level: 'warning', message: w.message, line: w.range.start.line });
  }

  findings.sort((a, b) => a.line - b.line || a.rule.localeCompare(b.rule));
  const failed = findings.some((f) => f.level === 'error') || (config.error && findings.length > 0);
  return { findings, failed };
}
