import { effectiveFormat } from '../config-formats.ts';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { parseGoDuration } from '../../base/duration.ts';
import { EngineError } from '../../client/index.ts';
import { CliError, type CliContext, collect, filtersJson } from '../context.ts';
import { API_SOCKET_CONFIG, apiSocketCredentials, injectApiSocketConfig } from './api-socket.ts';
import path from 'node:path';
import {
  CONTAINER_HEADERS,
  CONTAINER_TABLE_FORMAT,
  ContainerRow,
  type ContainerSummary,
  humanSize,
  renderInspect,
  renderList,
} from '../format/index.ts';
import { registerAttachAndTop } from './container-attach.ts';
import { registerExec } from './container-exec.ts';
import { addHostFieldOptions, type HostFieldOptions, hostFieldConfig } from './run-host-fields.ts';
import { registerLifecycle } from './container-lifecycle.ts';
import { demuxTo, envFromFiles, parseDetachKeys, runSession, setExitCode } from './container-io.ts';
import { addNetworkRunOptions, type NetworkRunOptions, networkBody } from './networks.ts';
import { pullImageCli } from './registry.ts';
import {
  addMoreRunOptions,
  apiSocketMount,
  checkMoreRunOptions,
  labelsFromFiles,
  type MoreRunOptions,
  PROXIED_SIGNALS,
  writeCidFile,
} from './run-flags.ts';
import { addSecurityOptions, type SecurityFlags, securityHostConfig } from './security-flags.ts';
import { addVolumeRunOptions, type VolumeRunOptions, volumeBody } from './volumes.ts';

import {
  addResourceOptions,
  type ResourceOptions,
  registerResourceCommands,
  resourceHostConfig,
} from './container-resources.ts';

interface RunOptions
  extends NetworkRunOptions,
    SecurityFlags,
    ResourceOptions,
    VolumeRunOptions,
    HostFieldOptions,
    MoreRunOptions {
  detach?: boolean;
  interactive?: boolean;
  tty?: boolean;
  rm?: boolean;
  name?: string;
  env: string[];
  envFile: string[];
  user?: string;
  workdir?: string;
  hostname?: string;
  entrypoint?: string;
  label: string[];
  addHost: string[];
  readOnly?: boolean;
  tmpfs: string[];
  capAdd: string[];
  capDrop: string[];
  stopSignal?: string;
  stopTimeout?: string;
  init?: boolean;
  detachKeys?: string;
  runtime?: string;
  logDriver?: string;
  logOpt: string[];
  groupAdd: string[];
  domainname?: string;
  attach: string[];
  restart?: string;
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthRetries?: string;
  healthStartPeriod?: string;
  healthcheck?: boolean;
}

/** Go durations as the docker CLI takes them (`500ms`, `1m30s`) → nanoseconds. */
function durationNs(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ns = parseGoDuration(v);
  if (ns === undefined)
    throw new CliError(`invalid argument "${v}" for "--${flag}" flag: use a duration like 30s or 1m`, 125);
  return ns;
}

function healthcheckBody(o: RunOptions): Record<string, unknown> {
  if (o.healthcheck === false) return { Healthcheck: { Test: ['NONE'] } };
  const interval = durationNs('health-interval', o.healthInterval);
  const timeout = durationNs('health-timeout', o.healthTimeout);
  const start = durationNs('health-start-period', o.healthStartPeriod);
  if (
    !o.healthCmd &&
    interval === undefined &&
    timeout === undefined &&
    start === undefined &&
    !o.healthRetries
  )
    return {};
  return {
    Healthcheck: {
      ...(o.healthCmd ? { Test: ['CMD-SHELL', o.healthCmd] } : {}),
      ...(interval !== undefined ? { Interval: interval } : {}),
      ...(timeout !== undefined ? { Timeout: timeout } : {}),
      ...(start !== undefined ? { StartPeriod: start } : {}),
      ...(o.healthRetries ? { Retries: Number(o.healthRetries) } : {}),
    },
  };
}

function addRunOptions(c: Command, isRun: boolean): Command {
  return addMoreRunOptions(
    addHostFieldOptions(addVolumeRunOptions(addResourceOptions(addSecurityOptions(addNetworkRunOptions(c))))),
    isRun,
  )
    .option('-d, --detach', 'Run container in background and print container ID')
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('--rm', 'Automatically remove the container when it exits')
    .option('--name <string>', 'Assign a name to the container')
    .option('-e, --env <list>', 'Set environment variables', collect, [])
    .option('--env-file <file>', 'Read in a file of environment variables', collect, [])
    .option('-u, --user <string>', 'Username or UID (format: <name|uid>[:<group|gid>])')
    .option('-w, --workdir <string>', 'Working directory inside the container')
    .option('-h, --hostname <string>', 'Container host name')
    .option('--entrypoint <string>', 'Overwrite the default ENTRYPOINT of the image')
    .option('-l, --label <list>', 'Set meta data on a container', collect, [])
    .option('--add-host <list>', 'Add a custom host-to-IP mapping (host:ip)', collect, [])
    .option('--read-only', "Mount the container's root filesystem as read only")
    .option('--tmpfs <list>', 'Mount a tmpfs directory', collect, [])
    .option('--cap-add <list>', 'Add Linux capabilities', collect, [])
    .option('--cap-drop <list>', 'Drop Linux capabilities', collect, [])
    .option('--stop-signal <string>', 'Signal to stop the container')
    .option('--stop-timeout <int>', 'Timeout (in seconds) to stop a container')
    .option('--init', 'Run an init inside the container that forwards signals and reaps processes')
    .option('--detach-keys <string>', 'Override the key sequence for detaching a container')
    .option('-a, --attach <list>', 'Attach to STDIN, STDOUT or STDERR', collect, [])
    .option('--restart <string>', 'Restart policy to apply when a container exits', 'no')
    .option('--health-cmd <string>', 'Command to run to check health')
    .option('--health-interval <duration>', 'Time between running the check')
    .option('--health-timeout <duration>', 'Maximum time to allow one check to run')
    .option('--health-retries <int>', 'Consecutive failures needed to report unhealthy')
    .option('--health-start-period <duration>', 'Start period for the container to initialize')
    .option('--no-healthcheck', 'Disable any container-specified HEALTHCHECK')
    .option('--runtime <string>', 'Runtime to use for this container')
    .option('--log-driver <string>', 'Logging driver for the container')
    .option('--log-opt <list>', 'Log driver options', collect, [])
    .option('--group-add <list>', 'Add additional groups to join', collect, [])
    .option('--domainname <string>', 'Container NIS domain name');
}

function createBody(image: string, cmd: string[], o: RunOptions, hostSpec: string) {
  const env = [...envFromFiles(o.envFile), ...o.env].map((e) =>
    e.includes('=') || process.env[e] === undefined ? e : `${e}=${process.env[e]}`,
  );
  const labels = Object.fromEntries(
    [...labelsFromFiles(o.labelFile), ...o.label].map((l) => {
      const i = l.indexOf('=');
      return i === -1 ? [l, ''] : [l.slice(0, i), l.slice(i + 1)];
    }),
  );
  const net = networkBody(o);
  const vol = volumeBody(o);
  if (o.useApiSocket) {
    const mounts = (vol.hostConfig as { Mounts?: unknown[] }).Mounts ?? [];
    (vol.hostConfig as { Mounts?: unknown[] }).Mounts = [...mounts, apiSocketMount(hostSpec)];
  }
  return {
    Image: image,
    ...net.config,
    ...vol.config,
    ...(cmd.length > 0 ? { Cmd: cmd } : {}),
    ...(o.entrypoint !== undefined ? { Entrypoint: o.entrypoint === '' ? [''] : [o.entrypoint] } : {}),
    Env: env,
    ...(o.user ? { User: o.user } : {}),
    ...(o.workdir ? { WorkingDir: o.workdir } : {}),
    ...(o.hostname ? { Hostname: o.hostname } : {}),
    ...(o.domainname ? { Domainname: o.domainname } : {}),
    ...(o.stopSignal ? { StopSignal: o.stopSignal } : {}),
    ...(o.stopTimeout !== undefined ? { StopTimeout: Number(o.stopTimeout) } : {}),
    Labels: labels,
    ...healthcheckBody(o),
    Tty: Boolean(o.tty),
    OpenStdin: Boolean(o.interactive) || o.attach.some((a) => /^stdin$/i.test(a)),
    AttachStdin: (Boolean(o.interactive) && !o.detach) || o.attach.some((a) => /^stdin$/i.test(a)),
    StdinOnce: (Boolean(o.interactive) && !o.detach) || o.attach.some((a) => /^stdin$/i.test(a)),
    AttachStdout: !o.detach && (o.attach.length === 0 || o.attach.some((a) => /^stdout$/i.test(a))),
    AttachStderr: !o.detach && (o.attach.length === 0 || o.attach.some((a) => /^stderr$/i.test(a))),
    HostConfig: {
      AutoRemove: Boolean(o.rm),
      ReadonlyRootfs: Boolean(o.readOnly),
      ExtraHosts: o.addHost,
      CapAdd: o.capAdd,
      CapDrop: o.capDrop,
      Tmpfs: Object.fromEntries(
        o.tmpfs.map((t) => {
          const i = t.indexOf(':');
          return i === -1 ? [t, ''] : [t.slice(0, i), t.slice(i + 1)];
        }),
      ),
      ...net.hostConfig,
      ...vol.hostConfig,
      ...(o.init ? { Init: true } : {}),
      ...(o.runtime ? { Runtime: o.runtime } : {}),
      ...(o.restart && o.restart !== 'no'
        ? {
            RestartPolicy: {
              Name: o.restart.split(':')[0],
              MaximumRetryCount: o.restart.includes(':') ? Number(o.restart.split(':')[1]) : 0,
            },
          }
        : {}),
      ...(o.groupAdd.length > 0 ? { GroupAdd: o.groupAdd } : {}),
      ...(o.logDriver || o.logOpt.length > 0
        ? {
            LogConfig: {
              Type: o.logDriver ?? '',
              Config: Object.fromEntries(
                o.logOpt.map((l) => {
                  const i = l.indexOf('=');
                  return i === -1 ? [l, ''] : [l.slice(0, i), l.slice(i + 1)];
                }),
              ),
            },
          }
        : {}),
      ...(o.tty && process.stdout.isTTY
        ? { ConsoleSize: [process.stdout.rows, process.stdout.columns] }
        : {}),
      ...securityHostConfig(o),
      ...resourceHostConfig(o),
      ...hostFieldConfig(o),
    },
    ...(net.networkingConfig ? { NetworkingConfig: net.networkingConfig } : {}),
  };
}

export function registerContainers(program: Command, ctx: CliContext): void {
  const container = program.command('container').description('Manage containers').enablePositionalOptions();
  registerResourceCommands(program, container, ctx);

  const create = async (image: string, cmd: string[], o: RunOptions): Promise<string> => {
    checkMoreRunOptions(o);
    const body = createBody(image, cmd, o, ctx.client().hostSpec);
    // Resolved before the create, so a broken credential store fails it (as docker's CLI).
    const creds =
      o.useApiSocket && !body.Env.some((e) => e.startsWith('DOCKER_CONFIG=')) ? apiSocketCredentials() : {};
    if (Object.keys(creds).length > 0)
      body.Env.push(`DOCKER_CONFIG=${path.posix.dirname(API_SOCKET_CONFIG)}`);
    const send = () =>
      ctx.client().json<{ Id: string; Warnings: string[] | null }>('POST', '/containers/create', {
        query: { name: o.name, ...(o.platform ? { platform: o.platform } : {}) },
        body,
      });
    // Pull output goes to stderr (stdout carries the ID); -q drops it.
    const pullCtx: CliContext = {
      client: () => ctx.client(),
      out: o.quiet ? discard() : ctx.err,
      err: ctx.err,
      stdin: ctx.stdin,
    };
    const pull = () =>
      pullImageCli(pullCtx, image, {
        quiet: Boolean(o.quiet),
        ...(o.platform ? { platform: o.platform } : {}),
      }).catch((e: unknown) => {
        throw e instanceof CliError ? new CliError(`berth: ${e.message}`, 125) : e;
      });
    if (o.pull === 'always') await pull();
    let r: Awaited<ReturnType<typeof send>>;
    try {
      r = await send();
    } catch (err) {
      // As the docker CLI: a missing image is pulled (unless --pull=never), then the create is tried again.
      if (!(err instanceof EngineError && err.status === 404 && /No such image/i.test(err.message)))
        throw err;
      if (o.pull === 'never') throw err;
      if (!o.quiet) ctx.err.write(`Unable to find image '${image}' locally\n`);
      await pull();
      r = await send();
    }
    for (const w of r.Warnings ?? []) ctx.err.write(`WARNING: ${w}\n`);
    writeCidFile(o.cidfile, r.Id);
    if (Object.keys(creds).length > 0) await injectApiSocketConfig(ctx, r.Id, creds);
    return r.Id;
  };

  for (const c of [program.command('create'), container.command('create')]) {
    addRunOptions(c.description('Create a new container').argument('<IMAGE>').argument('[COMMAND...]'), false)
      .passThroughOptions()
      .action(async (image: string, cmd: string[], o: RunOptions) => {
        ctx.out.write(`${await create(image, cmd, o)}\n`);
      });
  }

  const run = async (image: string, cmd: string[], o: RunOptions) => {
    for (const a of o.attach) {
      if (!/^(stdin|stdout|stderr)$/i.test(a))
        throw new CliError(
          `berth: invalid argument "${a}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`,
          125,
        );
    }
    if (o.detach && o.attach.length > 0) throw new CliError('berth: Conflicting options: -a and -d', 125);
    if (o.detachKeys) {
      try {
        parseDetachKeys(o.detachKeys);
      } catch (err) {
        throw new CliError(`berth: ${(err as Error).message}`, 125);
      }
    }
    if (o.tty && o.interactive && !o.detach && !ctx.stdin.isTTY) {
      throw new CliError('the input device is not a TTY', 1);
    }
    let id: string;
    try {
      id = await create(image, cmd, o);
    } catch (err) {
      if (err instanceof EngineError)
        throw new CliError(runError(`Error response from daemon: ${err.message}`), 125);
      throw err;
    }
    if (o.detach) {
      await ctx.client().raw('POST', `/containers/${id}/start`);
      ctx.out.write(`${id}\n`);
      return;
    }
    // -a picks the streams (docker's default: stdout and stderr, plus stdin with -i).
    const want = new Set(o.attach.map((a) => a.toLowerCase()));
    const conn = await ctx.client().hijack(`/containers/${id}/attach`, {
      query: {
        stream: true,
        stdout: want.size === 0 || want.has('stdout'),
        stderr: want.size === 0 || want.has('stderr'),
        ...(o.interactive || want.has('stdin') ? { stdin: true } : {}),
        ...(o.detachKeys ? { detachKeys: o.detachKeys } : {}),
      },
    });
    const waitRes = ctx
      .client()
      .raw('POST', `/containers/${id}/wait`, { query: { condition: o.rm ? 'removed' : 'next-exit' } });
    const waitRes2 = await waitRes;
    // --sig-proxy (docker's default without a TTY): signals to berth go to the container.
    const forward = (sig: NodeJS.Signals) => {
      void ctx
        .client()
        .raw('POST', `/containers/${id}/kill`, { query: { signal: sig } })
        .catch(() => {});
    };
    const proxied = o.sigProxy !== false && !o.tty ? PROXIED_SIGNALS : [];
    for (const sig of proxied) process.on(sig, forward);
    const session = await runSession(conn, ctx, {
      tty: Boolean(o.tty),
      interactive: Boolean(o.interactive) || o.attach.some((a) => /^stdin$/i.test(a)),
      ...(o.detachKeys ? { detachKeys: o.detachKeys } : {}),
      resize: (h, w) => ctx.client().raw('POST', `/containers/${id}/resize`, { query: { h, w } }),
      start: async () => {
        try {
          await ctx.client().raw('POST', `/containers/${id}/start`);
        } catch (err) {
          if (err instanceof EngineError) {
            const code = /not found|no such file/i.test(err.message)
              ? 127
              : /permission denied/i.test(err.message)
                ? 126
                : 125;
            throw new CliError(runError(`Error response from daemon: ${err.message}`), code);
          }
          throw err;
        }
      },
    });
    if (session.detached) {
      for (const sig of proxied) process.off(sig, forward);
      waitRes2.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of waitRes2) chunks.push(c as Buffer);
    for (const sig of proxied) process.off(sig, forward);
    const result = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { StatusCode: number };
    setExitCode(result.StatusCode);
  };
  for (const c of [program.command('run'), container.command('run')]) {
    addRunOptions(
      c
        .description('Create and run a new container from an image')
        .argument('<IMAGE>')
        .argument('[COMMAND...]'),
      true,
    )
      .passThroughOptions()
      .action(run);
  }

  registerLifecycle(program, container, ctx);

  for (const c of [program.command('wait'), container.command('wait')]) {
    c.description('Block until one or more containers stop, then print their exit codes')
      .argument('<CONTAINER...>')
      .action(async (ids: string[]) => {
        for (const id of ids) {
          const r = await ctx.client().json<{ StatusCode: number }>('POST', `/containers/${id}/wait`);
          ctx.out.write(`${r.StatusCode}\n`);
        }
      });
  }

  for (const c of [program.command('logs'), container.command('logs')]) {
    c.description('Fetch the logs of a container')
      .argument('<CONTAINER>')
      .option('-f, --follow', 'Follow log output')
      .option('-n, --tail <string>', 'Number of lines to show from the end of the logs', 'all')
      .option(
        '--since <string>',
        'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
      )
      .option(
        '--until <string>',
        'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
      )
      .option('-t, --timestamps', 'Show timestamps')
      .option('--details', 'Show extra details provided to logs')
      .action(
        async (
          id: string,
          o: {
            follow?: boolean;
            tail: string;
            since?: string;
            until?: string;
            timestamps?: boolean;
            details?: boolean;
          },
        ) => {
          const toUnix = (v: string | undefined) => {
            if (v === undefined) return undefined;
            const rel = /^(\d+)(s|m|h)$/.exec(v);
            if (rel)
              return String(
                Date.now() / 1000 - Number(rel[1]) * { s: 1, m: 60, h: 3600 }[rel[2] as 's' | 'm' | 'h'],
              );
            const t = Date.parse(v);
            return Number.isNaN(t) ? v : String(t / 1000);
          };
          const info = await ctx.client().json<{ Config: { Tty: boolean } }>('GET', `/containers/${id}/json`);
          const res = await ctx.client().raw('GET', `/containers/${id}/logs`, {
            query: {
              stdout: true,
              stderr: true,
              follow: o.follow,
              tail: o.tail,
              since: toUnix(o.since),
              until: toUnix(o.until),
              timestamps: o.timestamps,
              details: o.details,
            },
          });
          if (info.Config.Tty) for await (const c of res) ctx.out.write(c as Buffer);
          else await demuxTo(res, ctx.out, ctx.err);
        },
      );
  }

  const ps = async (o: {
    all?: boolean;
    quiet?: boolean;
    last?: string;
    latest?: boolean;
    size?: boolean;
    trunc?: boolean;
    filter: string[];
    format?: string;
  }) => {
    const configured = effectiveFormat(o.format, 'psFormat', o.quiet);
    if (configured !== undefined) o = { ...o, format: configured };
    const limit = o.latest ? 1 : o.last !== undefined ? Number(o.last) : undefined;
    const custom = o.format !== undefined && o.format !== '' && o.format !== 'table';
    // docker asks the daemon for sizes with -s, or when a custom format prints them.
    const size = (o.size && !custom) || (custom && !o.quiet && /\.Size\b/.test(o.format ?? ''));
    const list = await ctx.client().json<ContainerSummary[]>('GET', '/containers/json', {
      query: {
        all: o.all || limit !== undefined,
        limit,
        size: size || undefined,
        filters: filtersJson(o.filter),
      },
    });
    const now = Date.now();
    const rows = list.map((c) => new ContainerRow(c, { trunc: o.trunc !== false, now }));
    ctx.out.write(
      renderList({
        format: o.format,
        defaultTableFormat: o.size ? `${CONTAINER_TABLE_FORMAT}\t{{.Size}}` : CONTAINER_TABLE_FORMAT,
        headers: CONTAINER_HEADERS,
        rows,
        quiet: o.quiet,
        onWarning: (m) => ctx.err.write(`${m}\n`),
      }),
    );
  };
  for (const c of [program.command('ps'), container.command('ls').alias('list').alias('ps')]) {
    c.description('List containers')
      .option('-a, --all', 'Show all containers (default shows just running)')
      .option('-q, --quiet', 'Only display container IDs')
      .option('-n, --last <int>', 'Show n last created containers (includes all states)')
      .option('-l, --latest', 'Show the latest created container (includes all states)')
      .option('--no-trunc', "Don't truncate output")
      .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect, [])
      .option('--format <string>', 'Format output using a custom template')
      .option('-s, --size', 'Display total file sizes')
      .action(ps);
  }

  registerExec(program, container, ctx);
  registerAttachAndTop(program, container, ctx);

  for (const c of [container.command('prune')]) {
    c.description('Remove all stopped containers')
      .option('-f, --force', 'Do not prompt for confirmation')
      .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', collect, [])
      .action(async (o: { force?: boolean; filter: string[] }) => {
        if (!o.force) {
          ctx.out.write(
            'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ',
          );
          const answer = (await readLine(ctx.stdin)).trim().toLowerCase();
          // Cancelled: docker prints nothing more and exits 0.
          if (answer !== 'y' && answer !== 'yes') return;
        }
        const r = await ctx
          .client()
          .json<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/containers/prune', {
            query: { filters: filtersJson(o.filter) },
          });
        const deleted = r.ContainersDeleted ?? [];
        if (deleted.length > 0)
          ctx.out.write(`Deleted Containers:\n${deleted.map((id) => `${id}\n`).join('')}\n`);
        ctx.out.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0, 4)}\n`);
      });
  }

  container
    .command('inspect')
    .description('Display detailed information on one or more containers')
    .argument('<CONTAINER...>')
    .option('-f, --format <string>', 'Format output using a custom template')
    .option('-s, --size', 'Display total file sizes')
    .action(async (names: string[], o: { format?: string; size?: boolean }) => {
      const results: unknown[] = [];
      const errors: string[] = [];
      for (const n of names) {
        try {
          results.push(
            await ctx
              .client()
              .json('GET', `/containers/${encodeURIComponent(n)}/json`, { query: { size: o.size } }),
          );
        } catch (err) {
          if (err instanceof EngineError && err.status === 404)
            errors.push(`Error response from daemon: No such container: ${n}`);
          else throw err;
        }
      }
      ctx.out.write(renderInspect(o.format, results));
      if (errors.length > 0) throw new CliError(errors.join('\n'));
    });
}

/** docker 28's failure of `run`: the message, then where to read the usage. */
function runError(msg: string): string {
  return `berth: ${msg}\n\nRun 'berth run --help' for more information`;
}

/** A stream that swallows what is written (pull output under `-q`). */
function discard(): NodeJS.WriteStream {
  return new Writable({ write: (_c, _e, cb) => cb() }) as unknown as NodeJS.WriteStream;
}

/** One line from stdin (docker's confirmation prompt); "" at EOF. */
function readLine(stdin: NodeJS.ReadStream): Promise<string> {
  return new Promise((resolve) => {
    let buf = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.off('end', finish);
      stdin.pause();
      resolve(buf.split('\n')[0] ?? '');
    };
    const onData = (c: Buffer) => {
      buf += c.toString('utf8');
      if (buf.includes('\n')) finish();
    };
    stdin.on('data', onData);
    stdin.once('end', finish);
  });
}
