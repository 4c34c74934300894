// `--help` in the docker CLI's layout (cobra's templates as docker configures them): a
// `Usage:  berth …` line, the description, `Aliases:`, then `Options:` with docker's flag
// column (short flags at two spaces, long-only flags at six, description at the widest flag
// plus three, wrapped to the terminal or 80 columns); the top level groups its commands into
// Common / Management / Commands and lists Global Options. Pure over commander's objects.
import type { Command, Option } from 'commander';
import { dockerDefaultHint } from './defaults.ts';

/** docker's "Common Commands", in docker's order. */
const COMMON = [
  'run',
  'exec',
  'ps',
  'build',
  'pull',
  'push',
  'images',
  'login',
  'logout',
  'search',
  'version',
  'info',
];

/** Usage lines whose arguments do not follow from commander's argument list. */
const USAGE_OVERRIDES: Record<string, string> = {
  run: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  create: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  exec: '[OPTIONS] CONTAINER COMMAND [ARG...]',
  build: '[OPTIONS] PATH | URL | -',
  top: 'CONTAINER [ps OPTIONS]',
};

export function commandPath(cmd: Command): string[] {
  const out: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) out.unshift(c.name());
  return out;
}

function root(cmd: Command): Command {
  let c = cmd;
  while (c.parent) c = c.parent;
  return c;
}

function visibleCommands(cmd: Command): Command[] {
  return cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
}

function isGroup(cmd: Command): boolean {
  return visibleCommands(cmd).length > 0;
}

/** `<CONTAINER...>` → `CONTAINER [CONTAINER...]`, as docker writes its usage lines. */
function argumentUsage(cmd: Command): string {
  return cmd.registeredArguments
    .map((a) => {
      const name = a.name();
      if (a.required) return a.variadic ? `${name} [${name}...]` : name;
      return a.variadic ? `[${name}...]` : `[${name}]`;
    })
    .join(' ');
}

function hasVisibleOptions(cmd: Command): boolean {
  return visibleOptions(cmd).some((o) => o.long !== '--help');
}

/** The text after `Usage:  ` (also used by error messages). */
export function usageLine(cmd: Command): string {
  const path = commandPath(cmd).join(' ');
  if (!cmd.parent) return `${path} [OPTIONS] COMMAND`;
  if (isGroup(cmd)) return `${path} COMMAND`;
  const override = USAGE_OVERRIDES[cmd.name()];
  if (override) return `${path} ${override}`;
  const parts = [path, hasVisibleOptions(cmd) ? '[OPTIONS]' : '', argumentUsage(cmd)];
  return parts.filter(Boolean).join(' ');
}

/** Every command in the tree with the same description as `cmd` and the same role (docker's aliases). */
function twins(cmd: Command): Command[] {
  const all: Command[] = [];
  const walk = (c: Command) => {
    for (const s of c.commands) {
      all.push(s);
      walk(s);
    }
  };
  walk(root(cmd));
  return all.filter((c) => c.description() === cmd.description() && !isGroup(c) && c.parent !== null);
}

/** docker's Aliases line: the command in its group with its aliases, then the top-level form, then others. */
export function aliasPaths(cmd: Command): string[] {
  const ts = twins(cmd);
  const grouped = ts.filter((c) => c.parent?.parent);
  const top = ts.filter((c) => !c.parent?.parent);
  const ordered = [...grouped.slice(0, 1), ...top, ...grouped.slice(1)];
  const out: string[] = [];
  for (const c of ordered) {
    const prefix = commandPath(c).slice(0, -1).join(' ');
    for (const n of [c.name(), ...c.aliases()]) out.push(`${prefix} ${n}`);
  }
  return out;
}

function visibleOptions(cmd: Command): Option[] {
  const opts = cmd.options.filter((o) => !o.hidden);
  // docker hides its help flag, except where -h means something else (run's --hostname).
  if (opts.some((o) => o.short === '-h')) return [...opts, cmd.createOption('--help', 'Print usage')];
  return opts;
}

/** The type word docker prints after a flag (`string`, `list`, `int`...). */
function typeWord(o: Option): string {
  return /[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1]?.replace(/\.\.\.$/, '') ?? '';
}

function defaultText(o: Option, command: string): string {
  const hint = dockerDefaultHint(command, o.long);
  if (hint !== undefined) return hint === '' ? '' : ` (default ${hint})`;
  const d = o.defaultValue as unknown;
  if (d === undefined || d === false || d === '' || d === 0 || (Array.isArray(d) && d.length === 0))
    return '';
  if (o.negate) return '';
  if (typeof d === 'string') return ` (default "${d}")`;
  if (typeof d === 'number' || typeof d === 'boolean') return ` (default ${d})`;
  return '';
}

/** Wraps `text` to `width - indent` columns, continuation lines indented (pflag's wrapping). */
export function wrapText(text: string, indent: number, width: number): string {
  let avail = width - indent;
  let lead = '';
  if (avail < 24) {
    indent = 16;
    avail = width - indent;
    lead = `\n${' '.repeat(indent)}`;
  }
  if (avail < 24) return lead + text;
  const slop = 5;
  const target = avail - slop;
  const lines: string[] = [];
  for (const para of text.split('\n')) {
    let s = para;
    while (s.length >= target + slop) {
      const cut = s.lastIndexOf(' ', target - 1);
      if (cut <= 0) break;
      lines.push(s.slice(0, cut));
      s = s.slice(cut + 1);
    }
    lines.push(s);
  }
  return lead + lines.join(`\n${' '.repeat(indent)}`);
}

/** The flag table: `  -f, --force   Force …` / `      --format string   …`, sorted by long name. */
export function flagTable(options: readonly Option[], width: number, command = ''): string {
  const rows = [...options]
    .sort((a, b) => (a.long ?? '').localeCompare(b.long ?? ''))
    .map((o) => {
      const t = typeWord(o);
      const head = `${o.short ? `  ${o.short}, ` : '      '}${o.long ?? ''}${t ? ` ${t}` : ''}`;
      return { head, text: `${o.description}${defaultText(o, command)}` };
    });
  const col = Math.max(0, ...rows.map((r) => r.head.length)) + 3;
  return rows.map((r) => `${r.head.padEnd(col)}${wrapText(r.text, col, width)}`.trimEnd()).join('\n');
}

function commandList(cmds: readonly Command[], pad: number): string {
  return cmds.map((c) => `  ${c.name().padEnd(pad)} ${c.description()}`).join('\n');
}

function topLevelHelp(cmd: Command, width: number): string {
  const cmds = visibleCommands(cmd);
  const byName = new Map(cmds.map((c) => [c.name(), c]));
  const pad = Math.max(11, ...cmds.map((c) => c.name().length));
  const common = COMMON.map((n) => byName.get(n)).filter((c): c is Command => c !== undefined);
  const sorted = (cs: Command[]) => cs.sort((a, b) => a.name().localeCompare(b.name()));
  const management = sorted(cmds.filter((c) => isGroup(c)));
  const rest = sorted(cmds.filter((c) => !isGroup(c) && !COMMON.includes(c.name())));
  return [
    `Usage:  ${usageLine(cmd)}`,
    cmd.description(),
    `Common Commands:\n${commandList(common, pad)}`,
    `Management Commands:\n${commandList(management, pad)}`,
    `Commands:\n${commandList(rest, pad)}`,
    `Global Options:\n${flagTable(visibleOptions(cmd), width)}`,
    `Run '${cmd.name()} COMMAND --help' for more information on a command.`,
  ].join('\n\n');
}

/** The whole `--help` text of `cmd`, ending with a newline. */
export function formatHelp(cmd: Command, width: number): string {
  if (!cmd.parent) return `${topLevelHelp(cmd, width)}\n`;
  const parts = [`Usage:  ${usageLine(cmd)}`, cmd.description()];
  const aliases = aliasPaths(cmd);
  if (aliases.length > 1 || cmd.aliases().length > 0) parts.push(`Aliases:\n  ${aliases.join(', ')}`);
  if (isGroup(cmd)) {
    const subs = visibleCommands(cmd).sort((a, b) => a.name().localeCompare(b.name()));
    const pad = Math.max(11, ...subs.map((c) => c.name().length));
    parts.push(`Commands:\n${commandList(subs, pad)}`);
    parts.push(`Run '${commandPath(cmd).join(' ')} COMMAND --help' for more information on a command.`);
    return `${parts.join('\n\n')}\n`;
  }
  const opts = visibleOptions(cmd);
  if (opts.length > 0) parts.push(`Options:\n${flagTable(opts, width, cmd.name())}`);
  return `${parts.join('\n\n')}\n`;
}

/** docker wraps flag help one column short of the terminal's width (80 without a terminal). */
export function helpWidth(out: NodeJS.WriteStream): number {
  return (out.isTTY && out.columns ? out.columns : 80) - 1;
}
