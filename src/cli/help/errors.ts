// Usage errors worded and numbered as the docker CLI words them: a bad flag is exit 125 with
// the command's usage line and "Run '… --help' for more information"; a wrong number of
// arguments or an unknown command is exit 1 ("docker: 'docker rm' requires at least 1
// argument", "docker: unknown command: docker nosuch").
import type { Command, CommanderError } from 'commander';
import { commandPath, usageLine } from './layout.ts';

export interface UsageError {
  readonly text: string;
  readonly code: number;
}

function plural(n: number): string {
  return `${n} argument${n === 1 ? '' : 's'}`;
}

/** docker's wording for an argument count: "requires 1 argument", "requires at least 2 arguments". */
export function argumentCountMessage(cmd: Command): string {
  const args = cmd.registeredArguments;
  const required = args.filter((a) => a.required).length;
  const open = args.some((a) => a.variadic || !a.required);
  if (required === 0) return `accepts at most ${plural(args.length)}`;
  return open ? `requires at least ${plural(required)}` : `requires ${plural(required)}`;
}

function quoted(msg: string): string {
  return /'([^']+)'/.exec(msg)?.[1] ?? msg;
}

export function usageError(err: CommanderError, cmd: Command): UsageError {
  const path = commandPath(cmd).join(' ');
  const prog = commandPath(cmd)[0] ?? 'berth';
  const usage = `\nUsage:  ${usageLine(cmd)}\n\n`;
  const flagError = (first: string): UsageError => ({
    text: `${first}\n${usage}Run '${path} --help' for more information\n`,
    code: 125,
  });
  const msg = err.message.replace(/^error: /, '');
  switch (err.code) {
    case 'commander.unknownOption': {
      const flag = quoted(msg);
      if (/^-[^-]/.test(flag)) return flagError(`unknown shorthand flag: '${flag[1]}' in ${flag}`);
      return flagError(`unknown flag: ${flag.split('=')[0]}`);
    }
    case 'commander.optionMissingArgument': {
      const long = /--[a-z0-9-]+/.exec(quoted(msg))?.[0] ?? quoted(msg);
      return flagError(`flag needs an argument: ${long}`);
    }
    case 'commander.invalidArgument':
      // commander prefixes "option '…' argument '…' is invalid."; the parser's own text is docker's.
      return flagError(msg.replace(/^option '[^']*' argument '[^']*' is invalid\. /, ''));
    case 'commander.missingArgument':
    case 'commander.excessArguments': {
      // docker's exact-count check ends "Run '…'", its at-least/at-most checks "See '…'".
      const count = argumentCountMessage(cmd);
      const verb = /at (least|most)/.test(count) ? 'See' : 'Run';
      return {
        text: `${prog}: '${path}' ${count}\n${usage}${verb} '${path} --help' for more information\n`,
        code: 1,
      };
    }
    case 'commander.unknownCommand': {
      const name = quoted(msg);
      const groupUsage = cmd.parent ? `\nUsage:  ${path}\n` : '';
      return {
        text: `${prog}: unknown command: ${path} ${name}\n${groupUsage}\nRun '${path} --help' for more information\n`,
        code: 1,
      };
    }
    default:
      return flagError(`${prog}: ${msg}`);
  }
}
