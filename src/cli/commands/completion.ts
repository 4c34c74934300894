// berth completion bash|zsh|fish, and the hidden `__complete` command the scripts call.
//
// Like cobra (docker's completion), the scripts are thin: they hand the words typed so far to
// `berth __complete -- WORDS…`, which walks commander's own command tree (subcommands, aliases,
// flags, flags taking a value) and asks the daemon for container, image, volume and network
// names where docker completes them. No completion library: the ones for Node (omelette,
// tabtab) want their own command model or write to the user's shell rc files; walking the tree
// commander already has is a few dozen lines and stays right as commands change.
import type { Command, Option } from 'commander';
import { CliError, type CliContext } from '../context.ts';
import { ContextStore, configDir, DEFAULT_CONTEXT } from '../contexts/index.ts';
import { createContext } from '../context.ts';
import { resolveConnection } from '../contexts/index.ts';

type Source = 'containers' | 'running' | 'images' | 'volumes' | 'networks' | 'contexts';

// Which names a command's arguments take, keyed by its path without "berth".
const ARGUMENTS: Readonly<Record<string, Source>> = {
  attach: 'running',
  exec: 'running',
  kill: 'running',
  pause: 'running',
  stop: 'running',
  top: 'running',
  stats: 'running',
  start: 'containers',
  restart: 'containers',
  rm: 'containers',
  logs: 'containers',
  inspect: 'containers',
  port: 'containers',
  rename: 'containers',
  unpause: 'containers',
  update: 'containers',
  wait: 'containers',
  diff: 'containers',
  export: 'containers',
  commit: 'containers',
  cp: 'containers',
  run: 'images',
  create: 'images',
  rmi: 'images',
  history: 'images',
  tag: 'images',
  push: 'images',
  save: 'images',
  'volume rm': 'volumes',
  'volume inspect': 'volumes',
  'network rm': 'networks',
  'network inspect': 'networks',
  'network connect': 'networks',
  'network disconnect': 'networks',
  'context use': 'contexts',
  'context rm': 'contexts',
  'context inspect': 'contexts',
  'context export': 'contexts',
  'context update': 'contexts',
};
// `container X` and `image X` complete like their top-level forms.
const GROUP_ALIASES: Readonly<Record<string, string>> = { 'image rm': 'rmi', 'image history': 'history' };

export function completionScript(shell: string, bin = 'berth'): string {
  switch (shell) {
    case 'bash':
      return `# bash completion for ${bin}: source it, or put it in /etc/bash_completion.d/${bin}
_${bin}_complete() {
  local IFS=$'\\n'
  COMPREPLY=( $("\${COMP_WORDS[0]}" __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) )
}
complete -o default -o nospace -F _${bin}_complete ${bin}
`;
    case 'zsh':
      return `#compdef ${bin}
# zsh completion for ${bin}: put it in a directory of $fpath as _${bin}, or source it
_${bin}() {
  local -a completions
  completions=("\${(@f)$("\${words[1]}" __complete -- "\${(@)words[2,$CURRENT]}" 2>/dev/null)}")
  compadd -S '' -a completions
}
if [ "$funcstack[1]" = "_${bin}" ]; then
  _${bin} "$@"
else
  compdef _${bin} ${bin}
fi
`;
    case 'fish':
      return `# fish completion for ${bin}: put it in ~/.config/fish/completions/${bin}.fish
function __${bin}_complete
    set -l tokens (commandline -opc) (commandline -ct)
    $tokens[1] __complete -- $tokens[2..-1] 2>/dev/null
end
complete -c ${bin} -f -a '(__${bin}_complete)'
`;
    default:
      throw new CliError(`unsupported shell "${shell}": use bash, zsh or fish`);
  }
}

function takesValue(o: Option): boolean {
  return o.required || o.optional;
}

function findOption(cmd: Command, flag: string): Option | undefined {
  const name = flag.split('=')[0];
  return cmd.options.find((o) => o.long === name || o.short === name);
}

/** The candidates for the last of `words` (the word being typed), given the ones before it. */
export async function complete(
  program: Command,
  words: readonly string[],
  names: (source: Source, globals: { host?: string; context?: string }) => Promise<string[]>,
): Promise<string[]> {
  const cur = words.at(-1) ?? '';
  const done = words.slice(0, -1);
  let cmd = program;
  const path: string[] = [];
  const globals: { host?: string; context?: string } = {};
  let positional = 0;
  for (let i = 0; i < done.length; i++) {
    const w = done[i]!;
    if (w.startsWith('-') && w !== '-') {
      const opt = findOption(cmd, w) ?? (cmd === program ? undefined : findOption(program, w));
      if (opt && takesValue(opt) && !w.includes('=')) {
        const value = done[i + 1];
        if (cmd === program && value !== undefined) {
          if (opt.long === '--host') globals.host = value;
          if (opt.long === '--context') globals.context = value;
        }
        i++;
      }
      continue;
    }
    const sub =
      positional === 0 ? cmd.commands.find((c) => c.name() === w || c.aliases().includes(w)) : undefined;
    if (sub) {
      cmd = sub;
      path.push(sub.name());
      continue;
    }
    positional++;
  }
  // The value of an option that takes one: nothing to offer (the shell completes files).
  const prev = done.at(-1);
  if (prev?.startsWith('-') && !prev.includes('=')) {
    const opt = findOption(cmd, prev) ?? findOption(program, prev);
    if (opt && takesValue(opt)) return [];
  }
  let out: string[];
  if (cur.startsWith('-')) {
    out = cmd.options.flatMap((o) => [o.long, o.short]).filter((f): f is string => f !== undefined);
    out.push('--help');
  } else if (cmd.commands.length > 0 && positional === 0) {
    out = cmd.commands
      .filter((c) => !(c as Command & { _hidden?: boolean })._hidden)
      .flatMap((c) => [c.name(), ...c.aliases()]);
  } else {
    let key = path.join(' ');
    key = GROUP_ALIASES[key] ?? key.replace(/^(container|image) /, '');
    const source = ARGUMENTS[key];
    // run/create take one image, then the command: only the first argument is an image.
    const single = ['run', 'create', 'rename', 'commit', 'tag', 'export', 'diff', 'port', 'top', 'logs'];
    if (!source || (single.includes(key) && positional > 0)) return [];
    out = await names(source, globals).catch(() => []);
  }
  return [...new Set(out)].filter((c) => c.startsWith(cur)).sort();
}

async function daemonNames(source: Source, globals: { host?: string; context?: string }): Promise<string[]> {
  if (source === 'contexts') {
    const metas = await new ContextStore(configDir(process.env)).list();
    return [DEFAULT_CONTEXT, ...metas.map((m) => m.Name)];
  }
  const client = createContext((await resolveConnection(globals)).host).client();
  switch (source) {
    case 'containers':
    case 'running': {
      const list = await client.json<{ Names: string[] }[]>('GET', '/containers/json', {
        query: { all: source === 'containers' || undefined },
      });
      return list.flatMap((c) => c.Names.map((n) => n.replace(/^\//, '')));
    }
    case 'images': {
      const list = await client.json<{ RepoTags?: string[] | null }[]>('GET', '/images/json');
      return list.flatMap((i) => (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'));
    }
    case 'volumes': {
      const r = await client.json<{ Volumes?: { Name: string }[] | null }>('GET', '/volumes');
      return (r.Volumes ?? []).map((v) => v.Name);
    }
    case 'networks': {
      const list = await client.json<{ Name: string }[]>('GET', '/networks');
      return list.map((n) => n.Name);
    }
  }
}

export function registerCompletion(program: Command, ctx: CliContext): void {
  program
    .command('completion')
    .description('Generate the autocompletion script for the specified shell')
    .argument('<bash|zsh|fish>')
    .action((shell: string) => {
      ctx.out.write(completionScript(shell));
    });
  program
    .command('__complete', { hidden: true })
    .description('Print completion candidates for the words typed so far (used by the scripts)')
    .argument('[WORDS...]')
    .allowUnknownOption()
    .action(async (words: string[]) => {
      const out = await complete(program, words.length > 0 ? words : [''], daemonNames);
      ctx.out.write(out.map((c) => `${c}\n`).join(''));
    });
}
