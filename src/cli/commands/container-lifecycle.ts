// Lifecycle commands over many names (restart, pause, unpause, rename, stop, kill, rm): each
// done name is printed in the order given, every failure is reported at the end (exit 1), as
// the docker CLI does.
import { type Command, Option } from 'commander';
import { EngineError } from '../../client/index.ts';
import { CliError, type CliContext } from '../context.ts';

/** stop/restart: `-t, --timeout` (docker 28's name) and the deprecated, hidden `--time`. */
function stopOptions(c: Command): Command {
  return c
    .option('-s, --signal <string>', 'Signal to send to the container')
    .option('-t, --timeout <int>', 'Seconds to wait before killing the container')
    .addOption(new Option('--time <int>', 'Seconds to wait before killing the container').hideHelp());
}

function stopTimeout(o: Record<string, string | boolean | undefined>): string | undefined {
  const t = (o.timeout ?? o.time) as string | undefined;
  if (t !== undefined && !/^-?\d+$/.test(t))
    throw new CliError(
      `invalid argument "${t}" for "-t, --timeout" flag: strconv.ParseInt: parsing "${t}": invalid syntax`,
      125,
    );
  return t;
}

export function registerLifecycle(program: Command, container: Command, ctx: CliContext): void {
  const simple = (
    names: string[],
    desc: string,
    fn: (id: string, opts: Record<string, string | boolean | undefined>) => Promise<void>,
    extra?: (c: Command) => Command,
  ) => {
    const grouped = container.command(names[1] ?? names[0]!);
    for (const a of names.slice(2)) grouped.alias(a);
    for (const c of [program.command(names[0]!), grouped]) {
      (extra ? extra(c) : c)
        .description(desc)
        .argument('<CONTAINER...>')
        .action(async (ids: string[], opts: Record<string, string | boolean | undefined>) => {
          const errors: string[] = [];
          let fatal = false;
          for (const id of ids) {
            try {
              await fn(id, opts);
              ctx.out.write(`${id}\n`);
            } catch (err) {
              if (!(err instanceof EngineError)) throw err;
              errors.push(`Error response from daemon: ${err.message}`);
              // docker's `rm -f` reports a missing container but does not fail on it.
              if (!(names[0] === 'rm' && opts.force && err.status === 404)) fatal = true;
            }
          }
          if (errors.length > 0 && fatal) throw new CliError(errors.join('\n'));
          if (errors.length > 0) ctx.err.write(`${errors.join('\n')}\n`);
        });
    }
  };
  simple(
    ['restart'],
    'Restart one or more containers',
    (id, o) =>
      ctx
        .client()
        .raw('POST', `/containers/${id}/restart`, {
          query: { t: stopTimeout(o), signal: o.signal as string | undefined },
        })
        .then(() => {}),
    (c) => stopOptions(c),
  );
  for (const verb of ['pause', 'unpause'] as const) {
    simple(
      [verb],
      verb === 'pause'
        ? 'Pause all processes within one or more containers'
        : 'Unpause all processes within one or more containers',
      (id) =>
        ctx
          .client()
          .raw('POST', `/containers/${id}/${verb}`)
          .then(() => {}),
    );
  }
  for (const c of [program.command('rename'), container.command('rename')]) {
    c.description('Rename a container')
      .argument('<CONTAINER>')
      .argument('<NEW_NAME>')
      .action(async (id: string, name: string) => {
        const old = id.trim();
        const next = name.trim();
        if (!old || !next) throw new CliError('Error: Neither old nor new names may be empty');
        await ctx
          .client()
          .raw('POST', `/containers/${encodeURIComponent(old)}/rename`, { query: { name: next } });
      });
  }
  simple(
    ['stop'],
    'Stop one or more running containers',
    (id, o) =>
      ctx
        .client()
        .raw('POST', `/containers/${id}/stop`, {
          query: { t: stopTimeout(o), signal: o.signal as string | undefined },
        })
        .then(() => {}),
    (c) => stopOptions(c),
  );
  simple(
    ['kill'],
    'Kill one or more running containers',
    (id, o) =>
      ctx
        .client()
        .raw('POST', `/containers/${id}/kill`, { query: { signal: o.signal as string | undefined } })
        .then(() => {}),
    (c) => c.option('-s, --signal <string>', 'Signal to send to the container'),
  );
  simple(
    ['rm', 'rm', 'remove'],
    'Remove one or more containers',
    (id, o) =>
      ctx
        .client()
        .raw('DELETE', `/containers/${id}`, {
          query: { force: Boolean(o.force), v: Boolean(o.volumes), ...(o.link ? { link: true } : {}) },
        })
        .then(() => {}),
    (c) =>
      c
        .option('-f, --force', 'Force the removal of a running container (uses SIGKILL)')
        .option('-l, --link', 'Remove the specified link')
        .option('-v, --volumes', 'Remove anonymous volumes associated with the container'),
  );
}
