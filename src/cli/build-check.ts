// TEMPORARY: replaced by the check helper's version.
import { CliError, type CliContext } from './context.ts';

export async function runChecks(
  _ctx: CliContext,
  _contextArg: string,
  _file: string | undefined,
): Promise<void> {
  throw new CliError('build --check is not available yet', 1);
}
