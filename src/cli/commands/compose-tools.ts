// The compose commands that wrap one engine call per container: cp, events, wait, push. Each
// follows Docker Compose v2's behaviour and output (pkg/compose/{cp,events,wait,push}.go and
// their cmd/compose front ends): which containers a service stands for, what is printed, the
// exit code.
import type { Command } from 'commander';
import {
  type ContainerSummary,
  ComposeApi,
  down,
  LABEL,
  type Project,
  services,
} from '../../compose/index.ts';
import { CliError } from '../context.ts';
import type { ComposeContext } from './compose.ts';
import { composeAction } from './compose-up.ts';
import { copyFromContainer, copyToContainer, splitCpArg } from './container-fs.ts';
import { setExitCode } from './container-io.ts';
import { eventTimestamp } from './events.ts';
import { registryAuthHeader, registryOf } from './registry.ts';

const nameOf = (c: ContainerSummary) => (c.Names[0] ?? '').replace(/^\//, '');
const byNumber = (a: ContainerSummary, b: ContainerSummary) =>
  Number(a.Labels[LABEL.number] ?? 0) - Number(b.Labels[LABEL.number] ?? 0);

export function registerComposeTools(compose: Command, cc: ComposeContext): void {
  const ctx = cc.cli;
  const api = () => new ComposeApi(ctx.client());
  const progress = (l: string) => ctx.err.write(` ${l}\n`);
  /** The project's name: from the files, or -p / COMPOSE_PROJECT_NAME alone (v2's projectOrName). */
  const projectName = (): { name: string; project?: Project } => {
    const only = cc.projectNameOnly();
    try {
      const p = cc.project();
      return { name: p.name, project: p };
    } catch (err) {
      if (only !== undefined) return { name: only };
      throw err;
    }
  };
  const checkServices = (p: Project | undefined, names: readonly string[]) => {
    if (!p) return;
    for (const n of names) if (!Object.hasOwn(services(p), n)) throw new CliError(`no such service: ${n}`, 1);
  };

  compose
    .command('cp')
    .description('Copy files/folders between a service container and the local filesystem')
    .usage(
      '[OPTIONS] SERVICE:SRC_PATH DEST_PATH|-\n       berth compose cp [OPTIONS] SRC_PATH|- SERVICE:DEST_PATH',
    )
    .argument('<source>')
    .argument('<destination>')
    .option('--all', 'Include containers created by the run command')
    .option('-a, --archive', 'Archive mode (copy all uid/gid information)')
    .option('-L, --follow-link', 'Always follow symbol link in SRC_PATH')
    .option('--index <n>', 'Index of the container if service has multiple replicas')
    .action(
      (
        source: string,
        destination: string,
        o: { all?: boolean; archive?: boolean; followLink?: boolean; index?: string },
      ) =>
        composeAction(async () => {
          const src = splitCpArg(source);
          const dst = splitCpArg(destination);
          if (src.container !== undefined && dst.container !== undefined)
            throw new CliError('copying between services is not supported', 1);
          if (src.container === undefined && dst.container === undefined)
            throw new CliError(
              'unknown copy direction: name a service on one side (SERVICE:PATH), e.g. "web:/etc/hosts ."',
              1,
            );
          const service = (src.container ?? dst.container)!;
          const index = o.index !== undefined ? Number(o.index) : 0;
          if (!Number.isInteger(index) || index < 0)
            throw new CliError(`invalid --index "${o.index}": give a replica number (1, 2, …)`, 1);
          const { name, project } = projectName();
          checkServices(project, [service]);
          const label = [`${LABEL.service}=${service}`];
          let cs = (await api().containers(name, { all: false, labels: label })).filter(
            (c) => o.all === true || index > 0 || c.Labels[LABEL.oneoff] !== 'True',
          );
          cs.sort(byNumber);
          if (index > 0) {
            cs = cs.filter(
              (c) => c.Labels[LABEL.number] === String(index) && c.Labels[LABEL.oneoff] !== 'True',
            );
            if (cs.length === 0)
              throw new CliError(`service "${service}" is not running container #${index}`, 1);
          }
          if (cs.length === 0) throw new CliError(`no container found for service "${service}"`, 1);
          // From a service: its first container; to a service: every one of them (as v2).
          if (src.container !== undefined) cs = cs.slice(0, 1);
          const opts = { archive: o.archive === true, followLink: o.followLink === true, quiet: true };
          await Promise.all(
            cs.map(async (c) => {
              const n = nameOf(c);
              const what =
                src.container !== undefined
                  ? `${n}:${src.path} to ${dst.path}`
                  : `${src.path} to ${n}:${dst.path}`;
              progress(`Container ${n}  Copying ${what}`);
              if (src.container !== undefined) {
                if (src.path === '') throw new CliError('source path cannot be empty', 1);
                await copyFromContainer(ctx, c.Id, src.path, dst.path, opts);
              } else {
                if (dst.path === '') throw new CliError('destination path cannot be empty', 1);
                await copyToContainer(ctx, src.path, c.Id, dst.path, opts);
              }
              progress(`Container ${n}  Copied ${what}`);
            }),
          );
        }),
    );

  compose
    .command('events')
    .description('Receive real time events from containers')
    .argument('[services...]')
    .option('--json', 'Output events as a stream of json objects')
    .option('--since <string>', 'Show all events created since timestamp')
    .option('--until <string>', 'Stream events until this timestamp')
    .action((names: string[], o: { json?: boolean; since?: string; until?: string }) =>
      composeAction(async () => {
        const { name, project } = projectName();
        checkServices(project, names);
        const now = Date.now();
        const res = await ctx.client().raw('GET', '/events', {
          query: {
            since: o.since !== undefined ? eventTimestamp(o.since, now) : undefined,
            until: o.until !== undefined ? eventTimestamp(o.until, now) : undefined,
            filters: JSON.stringify({ label: [`${LABEL.project}=${name}`] }),
          },
        });
        let buf = '';
        const emit = (line: string) => {
          if (!line.trim()) return;
          const out = composeEvent(line, names, o.json === true);
          if (out !== undefined) ctx.out.write(out);
        };
        for await (const chunk of res) {
          buf += (chunk as Buffer).toString('utf8');
          for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
            emit(buf.slice(0, nl));
            buf = buf.slice(nl + 1);
          }
        }
        emit(buf);
      }),
    );

  compose
    .command('wait')
    .description('Block until containers of all (or specified) services stop.')
    .usage('SERVICE [SERVICE...] [OPTIONS]')
    .argument('<services...>')
    .option('--down-project', 'Drops project when the first container stops')
    .action((names: string[], o: { downProject?: boolean }) =>
      composeAction(async () => {
        const { name, project } = projectName();
        checkServices(project, names);
        const a = api();
        const cs = (await a.containers(name, { all: false })).filter((c) =>
          names.includes(c.Labels[LABEL.service] ?? ''),
        );
        if (cs.length === 0) throw new CliError(`no containers for project "${name}"`, 1);
        let status = 0;
        const waits = cs.map(async (c) => {
          const code = await a.wait(c.Id);
          ctx.out.write(`container "${c.Id}" exited with status code ${code}\n`);
          status = code;
        });
        if (o.downProject) {
          // v2 drops the project when the first container stops (its errgroup ends on the first).
          await Promise.race(waits);
          await down(a, name, project, { progress, removeOrphans: true });
        } else await Promise.all(waits);
        setExitCode(status);
      }),
    );

  compose
    .command('push')
    .description('Push service images')
    .argument('[services...]')
    .option('--ignore-push-failures', 'Push what it can and ignores images with push failures')
    .option('--include-deps', 'Also push images of services declared as dependencies')
    .option('-q, --quiet', 'Push without printing progress information')
    .action((names: string[], o: { ignorePushFailures?: boolean; includeDeps?: boolean; quiet?: boolean }) =>
      composeAction(async () => {
        const p = cc.project(names);
        checkServices(p, names);
        const all = services(p);
        const picked = new Set(names.length ? names : Object.keys(all));
        if (o.includeDeps) {
          const add = (s: string) => {
            for (const d of Object.keys((all[s]?.depends_on as object | undefined) ?? {}))
              if (!picked.has(d)) {
                picked.add(d);
                add(d);
              }
          };
          for (const s of [...picked]) add(s);
        }
        const say = (l: string) => {
          if (!o.quiet) progress(l);
        };
        await Promise.all(
          [...picked].map(async (s) => {
            const svc = all[s]!;
            // As v2: only services that are built and name their image are pushed.
            if (svc.build === undefined || typeof svc.image !== 'string') return say(`Service ${s}  Skipped`);
            const build = svc.build as { tags?: string[] };
            for (const tag of [svc.image, ...(build.tags ?? [])]) {
              say(`Image ${tag}  Pushing`);
              try {
                await pushImage(ctx.client(), tag);
                say(`Image ${tag}  Pushed`);
              } catch (err) {
                const m = `Image ${tag}  ${(err as Error).message}`;
                if (!o.ignorePushFailures)
                  throw new CliError(`failed to push ${tag} (service "${s}"): ${(err as Error).message}`, 1);
                ctx.err.write(` WARN ${m}\n`);
              }
            }
          }),
        );
      }),
    );
}

/** One image push through the engine; an error line in the progress becomes an Error. */
async function pushImage(client: ReturnType<ComposeContext['cli']['client']>, ref: string): Promise<void> {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  const [name, tag] = colon > slash ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'latest'];
  const auth = registryAuthHeader(registryOf(name));
  for await (const m of client.jsonLines<{ error?: string; errorDetail?: { message?: string } }>(
    'POST',
    `/images/${name}/push`,
    { query: { tag }, headers: { 'X-Registry-Auth': auth ?? Buffer.from('{}').toString('base64url') } },
  )) {
    if (m.error || m.errorDetail) throw new Error(m.errorDetail?.message ?? m.error ?? 'push failed');
  }
}

interface RawEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
}

/**
 * One engine event as `compose events` prints it, or undefined when v2 drops it: only container
 * events, no one-off containers, only the named services; compose's own labels are left out of
 * the attributes.
 */
export function composeEvent(line: string, only: readonly string[], json: boolean): string | undefined {
  const e = JSON.parse(line) as RawEvent;
  if (e.Type !== 'container') return undefined;
  const attrs = e.Actor?.Attributes ?? {};
  if (attrs[LABEL.oneoff] === 'True') return undefined;
  const service = attrs[LABEL.service] ?? '';
  if (only.length > 0 && !only.includes(service)) return undefined;
  const attributes: Record<string, string> = {};
  for (const k of Object.keys(attrs).sort())
    if (!k.startsWith('com.docker.compose.')) attributes[k] = attrs[k]!;
  // Nanoseconds since 1970 do not fit a double: read them from the raw line.
  const nano = /"timeNano":\s*(\d+)/.exec(line)?.[1];
  const ns = nano && nano !== '0' ? BigInt(nano) : BigInt(e.time ?? 0) * 1_000_000_000n;
  if (json) {
    // Go's json.Marshal of a map sorts the keys; time.Time is RFC 3339 with nanoseconds.
    return `${JSON.stringify({
      action: e.Action ?? '',
      attributes,
      id: e.Actor?.ID ?? '',
      service,
      time: goTime(ns, 'rfc3339nano'),
      type: 'container',
    })}\n`;
  }
  const list = Object.entries(attributes).map(([k, v]) => `${k}=${v}`);
  // v2's Event.String() ends with a newline and Fprintln adds one more: an empty line follows.
  return `${goTime(ns, 'micro')} container ${e.Action ?? ''} ${e.Actor?.ID ?? ''} (${list.join(', ')})\n\n`;
}

/**
 * A nanosecond time in the local zone as Go formats it: `2006-01-02 15:04:05.000000` (micro), or
 * time.Time's JSON form, RFC 3339 with trailing zeros of the fraction dropped and Z for UTC.
 */
export function goTime(ns: bigint, layout: 'micro' | 'rfc3339nano'): string {
  const ms = Number(ns / 1_000_000n);
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const local = new Date(ms + off * 60_000);
  const p2 = (n: number) => String(n).padStart(2, '0');
  const date = `${local.getUTCFullYear()}-${p2(local.getUTCMonth() + 1)}-${p2(local.getUTCDate())}`;
  const clock = `${p2(local.getUTCHours())}:${p2(local.getUTCMinutes())}:${p2(local.getUTCSeconds())}`;
  const frac = String(ns % 1_000_000_000n).padStart(9, '0');
  if (layout === 'micro') return `${date} ${clock}.${frac.slice(0, 6)}`;
  const trimmed = frac.replace(/0+$/, '');
  const zone =
    off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${p2(Math.floor(Math.abs(off) / 60))}:${p2(Math.abs(off) % 60)}`;
  return `${date}T${clock}${trimmed ? `.${trimmed}` : ''}${zone}`;
}
