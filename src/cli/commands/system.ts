import type { Command } from 'commander';
import { BERTH_VERSION } from '../../base/version.ts';
import type { VersionInfo } from '../../client/index.ts';
import type { CliContext } from '../context.ts';
import { bytesSize, renderOne } from '../format/index.ts';

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
        Context: 'default',
      };
      let server: (VersionInfo & { Components?: unknown }) | undefined;
      let serverErr: Error | undefined;
      try {
        server = await ctx.client().json<VersionInfo>('GET', '/version');
      } catch (err) {
        serverErr = err as Error;
      }
      if (opts.format) {
        ctx.out.write(renderOne(opts.format, { Client: client, Server: server ?? null }));
      } else {
        ctx.out.write(
          [
            'Client:',
            ` Version:           ${client.Version}`,
            ` API version:       ${client.ApiVersion}`,
            ` Node version:      ${client.GoVersion}`,
            ` OS/Arch:           ${client.Os}/${client.Arch}`,
            ` Context:           default`,
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
      ctx.out.write(renderOne(opts.format, i));
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
  system
    .command('info')
    .description('Display system-wide information')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(info);
}
