import type { Command } from 'commander';
import { BERTH_VERSION } from '../../base/version.ts';
import type { VersionInfo } from '../../client/index.ts';
import type { CliContext } from '../context.ts';
import { registerDialStdio } from './dial-stdio.ts';
import { registerSystemDf } from './system-df.ts';
import { registerSystemPrune } from './system-prune.ts';
import { type GlobalConnectionOptions, resolveConnection } from '../contexts/index.ts';
import { bytesSize, renderOne, withGoFieldNames } from '../format/index.ts';

/** system.Info fields whose JSON keys are not their Go names. */
const INFO_GO_NAMES: Readonly<Record<string, string>> = {
  CpuCfsPeriod: 'CPUCfsPeriod',
  CpuCfsQuota: 'CPUCfsQuota',
  HttpProxy: 'HTTPProxy',
  HttpsProxy: 'HTTPSProxy',
};

export function registerSystem(program: Command, ctx: CliContext): void {
  program
    .command('version')
    .description('Show the Berth version information')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(async (opts: { format?: string }) => {
      const client = {
        Version: BERTH_VERSION,
        // The client speaks unversioned paths: the server's newest version (berthd serves 1.50).
        ApiVersion: '1.50',
        GoVersion: `node${process.versions.node}`,
        GitCommit: '',
        Os: 'linux',
        Arch: process.arch === 'x64' ? 'amd64' : process.arch,
        Context:
          (await resolveConnection(program.opts<GlobalConnectionOptions>()).catch(() => undefined))?.name ??
          'default',
      };
      let server: (VersionInfo & { Components?: unknown }) | undefined;
      let serverErr: Error | undefined;
      try {
        server = await ctx.client().json<VersionInfo>('GET', '/version');
      } catch (err) {
        serverErr = err as Error;
      }
      if (opts.format) {
        // docker's versionInfo: Go field names for templates (APIVersion), JSON keys for json.
        const clientView = withGoFieldNames(
          { Platform: { Name: '' }, ...client, DefaultAPIVersion: client.ApiVersion },
          { ApiVersion: 'APIVersion' },
        );
        const serverView = server ? withGoFieldNames(server, { ApiVersion: 'APIVersion' }) : null;
        ctx.out.write(renderOne(opts.format, { Client: clientView, Server: serverView }));
      } else {
        ctx.out.write(
          [
            'Client:',
            ` Version:           ${client.Version}`,
            ` API version:       ${client.ApiVersion}`,
            ` Node version:      ${client.GoVersion}`,
            ` OS/Arch:           ${client.Os}/${client.Arch}`,
            ` Context:           ${client.Context}`,
            '',
          ].join('\n'),
        );
        if (server) {
          ctx.out.write(
            [
              '',
              'Server: Berth Engine',
              ' Engine:',
              `  Version:          ${server.Version}`,
              `  API version:      ${server.ApiVersion} (minimum version ${server.MinAPIVersion})`,
              `  Node version:     ${server.GoVersion}`,
              `  OS/Arch:          ${server.Os}/${server.Arch}`,
              `  Kernel version:   ${server.KernelVersion}`,
              '',
            ].join('\n'),
          );
        }
      }
      if (serverErr) throw serverErr;
    });

  const info = async (opts: { format?: string }) => {
    const i = await ctx.client().json<Record<string, unknown>>('GET', '/info');
    if (opts.format) {
      // docker's dockerInfo: the server's fields inline (Go names for templates), then ClientInfo.
      const view = withGoFieldNames(
        {
          ...i,
          ClientInfo: {
            Debug: false,
            Version: BERTH_VERSION,
            Context: 'default',
            Plugins: [],
            Warnings: null,
          },
        },
        INFO_GO_NAMES,
      );
      ctx.out.write(renderOne(opts.format, view));
      return;
    }
    const runtimes = Object.keys((i.Runtimes as Record<string, unknown>) ?? {}).join(' ');
    const driverStatus = ((i.DriverStatus as [string, string][]) ?? []).map(([k, v]) => `  ${k}: ${v}`);
    const lines = [
      'Client:',
      ` Version:    ${BERTH_VERSION}`,
      ' Context:    default',
      ' Debug Mode: false',
      '',
      'Server:',
      ` Containers: ${i.Containers}`,
      `  Running: ${i.ContainersRunning}`,
      `  Paused: ${i.ContainersPaused}`,
      `  Stopped: ${i.ContainersStopped}`,
      ` Images: ${i.Images}`,
      ` Server Version: ${i.ServerVersion}`,
      ` Storage Driver: ${i.Driver}`,
      ...driverStatus,
      ` Logging Driver: ${i.LoggingDriver}`,
      ` Cgroup Driver: ${i.CgroupDriver}`,
      ` Cgroup Version: ${i.CgroupVersion}`,
      ` Runtimes: ${runtimes}`,
      ` Default Runtime: ${i.DefaultRuntime}`,
      ` Init Binary: ${i.InitBinary}`,
      ...runtimeLines(i),
      ` Kernel Version: ${i.KernelVersion}`,
      ` Operating System: ${i.OperatingSystem}`,
      ` OSType: ${i.OSType}`,
      ` Architecture: ${i.Architecture}`,
      ` CPUs: ${i.NCPU}`,
      ` Total Memory: ${bytesSize(Number(i.MemTotal))}`,
      ` Name: ${i.Name}`,
      ` ID: ${i.ID}`,
      ` Berth Root Dir: ${i.DockerRootDir}`,
      ` Debug Mode: ${i.Debug}`,
      ...registryLines(i),
      ` Live Restore Enabled: ${i.LiveRestoreEnabled}`,
      '',
    ];
    ctx.out.write(lines.join('\n'));
    for (const w of (i.Warnings as string[] | null) ?? []) ctx.err.write(`${w}\n`);
  };
  program
    .command('info')
    .description('Display system-wide information')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(info);
  const system = program.command('system').description('Manage Berth');
  registerSystemDf(system, ctx);
  registerSystemPrune(system, ctx);
  registerDialStdio(system, ctx);
  system
    .command('info')
    .description('Display system-wide information')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(info);
}

/** docker info's runtime and security lines: the runtime's commit, then each security option. */
function runtimeLines(i: Record<string, unknown>): string[] {
  const runc = (i.RuncCommit as { ID?: string } | undefined)?.ID ?? '';
  const lines = [` runc version: ${runc || 'N/A'}`];
  const opts = (i.SecurityOptions as string[] | null) ?? [];
  if (opts.length > 0) lines.push(' Security Options:');
  for (const o of opts) {
    // "name=seccomp,profile=builtin" prints as "seccomp" and "Profile: builtin", as docker does.
    const kv = Object.fromEntries(o.split(',').map((p) => p.split('=') as [string, string]));
    lines.push(`  ${kv.name ?? o}`);
    for (const [k, v] of Object.entries(kv))
      if (k !== 'name') lines.push(`   ${k[0]!.toUpperCase()}${k.slice(1)}: ${v}`);
  }
  return lines;
}

/** docker info's labels, insecure registries (names, then CIDRs) and mirrors. */
function registryLines(i: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const labels = (i.Labels as string[] | null) ?? [];
  if (labels.length > 0) lines.push(' Labels:', ...labels.map((l) => `  ${l}`));
  const reg = i.RegistryConfig as
    | {
        InsecureRegistryCIDRs?: string[];
        IndexConfigs?: Record<string, { Name: string; Secure: boolean }>;
        Mirrors?: string[];
      }
    | undefined;
  const insecureNames = Object.values(reg?.IndexConfigs ?? {})
    .filter((c) => !c.Secure)
    .map((c) => c.Name);
  const cidrs = reg?.InsecureRegistryCIDRs ?? [];
  if (insecureNames.length + cidrs.length > 0)
    lines.push(' Insecure Registries:', ...[...insecureNames, ...cidrs].map((r) => `  ${r}`));
  const mirrors = reg?.Mirrors ?? [];
  if (mirrors.length > 0) lines.push(' Registry Mirrors:', ...mirrors.map((m) => `  ${m}`));
  return lines;
}
