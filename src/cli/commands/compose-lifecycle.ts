// The compose commands over existing containers: ps, logs, start/stop/restart/kill/rm,
// pause/unpause, top, port, images, ls, version (exec and run are in compose-run.ts). Each finds
// the project's containers by Compose v2's labels, so they also act on projects another compose
// program created.
import type { Command } from 'commander';
import { BERTH_VERSION } from '../../base/version.ts';
import {
  type ContainerSummary,
  ComposeApi,
  inDependencyOrder,
  LABEL,
  type Project,
  services,
  withRestartDependents,
} from '../../compose/index.ts';
import { CliError, collect } from '../context.ts';
import { renderList } from '../format/index.ts';
import type { ComposeContext } from './compose.ts';
import { followProject } from './compose-logs.ts';
import { composeAction } from './compose-up.ts';

const nameOf = (c: ContainerSummary) => (c.Names[0] ?? '').replace(/^\//, '');

export function registerComposeLifecycle(compose: Command, cc: ComposeContext): void {
  const ctx = cc.cli;
  const api = () => new ComposeApi(ctx.client());
  const progress = (l: string) => ctx.err.write(` ${l}\n`);

  /** The project's service containers, of `names` (all when empty). */
  const containersOf = async (p: Project, names: readonly string[], all = true) => {
    for (const n of names) if (!Object.hasOwn(services(p), n)) throw new CliError(`no such service: ${n}`, 1);
    const cs = await api().containers(p.name, { oneoff: false, all });
    return cs.filter((c) => names.length === 0 || names.includes(c.Labels[LABEL.service] ?? ''));
  };

  compose
    .command('ps')
    .description('List containers')
    .argument('[services...]')
    .option('-a, --all', 'Show all stopped containers (including those created by the run command)')
    .option('-q, --quiet', 'Only display IDs')
    .option('--services', 'Display services')
    .option('--status <status>', 'Filter services by status', collect, [])
    .option('--format <format>', 'Format the output: table, json or a Go template', 'table')
    .option('--no-trunc', "Don't truncate output")
    .action(
      (
        names: string[],
        o: {
          all?: boolean;
          quiet?: boolean;
          services?: boolean;
          status: string[];
          format: string;
          trunc: boolean;
        },
      ) =>
        composeAction(async () => {
          const p = cc.project();
          let cs = await containersOf(p, names, true);
          if (!o.all)
            cs = cs.filter((c) => c.State === 'running' || c.State === 'paused' || c.State === 'restarting');
          if (o.status.length) cs = cs.filter((c) => o.status.includes(c.State));
          cs.sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
          if (o.quiet) return void ctx.out.write(cs.map((c) => `${c.Id}\n`).join(''));
          if (o.services)
            return void ctx.out.write(
              [...new Set(cs.map((c) => c.Labels[LABEL.service]))].map((s) => `${s}\n`).join(''),
            );
          const rows = cs.map((c) => ({
            ID: c.Id,
            Name: nameOf(c),
            Image: c.Image,
            // As docker ps: quoted, cut to 20 characters in the table unless --no-trunc.
            Command: `"${o.trunc && o.format === 'table' && [...c.Command].length > 20 ? `${[...c.Command].slice(0, 19).join('')}…` : c.Command}"`,
            Project: p.name,
            Service: c.Labels[LABEL.service] ?? '',
            Created: c.Created,
            State: c.State,
            Status: c.Status,
            Ports: c.Ports.filter((x) => x.PublicPort)
              .map((x) => `${x.IP ?? '0.0.0.0'}:${x.PublicPort}->${x.PrivatePort}/${x.Type}`)
              .join(', '),
            Publishers: c.Ports.map((x) => ({
              URL: x.IP ?? '',
              TargetPort: x.PrivatePort,
              PublishedPort: x.PublicPort ?? 0,
              Protocol: x.Type,
            })),
            Labels: Object.entries(c.Labels)
              .map(([k, v]) => `${k}=${v}`)
              .join(','),
            ExitCode: 0,
          }));
          if (o.format === 'json')
            return void ctx.out.write(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
          ctx.out.write(
            renderList({
              format: o.format,
              defaultTableFormat:
                'table {{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.Status}}\t{{.Ports}}',
              headers: {
                Name: 'NAME',
                Image: 'IMAGE',
                Command: 'COMMAND',
                Service: 'SERVICE',
                Status: 'STATUS',
                Ports: 'PORTS',
              },
              rows,
            }),
          );
        }),
    );

  compose
    .command('logs')
    .description('View output from containers')
    .argument('[services...]')
    .option('-f, --follow', 'Follow log output')
    .option(
      '-n, --tail <lines>',
      'Number of lines to show from the end of the logs for each container',
      'all',
    )
    .option('-t, --timestamps', 'Show timestamps')
    .option('--since <string>', 'Show logs since timestamp or relative')
    .option('--until <string>', 'Show logs before a timestamp or relative')
    .option('--no-color', 'Produce monochrome output')
    .option('--no-log-prefix', "Don't print prefix in logs")
    .option('--index <n>', 'index of the container if service has multiple replicas')
    .action(
      (
        names: string[],
        o: {
          follow?: boolean;
          tail: string;
          timestamps?: boolean;
          since?: string;
          until?: string;
          color: boolean;
          logPrefix: boolean;
          index?: string;
        },
      ) =>
        composeAction(async () => {
          const p = cc.project();
          for (const n of names)
            if (!Object.hasOwn(services(p), n)) throw new CliError(`no such service: ${n}`, 1);
          await followProject(ctx, api(), p, {
            services: names.length ? names : Object.keys(services(p)),
            follow: o.follow === true,
            color: o.color !== false && cc.colours(),
            prefix: o.logPrefix !== false,
            timestamps: o.timestamps === true,
            tail: o.tail,
            ...(o.since ? { since: o.since } : {}),
            ...(o.until ? { until: o.until } : {}),
            ...(o.index !== undefined ? { index: Number(o.index) } : {}),
          });
        }),
    );

  /** start/stop/restart/kill/pause/unpause: the same shape, in dependency order. */
  const simple = (
    name: string,
    description: string,
    verb: string,
    fn: (a: ComposeApi, c: ContainerSummary, o: { timeout?: string; signal?: string }) => Promise<void>,
    reverse: boolean,
    extra?: (c: Command) => Command,
  ) => {
    let cmd = compose.command(name).description(description).argument('[services...]');
    if (extra) cmd = extra(cmd);
    cmd.action((names: string[], o: { timeout?: string; signal?: string }) =>
      composeAction(async () => {
        const p = cc.project();
        const cs = await containersOf(p, name === 'restart' ? withRestartDependents(p, names) : names);
        const a = api();
        const present = [...new Set(cs.map((c) => c.Labels[LABEL.service] ?? ''))].filter((s) =>
          Object.hasOwn(services(p), s),
        );
        await inDependencyOrder(
          p,
          present,
          async (s) => {
            await Promise.all(
              cs
                .filter((c) => c.Labels[LABEL.service] === s)
                .map(async (c) => {
                  await fn(a, c, o);
                  progress(`Container ${nameOf(c)}  ${verb}`);
                }),
            );
          },
          reverse,
        );
      }),
    );
  };
  const timeout = (c: Command) =>
    c.option('-t, --timeout <seconds>', 'Specify a shutdown timeout in seconds');
  simple('start', 'Start services', 'Started', (a, c) => a.start(c.Id), false);
  simple(
    'stop',
    'Stop services',
    'Stopped',
    (a, c, o) => a.stop(c.Id, o.timeout !== undefined ? Number(o.timeout) : undefined),
    true,
    timeout,
  );
  simple(
    'restart',
    'Restart service containers',
    'Started',
    (a, c, o) => a.restart(c.Id, o.timeout !== undefined ? Number(o.timeout) : undefined),
    false,
    timeout,
  );
  simple('pause', 'Pause services', 'Paused', (a, c) => a.pause(c.Id), false);
  simple('unpause', 'Unpause services', 'Unpaused', (a, c) => a.unpause(c.Id), false);
  simple(
    'kill',
    'Force stop service containers',
    'Killed',
    async (a, c, o) => {
      if (c.State === 'running') await a.kill(c.Id, o.signal);
    },
    true,
    (c) =>
      c
        .option('-s, --signal <signal>', 'SIGNAL to send to the container', 'SIGKILL')
        .option('--remove-orphans', 'Remove containers for services not defined in the Compose file'),
  );

  compose
    .command('rm')
    .description('Removes stopped service containers')
    .argument('[services...]')
    .option('-f, --force', "Don't ask to confirm removal")
    .option('-s, --stop', 'Stop the containers, if required, before removing')
    .option('-v, --volumes', 'Remove any anonymous volumes attached to containers')
    .action((names: string[], o: { force?: boolean; stop?: boolean; volumes?: boolean }) =>
      composeAction(async () => {
        const p = cc.project();
        const a = api();
        let cs = await containersOf(p, names);
        if (o.stop) await Promise.all(cs.map((c) => a.stop(c.Id)));
        else cs = cs.filter((c) => c.State !== 'running' && c.State !== 'paused' && c.State !== 'restarting');
        if (cs.length === 0) return void ctx.err.write('No stopped containers\n');
        await Promise.all(
          cs.map(async (c) => {
            await a.remove(c.Id, { force: true, volumes: o.volumes === true });
            progress(`Container ${nameOf(c)}  Removed`);
          }),
        );
      }),
    );

  compose
    .command('top')
    .description('Display the running processes')
    .argument('[services...]')
    .action((names: string[]) =>
      composeAction(async () => {
        const p = cc.project();
        for (const c of (await containersOf(p, names, false)).sort((x, y) =>
          nameOf(x).localeCompare(nameOf(y)),
        )) {
          const t = await ctx
            .client()
            .json<{ Titles: string[]; Processes: string[][] }>('GET', `/containers/${c.Id}/top`);
          const rows = [t.Titles, ...t.Processes];
          const w = t.Titles.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
          ctx.out.write(
            `${nameOf(c)}\n${rows
              .map((r) =>
                r
                  .map((x, i) => x.padEnd(w[i]!))
                  .join('   ')
                  .trimEnd(),
              )
              .join('\n')}\n\n`,
          );
        }
      }),
    );

  compose
    .command('port')
    .description('Print the public port for a port binding')
    .argument('<service>')
    .argument('<private_port>')
    .option('--protocol <proto>', 'tcp or udp', 'tcp')
    .option('--index <n>', 'Index of the container if service has multiple replicas', '1')
    .action((service: string, port: string, o: { protocol: string; index: string }) =>
      composeAction(async () => {
        const p = cc.project();
        const c = (await containersOf(p, [service], false)).find((x) => x.Labels[LABEL.number] === o.index);
        if (!c) throw new CliError(`service "${service}" is not running container #${o.index}`, 1);
        const b = c.Ports.find(
          (x) => String(x.PrivatePort) === port && x.Type === o.protocol && x.PublicPort,
        );
        if (!b) throw new CliError(`no port ${port}/${o.protocol} for container ${nameOf(c)}`, 1);
        ctx.out.write(`${b.IP || '0.0.0.0'}:${b.PublicPort}\n`);
      }),
    );

  compose
    .command('images')
    .description('List images used by the created containers')
    .argument('[services...]')
    .option('-q, --quiet', 'Only display IDs')
    .action((names: string[], o: { quiet?: boolean }) =>
      composeAction(async () => {
        const p = cc.project();
        const cs = await containersOf(p, names);
        if (o.quiet)
          return void ctx.out.write([...new Set(cs.map((c) => c.ImageID))].map((i) => `${i}\n`).join(''));
        const rows = cs.map((c) => {
          const [repo, tag] = c.Image.includes(':') ? c.Image.split(':') : [c.Image, 'latest'];
          return {
            Container: nameOf(c),
            Repository: repo ?? '',
            Tag: tag ?? '',
            ID: c.ImageID.replace(/^sha256:/, '').slice(0, 12),
          };
        });
        ctx.out.write(
          renderList({
            format: 'table',
            defaultTableFormat: 'table {{.Container}}\t{{.Repository}}\t{{.Tag}}\t{{.ID}}',
            headers: { Container: 'CONTAINER', Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID' },
            rows,
          }),
        );
      }),
    );

  compose
    .command('ls')
    .description('List running compose projects')
    .option('-a, --all', 'Show all stopped Compose projects')
    .option('-q, --quiet', 'Only display project names')
    .option('--format <format>', 'Format the output. Values: [table | json]', 'table')
    .action((o: { all?: boolean; quiet?: boolean; format: string }) =>
      composeAction(async () => {
        const cs = await ctx.client().json<ContainerSummary[]>('GET', '/containers/json', {
          query: { all: true, filters: JSON.stringify({ label: [LABEL.project] }) },
        });
        const projects = new Map<string, { states: string[]; files: string }>();
        for (const c of cs) {
          const n = c.Labels[LABEL.project]!;
          const e = projects.get(n) ?? { states: [], files: c.Labels[LABEL.configFiles] ?? '' };
          e.states.push(c.State);
          projects.set(n, e);
        }
        const rows = [...projects]
          .map(([Name, e]) => {
            const counts = new Map<string, number>();
            for (const s of e.states) counts.set(s, (counts.get(s) ?? 0) + 1);
            return {
              Name,
              Status: [...counts].map(([s, k]) => `${s}(${k})`).join(', '),
              ConfigFiles: e.files,
              running: counts.has('running'),
            };
          })
          .filter((r) => o.all || r.running)
          .sort((a, b) => a.Name.localeCompare(b.Name));
        if (o.quiet) return void ctx.out.write(rows.map((r) => `${r.Name}\n`).join(''));
        if (o.format === 'json')
          return void ctx.out.write(`${JSON.stringify(rows.map(({ running: _r, ...r }) => r))}\n`);
        ctx.out.write(
          renderList({
            format: 'table',
            defaultTableFormat: 'table {{.Name}}\t{{.Status}}\t{{.ConfigFiles}}',
            headers: { Name: 'NAME', Status: 'STATUS', ConfigFiles: 'CONFIG FILES' },
            rows,
          }),
        );
      }),
    );

  compose
    .command('version')
    .description('Show the Docker Compose version information')
    .option('--short', 'Shows only Compose\u2019s version number')
    .option('-f, --format <format>', 'Format the output. Values: [pretty | json]', 'pretty')
    .action((o: { short?: boolean; format: string }) => {
      if (o.short) ctx.out.write(`${BERTH_VERSION}\n`);
      else if (o.format === 'json') ctx.out.write(`${JSON.stringify({ version: `v${BERTH_VERSION}` })}\n`);
      else ctx.out.write(`Berth Compose version v${BERTH_VERSION}\n`);
    });
}
