// `compose exec` and `compose run`: a command in a service's running container, or a one-off
// container of the service (labelled oneoff, on the service's networks, its dependencies started
// first unless --no-deps), both over the hijacked stream of the berth CLI's sessions.
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import {
  ComposeApi,
  createBody,
  ensureNetworksAndVolumes,
  imageName,
  injectedFiles,
  injectFiles,
  LABEL,
  namespaceContainers,
  parsePortShort,
  type Project,
  selectServices,
  services,
  up,
} from '../../compose/index.ts';
import { CliError, collect } from '../context.ts';
import type { ComposeContext } from './compose.ts';
import { builderFor } from './compose-build.ts';
import { composeAction } from './compose-up.ts';
import { runSession, setExitCode } from './container-io.ts';

export function registerComposeRun(compose: Command, cc: ComposeContext): void {
  const ctx = cc.cli;
  const api = () => new ComposeApi(ctx.client());
  const progress = (l: string) => ctx.err.write(` ${l}\n`);
  const containersOf = async (p: Project, names: readonly string[], all = true) => {
    for (const n of names) if (!Object.hasOwn(services(p), n)) throw new CliError(`no such service: ${n}`, 1);
    const cs = await api().containers(p.name, { oneoff: false, all });
    return cs.filter((c) => names.length === 0 || names.includes(c.Labels[LABEL.service] ?? ''));
  };
  compose
    .command('exec')
    .description('Execute a command in a running container')
    .argument('<service>')
    .argument('<command...>')
    .option('-d, --detach', 'Detached mode: Run command in the background')
    .option('-T, --no-tty', 'Disable pseudo-TTY allocation. By default `exec` allocates a TTY.')
    .option('-e, --env <KEY=VAL>', 'Set environment variables', collect, [])
    .option('-u, --user <user>', 'Run the command as this user')
    .option('-w, --workdir <dir>', 'Path to workdir directory for this command')
    .option('--privileged', 'Give extended privileges to the process')
    .option('--index <n>', 'Index of the container if service has multiple replicas', '1')
    .passThroughOptions()
    .action(
      (
        service: string,
        cmd: string[],
        o: {
          detach?: boolean;
          tty: boolean;
          env: string[];
          user?: string;
          workdir?: string;
          privileged?: boolean;
          index: string;
        },
      ) =>
        composeAction(async () => {
          const p = cc.project();
          const cs = (await containersOf(p, [service], false)).filter(
            (c) => c.Labels[LABEL.number] === o.index,
          );
          const c = cs[0];
          if (!c) throw new CliError(`service "${service}" is not running container #${o.index}`, 1);
          const tty = o.tty !== false && process.stdin.isTTY === true;
          await execIn(c.Id, cmd, { ...o, tty, interactive: !o.detach });
        }),
    );

  const execIn = async (
    id: string,
    cmd: string[],
    o: {
      detach?: boolean;
      tty: boolean;
      interactive: boolean;
      env: string[];
      user?: string;
      workdir?: string;
      privileged?: boolean;
    },
  ) => {
    const client = ctx.client();
    const { Id: execId } = await client.json<{ Id: string }>('POST', `/containers/${id}/exec`, {
      body: {
        Cmd: cmd,
        Env: o.env,
        ...(o.user ? { User: o.user } : {}),
        ...(o.workdir ? { WorkingDir: o.workdir } : {}),
        Tty: o.tty,
        Privileged: o.privileged === true,
        AttachStdin: !o.detach && o.interactive,
        AttachStdout: !o.detach,
        AttachStderr: !o.detach,
      },
    });
    if (o.detach) {
      await client.raw('POST', `/exec/${execId}/start`, { body: { Detach: true, Tty: o.tty } });
      return;
    }
    const conn = await client.hijack(`/exec/${execId}/start`, { body: { Detach: false, Tty: o.tty } });
    await runSession(conn, ctx, {
      tty: o.tty,
      interactive: o.interactive,
      resize: (h, w) => client.raw('POST', `/exec/${execId}/resize`, { query: { h, w } }),
    });
    const info = await client.json<{ ExitCode: number | null }>('GET', `/exec/${execId}/json`);
    setExitCode(info.ExitCode ?? 0);
  };

  compose
    .command('run')
    .description('Run a one-off command on a service')
    .argument('<service>')
    .argument('[command...]')
    .option('-d, --detach', 'Run container in background and print container ID')
    .option('--rm', 'Automatically remove the container when it exits')
    .option('-e, --env <KEY=VAL>', 'Set environment variables', collect, [])
    .option('-l, --label <KEY=VAL>', 'Add or override a label', collect, [])
    .option('--name <name>', 'Assign a name to the container')
    .option('-T, --no-tty', 'Disable pseudo-TTY allocation (default: auto-detected)')
    .option('-u, --user <user>', 'Run as specified username or uid')
    .option('-w, --workdir <dir>', 'Working directory inside the container')
    .option('--entrypoint <cmd>', 'Override the entrypoint of the image')
    .option('--no-deps', "Don't start linked services")
    .option('--service-ports', "Run command with all service's ports enabled and mapped to the host")
    .option('-p, --publish <port>', "Publish a container's port(s) to the host", collect, [])
    .option('--build', 'Build image before starting container')
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .passThroughOptions()
    .action(
      (
        service: string,
        cmd: string[],
        o: {
          detach?: boolean;
          rm?: boolean;
          env: string[];
          label: string[];
          name?: string;
          tty: boolean;
          user?: string;
          workdir?: string;
          entrypoint?: string;
          deps: boolean;
          servicePorts?: boolean;
          publish: string[];
          build?: boolean;
        },
      ) =>
        composeAction(async () => {
          const p = cc.project([service]);
          const all = services(p);
          if (!Object.hasOwn(all, service)) throw new CliError(`no such service: ${service}`, 1);
          const a = api();
          const deps = o.deps ? selectServices(p, [service]).filter((s) => s !== service) : [];
          if (deps.length) {
            await up(a, p, { services: deps, progress, builder: builderFor(ctx, p), recreate: 'never' });
          }
          const netNames = await ensureNetworksAndVolumes(a, p, progress);
          const svc = { ...all[service]! };
          if (cmd.length) svc.command = cmd;
          if (o.entrypoint !== undefined) svc.entrypoint = o.entrypoint === '' ? [] : [o.entrypoint];
          if (o.user) svc.user = o.user;
          if (o.workdir) svc.working_dir = o.workdir;
          if (!o.servicePorts) delete svc.ports;
          // As v2: --publish replaces the service's ports (parsed with the compose short syntax).
          if (o.publish.length) {
            svc.ports = o.publish.flatMap((spec) => {
              try {
                return parsePortShort(spec);
              } catch (err) {
                throw new CliError(`--publish ${spec}: ${(err as Error).message}`, 1);
              }
            });
          }
          const env = { ...((svc.environment as Record<string, unknown>) ?? {}) };
          for (const e of o.env) {
            const i = e.indexOf('=');
            if (i < 0) env[e] = process.env[e] ?? null;
            else env[e.slice(0, i)] = e.slice(i + 1);
          }
          svc.environment = env;
          const tty = o.tty !== false && !o.detach && process.stdin.isTTY === true;
          svc.tty = tty;
          svc.stdin_open = !o.detach;
          const ref = imageName(p, service, svc);
          let imageId = await a.imageId(ref);
          if (!imageId || o.build) {
            if (svc.build !== undefined) await builderFor(ctx, p)(service, svc, ref);
            else await a.pull(ref);
            imageId = await a.imageId(ref);
          }
          const nets =
            svc.network_mode !== undefined
              ? []
              : Object.keys((svc.networks ?? {}) as object).map((k): [string, Record<string, unknown>] => [
                  netNames.get(k) ?? k,
                  { Aliases: [] },
                ]);
          const body = createBody({
            project: p,
            name: service,
            svc,
            number: 1,
            imageId: imageId!,
            oneoff: true,
            networks: nets,
            serviceContainers: await namespaceContainers(a, p, svc),
          });
          const labels = body.Labels as Record<string, string>;
          for (const l of o.label) {
            const i = l.indexOf('=');
            labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
          }
          const hc = body.HostConfig as Record<string, unknown>;
          if (o.rm) hc.AutoRemove = true;
          // One-off containers never restart by policy (as v2).
          hc.RestartPolicy = { Name: 'no' };
          Object.assign(body, {
            AttachStdin: !o.detach,
            AttachStdout: !o.detach,
            AttachStderr: !o.detach,
            OpenStdin: !o.detach,
            StdinOnce: !o.detach,
          });
          const cname = o.name ?? `${p.name}-${service}-run-${randomBytes(6).toString('hex')}`;
          const files = injectedFiles(p, service, svc);
          const id = await a.create(cname, body);
          for (const [net, ep] of nets.slice(1)) await a.connect(net, id, ep);
          await injectFiles(a, id, files);
          if (o.detach) {
            await a.start(id);
            ctx.out.write(`${cname}\n`);
            return;
          }
          const client = ctx.client();
          const conn = await client.hijack(`/containers/${id}/attach`, {
            query: { stream: true, stdin: true, stdout: true, stderr: true },
          });
          const waited = client.json<{ StatusCode: number }>('POST', `/containers/${id}/wait`, {
            query: { condition: o.rm ? 'removed' : 'next-exit' },
          });
          await runSession(conn, ctx, {
            tty,
            interactive: true,
            start: () => a.start(id),
            resize: (h, w) => client.raw('POST', `/containers/${id}/resize`, { query: { h, w } }),
          });
          setExitCode((await waited).StatusCode);
        }),
    );
}
