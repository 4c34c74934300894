// Every rule `berth build --check` runs: Docker's build checks (same names, so `# check=skip=`
// lines written for Docker work here) and Berth's best-practice rules.
import { berthRules } from './rules-berth.ts';
import { styleRules } from './rules-style.ts';
import { variableRules } from './rules-vars.ts';
import { dockerRuleUrl, type Rule } from './types.ts';

export const DOCKER_RULES: readonly Rule[] = [...styleRules(), ...variableRules()].map((r) => ({
  ...r,
  url: dockerRuleUrl(r.name),
}));

export const BERTH_RULES: readonly Rule[] = berthRules();

export const ALL_RULES: readonly Rule[] = [...DOCKER_RULES, ...BERTH_RULES];
