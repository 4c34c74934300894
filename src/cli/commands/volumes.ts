// Volume commands (volume create/ls/inspect/rm/prune) and the mount flags of run/create
// (-v, --mount, --volumes-from). `--mount` is parsed here into the API's Mount object, as the
// docker CLI does; `-v` strings go to the daemon as Binds (or Config.Volumes for a bare path).
import { effectiveFormat } from '../config-formats.ts';
import path from 'node:path';
import type { Command } from 'commander';
import { EngineError } from '../../client/index.ts';
import { CliError, type CliContext, collect, filtersJson } from '../context.ts';
import {
  humanSize,
  listFormat,
  naturalCompare,
  ramInBytes,
  renderInspect,
  renderList,
  VOLUME_HEADERS,
  VOLUME_TABLE_FORMAT,
  VolumeRow,
} from '../format/index.ts';

export interface VolumeRunOptions {
  volume: string[];
  mount: string[];
  volumesFrom: string[];
}

export function addVolumeRunOptions(c: Command): Command {
  return c
    .option('-v, --volume <list>', 'Bind mount a volume', collect, [])
    .option('--mount <mount>', 'Attach a filesystem mount to the container', collect, [])
    .option('--volumes-from <list>', 'Mount volumes from the specified container(s)', collect, []);
}

/** The create-body fields of the mount flags. */
export function volumeBody(o: VolumeRunOptions) {
  const binds: string[] = [];
  const volumes: Record<string, Record<string, never>> = {};
  for (const v of o.volume) {
    if (v === '') throw new CliError('invalid argument "" for "-v, --volume" flag: empty volume spec', 125);
    // A bare container path is an anonymous volume (Config.Volumes); anything else is a bind spec.
    // A source starting with `.` is a host path relative to here, as the docker CLI reads it.
    const i = v.indexOf(':');
    if (i === -1) volumes[v] = {};
    else if (v.startsWith('.')) binds.push(`${path.resolve(v.slice(0, i))}${v.slice(i)}`);
    else binds.push(v);
  }
  const mounts = o.mount.map(parseMountFlag);
  return {
    config: Object.keys(volumes).length > 0 ? { Volumes: volumes } : {},
    hostConfig: {
      ...(binds.length > 0 ? { Binds: binds } : {}),
      ...(mounts.length > 0 ? { Mounts: mounts } : {}),
      ...(o.volumesFrom.length > 0 ? { VolumesFrom: o.volumesFrom } : {}),
    },
  };
}

/** Splits one CSV record (docker parses --mount with encoding/csv): commas, "quoted, fields". */
export function splitCsv(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (quoted) {
      if (ch === '"' && s[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"' && cur === '') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (quoted) throw new CliError(`invalid argument "${s}" for "--mount" flag: unterminated quote`, 125);
  out.push(cur);
  return out;
}

export interface MountFlag {
  Type: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean };
  VolumeOptions?: {
    NoCopy?: boolean;
    Labels?: Record<string, string>;
    DriverConfig?: { Name?: string; Options?: Record<string, string> };
  };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

/** `--mount type=bind,source=/a,target=/b,readonly` → the API's Mount object (docker's keys). */
export function parseMountFlag(spec: string): MountFlag {
  const fail = (msg: string): never => {
    throw new CliError(`invalid argument "${spec}" for "--mount" flag: ${msg}`, 125);
  };
  const m: MountFlag = { Type: 'volume' };
  const bool = (key: string, v: string | undefined): boolean => {
    if (v === undefined) return true;
    const l = v.toLowerCase();
    if (['1', 'true'].includes(l)) return true;
    if (['0', 'false'].includes(l)) return false;
    return fail(`invalid value for ${key}: ${v}`);
  };
  const kv = (v: string | undefined, key: string): [string, string] => {
    const i = v?.indexOf('=') ?? -1;
    if (v === undefined || i <= 0) return fail(`invalid value for ${key}: use ${key}=KEY=VALUE`);
    return [v.slice(0, i), v.slice(i + 1)];
  };
  let sawVolume = false;
  let sawBind = false;
  let sawTmpfs = false;
  for (const field of splitCsv(spec)) {
    if (field === '') continue;
    const eq = field.indexOf('=');
    const key = (eq === -1 ? field : field.slice(0, eq)).toLowerCase().trim();
    const val = eq === -1 ? undefined : field.slice(eq + 1);
    const need = (): string =>
      val === undefined ? fail(`invalid field '${field}' must be a key=value pair`) : val;
    switch (key) {
      case 'type':
        m.Type = need().toLowerCase();
        break;
      case 'source':
      case 'src':
        m.Source = need();
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.Target = need();
        break;
      case 'readonly':
      case 'ro':
        m.ReadOnly = bool(key, val);
        break;
      case 'consistency':
        m.Consistency = need();
        break;
      case 'bind-propagation':
        sawBind = true;
        m.BindOptions = { ...m.BindOptions, Propagation: need().toLowerCase() };
        break;
      case 'bind-nonrecursive':
        sawBind = true;
        m.BindOptions = { ...m.BindOptions, NonRecursive: bool(key, val) };
        break;
      case 'bind-recursive': {
        sawBind = true;
        const v = need();
        if (v !== 'enabled' && v !== 'disabled')
          fail(`bind-recursive=${v} is not supported: use enabled or disabled`);
        m.BindOptions = { ...m.BindOptions, NonRecursive: v === 'disabled' };
        break;
      }
      case 'bind-create-mountpoint':
        sawBind = true;
        m.BindOptions = { ...m.BindOptions, CreateMountpoint: bool(key, val) };
        break;
      case 'volume-nocopy':
        sawVolume = true;
        m.VolumeOptions = { ...m.VolumeOptions, NoCopy: bool(key, val) };
        break;
      case 'volume-label': {
        sawVolume = true;
        const [k, v] = kv(val, key);
        m.VolumeOptions = { ...m.VolumeOptions, Labels: { ...m.VolumeOptions?.Labels, [k]: v } };
        break;
      }
      case 'volume-driver':
        sawVolume = true;
        m.VolumeOptions = {
          ...m.VolumeOptions,
          DriverConfig: { ...m.VolumeOptions?.DriverConfig, Name: need() },
        };
        break;
      case 'volume-opt': {
        sawVolume = true;
        const [k, v] = kv(val, key);
        const dc = m.VolumeOptions?.DriverConfig;
        m.VolumeOptions = {
          ...m.VolumeOptions,
          DriverConfig: { ...dc, Options: { ...dc?.Options, [k]: v } },
        };
        break;
      }
      case 'tmpfs-size': {
        sawTmpfs = true;
        const n = ramInBytes(need());
        if (n === undefined) fail(`invalid value for tmpfs-size: ${val}`);
        m.TmpfsOptions = { ...m.TmpfsOptions, SizeBytes: n! };
        break;
      }
      case 'tmpfs-mode': {
        sawTmpfs = true;
        const v = need();
        if (!/^[0-7]{1,4}$/.test(v)) fail(`invalid value for tmpfs-mode: ${v} (octal, e.g. 1777)`);
        m.TmpfsOptions = { ...m.TmpfsOptions, Mode: Number.parseInt(v, 8) };
        break;
      }
      default:
        fail(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (!m.Target) fail('target is required');
  const mix = (what: string) => fail(`cannot mix '${what}-*' options with mount type '${m.Type}'`);
  if (sawVolume && m.Type !== 'volume') mix('volume');
  if (sawBind && m.Type !== 'bind') mix('bind');
  if (sawTmpfs && m.Type !== 'tmpfs') mix('tmpfs');
  return m;
}

interface VolumeJson {
  Name: string;
  Driver: string;
  Scope: string;
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string> | null;
}

function kvList(list: readonly string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list) {
    const i = l.indexOf('=');
    if (what === 'label' && i === -1) out[l] = '';
    else if (i <= 0) throw new CliError(`invalid argument "${l}" for "--${what}" flag: use KEY=VALUE`, 125);
    else out[l.slice(0, i)] = l.slice(i + 1);
  }
  return out;
}

async function confirm(ctx: CliContext, warning: string): Promise<boolean> {
  ctx.out.write(`${warning}\nAre you sure you want to continue? [y/N] `);
  return new Promise((resolve) => {
    let buf = '';
    const done = () => {
      ctx.stdin.off('data', onData);
      ctx.stdin.off('end', done);
      ctx.stdin.pause();
      resolve(/^\s*y(es)?\s*$/i.test(buf.split('\n')[0] ?? ''));
    };
    const onData = (c: Buffer) => {
      buf += c.toString();
      if (buf.includes('\n')) done();
    };
    ctx.stdin.on('data', onData);
    ctx.stdin.on('end', done);
  });
}

export function registerVolumes(program: Command, ctx: CliContext): void {
  const volume = program.command('volume').description('Manage volumes');
  volume
    .command('create')
    .description('Create a volume')
    .argument('[VOLUME]')
    .option('-d, --driver <string>', 'Specify volume driver name', 'local')
    .option('--label <list>', 'Set metadata for a volume', collect, [])
    .option('-o, --opt <list>', 'Set driver specific options', collect, [])
    .option('--name <string>', 'Specify volume name')
    .action(
      async (
        arg: string | undefined,
        o: { driver: string; label: string[]; opt: string[]; name?: string },
      ) => {
        if (arg && o.name && arg !== o.name)
          throw new CliError(
            `conflicting options: either specify --name or provide positional arg, not both`,
            125,
          );
        const name = arg ?? o.name;
        const r = await ctx.client().json<VolumeJson>('POST', '/volumes/create', {
          body: {
            ...(name ? { Name: name } : {}),
            Driver: o.driver,
            DriverOpts: kvList(o.opt, 'opt'),
            Labels: kvList(o.label, 'label'),
          },
        });
        ctx.out.write(`${r.Name}\n`);
      },
    );
  volume
    .command('ls')
    .alias('list')
    .description('List volumes')
    .option('-f, --filter <filter>', 'Provide filter values (e.g. "dangling=true")', collect, [])
    .option('--format <string>', 'Format output using a custom template')
    .option('-q, --quiet', 'Only display volume names')
    .action(async (o: { filter: string[]; format?: string; quiet?: boolean }) => {
      const r = await ctx.client().json<{ Volumes: VolumeJson[] | null }>('GET', '/volumes', {
        query: { filters: filtersJson(o.filter) },
      });
      const volumes = [...(r.Volumes ?? [])].sort((x, y) => naturalCompare(x.Name, y.Name));
      const format = listFormat(
        effectiveFormat(o.format, 'volumesFormat', o.quiet),
        Boolean(o.quiet),
        VOLUME_TABLE_FORMAT,
        '{{.Name}}',
      );
      const rows = volumes.map((v) => new VolumeRow(v));
      ctx.out.write(renderList({ format, defaultTableFormat: format, headers: VOLUME_HEADERS, rows }));
    });
  volume
    .command('inspect')
    .description('Display detailed information on one or more volumes')
    .argument('<VOLUME...>')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(async (names: string[], o: { format?: string }) => {
      const results: unknown[] = [];
      const errors: string[] = [];
      for (const n of names) {
        try {
          results.push(await ctx.client().json('GET', `/volumes/${encodeURIComponent(n)}`));
        } catch (err) {
          if (err instanceof EngineError && err.status === 404)
            errors.push(`Error response from daemon: ${err.message}`);
          else throw err;
        }
      }
      ctx.out.write(renderInspect(o.format, results));
      if (errors.length > 0) throw new CliError(errors.join('\n'));
    });
  volume
    .command('rm')
    .alias('remove')
    .description('Remove one or more volumes')
    .argument('<VOLUME...>')
    .option('-f, --force', 'Force the removal of one or more volumes')
    .action(async (names: string[], o: { force?: boolean }) => {
      const errors: string[] = [];
      for (const n of names) {
        try {
          await ctx
            .client()
            .raw('DELETE', `/volumes/${encodeURIComponent(n)}`, { query: { force: o.force } });
          ctx.out.write(`${n}\n`);
        } catch (err) {
          if (err instanceof EngineError) errors.push(`Error response from daemon: ${err.message}`);
          else throw err;
        }
      }
      if (errors.length > 0) throw new CliError(errors.join('\n'));
    });
  volume
    .command('prune')
    .description('Remove unused local volumes')
    .option('-a, --all', 'Remove all unused volumes, not just anonymous ones')
    .option('-f, --force', 'Do not prompt for confirmation')
    .option('--filter <filter>', 'Provide filter values (e.g. "label=<label>")', collect, [])
    .action(async (o: { all?: boolean; force?: boolean; filter: string[] }) => {
      const warning = o.all
        ? 'WARNING! This will remove all local volumes not used by at least one container.'
        : 'WARNING! This will remove anonymous local volumes not used by at least one container.';
      if (!o.force && !(await confirm(ctx, warning))) return;
      const filters = [...o.filter, ...(o.all ? ['all=true'] : [])];
      const r = await ctx
        .client()
        .json<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/volumes/prune', {
          query: { filters: filtersJson(filters) },
        });
      const gone = r.VolumesDeleted ?? [];
      if (gone.length > 0) ctx.out.write(`Deleted Volumes:\n${gone.map((n) => `${n}\n`).join('')}\n`);
      ctx.out.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0, 4)}\n`);
    });
}
