// berth context: docker's contexts, in docker's store, so `docker context` and `berth context`
// list, create and switch the same contexts (src/cli/contexts/ holds the store and the rules).
import { createReadStream, promises as fsp } from 'node:fs';
import { Readable } from 'node:stream';
import type { Command } from 'commander';
import { CliError, type CliContext } from '../context.ts';
import {
  type ContextMetadata,
  ContextStore,
  configDir,
  DEFAULT_CONTEXT,
  type DockerEndpoint,
  defaultHost,
  exportContext,
  type GlobalConnectionOptions,
  importContext,
  resolveContextName,
  validateContextName,
} from '../contexts/index.ts';
import { ellipsis, renderInspect, renderList } from '../format/index.ts';

const DEFAULT_DESCRIPTION = 'Current DOCKER_HOST based configuration';
const HOST_OVERRIDE_WARNING =
  'Warning: DOCKER_HOST environment variable overrides the active context. To use a context, either set the global --context flag, or unset DOCKER_HOST environment variable.';
const DOCKER_KEYS = new Set(['from', 'host', 'ca', 'cert', 'key', 'skip-tls-verify']);

class ContextRow {
  readonly #error: string;
  constructor(
    readonly Name: string,
    readonly Description: string,
    readonly DockerEndpoint: string,
    readonly Current: boolean,
    error: string,
  ) {
    this.#error = error;
  }

  get Error(): string {
    return ellipsis(this.#error, 45);
  }
}

export function registerContext(program: Command, ctx: CliContext): void {
  const store = () => new ContextStore(configDir(process.env));
  const globals = () => program.opts<GlobalConnectionOptions>();
  const current = () => resolveContextName(globals(), process.env, store());
  const defaultMeta = (): ContextMetadata => ({
    Name: DEFAULT_CONTEXT,
    Metadata: {},
    Endpoints: { docker: { Host: defaultHost(globals(), process.env), SkipTLSVerify: false } },
  });
  const metaOf = (name: string) => (name === DEFAULT_CONTEXT ? defaultMeta() : store().get(name));
  const done = (name: string, message: string) => {
    ctx.out.write(`${name}\n`);
    ctx.err.write(`${message}\n`);
  };

  const context = program.command('context').description('Manage contexts');

  context
    .command('create')
    .description('Create a context')
    .argument('<CONTEXT>')
    .option('--description <string>', 'Description of the context')
    .option('--docker <stringToString>', 'set the docker endpoint', parseKeyValues)
    .option('--from <string>', 'create context from a named context')
    .action(
      async (name: string, o: { description?: string; docker?: Record<string, string>; from?: string }) => {
        const s = store();
        await checkNameForCreation(s, name);
        if (o.from !== undefined || o.docker === undefined) {
          if (o.docker !== undefined) throw new CliError('cannot use --docker flag when --from is set');
          // docker copies the current (or --from) context, tls files included, via export/import.
          const from = await metaOf(o.from ?? (await current()));
          const meta = { ...from, Metadata: { ...from.Metadata } };
          if (o.description !== undefined) meta.Metadata.Description = o.description;
          const archive = await exportContext(s, meta);
          await importContext(s, name, Readable.from([archive]));
        } else {
          const { endpoint, tls } = await dockerEndpoint(s, o.docker);
          await s.write({
            Name: name,
            Metadata: { Description: o.description ?? '' },
            Endpoints: { docker: endpoint },
          });
          await s.writeTls(name, 'docker', tls);
        }
        done(name, `Successfully created context "${name}"`);
      },
    );

  for (const c of [context.command('ls'), context.command('list')]) {
    c.description('List contexts')
      .option('--format <string>', 'Format output using a custom template')
      .option('-q, --quiet', 'Only show context names')
      .action(async (o: { format?: string; quiet?: boolean }) => {
        const s = store();
        const cur = await current();
        const rows: ContextRow[] = [];
        for (const m of [defaultMeta(), ...(await s.list())]) {
          rows.push(
            new ContextRow(
              m.Name,
              m.Name === DEFAULT_CONTEXT ? DEFAULT_DESCRIPTION : String(m.Metadata.Description ?? ''),
              m.Endpoints.docker?.Host ?? '',
              m.Name === cur,
              '',
            ),
          );
        }
        if (!rows.some((r) => r.Current)) {
          const err = await s.get(cur).then(
            () => '',
            (e: Error) => e.message,
          );
          rows.push(new ContextRow(cur, '', '', true, err));
        }
        rows.sort((a, b) => naturalCompare(a.Name, b.Name));
        ctx.out.write(
          renderList({
            format: o.format,
            defaultTableFormat:
              'table {{.Name}}{{if .Current}} *{{end}}\t{{.Description}}\t{{.DockerEndpoint}}\t{{.Error}}',
            headers: {
              Name: 'NAME',
              Description: 'DESCRIPTION',
              DockerEndpoint: 'DOCKER ENDPOINT',
              Error: 'ERROR',
            },
            rows,
            quiet: o.quiet,
            quietFormat: '{{.Name}}',
          }),
        );
        if (process.env.DOCKER_HOST) ctx.err.write(`${HOST_OVERRIDE_WARNING}\n`);
      });
  }

  context
    .command('use')
    .description('Set the current docker context')
    .argument('<CONTEXT>')
    .action(async (name: string) => {
      const s = store();
      if (name !== DEFAULT_CONTEXT) {
        validateContextName(name);
        await s.get(name);
      }
      await s.setCurrentContext(name === DEFAULT_CONTEXT ? '' : name);
      done(name, `Current context is now "${name}"`);
      if (name !== DEFAULT_CONTEXT && process.env.DOCKER_HOST) {
        ctx.err.write(
          `Warning: DOCKER_HOST environment variable overrides the active context. To use "${name}", either set the global --context flag, or unset DOCKER_HOST environment variable.\n`,
        );
      }
    });

  for (const c of [context.command('rm'), context.command('remove')]) {
    c.description('Remove one or more contexts')
      .argument('<CONTEXT...>')
      .option('-f, --force', 'Force the removal of a context in use')
      .action(async (names: string[], o: { force?: boolean }) => {
        const s = store();
        const cur = await current();
        const errors: string[] = [];
        for (const name of names) {
          try {
            if (name === DEFAULT_CONTEXT) throw new CliError('context "default" cannot be removed');
            if (name === cur) {
              if (!o.force) throw new CliError(`context "${name}" is in use, set -f flag to force remove`);
              await s.setCurrentContext('');
            }
            if (!o.force && !(await s.find(name))) throw new CliError(`context "${name}" does not exist`);
            await s.remove(name);
            ctx.out.write(`${name}\n`);
          } catch (err) {
            if (!(err instanceof CliError)) throw err;
            errors.push(err.message);
          }
        }
        if (errors.length > 0) throw new CliError(errors.join('\n'));
      });
  }

  context
    .command('inspect')
    .description('Display detailed information on one or more contexts')
    .argument('[CONTEXT...]')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(async (names: string[], o: { format?: string }) => {
      const s = store();
      const refs = names.length > 0 ? names : [await current()];
      const items: unknown[] = [];
      for (const name of refs) {
        const meta = await metaOf(name);
        items.push({
          ...meta,
          TLSMaterial: name === DEFAULT_CONTEXT ? {} : await s.tlsFiles(name),
          Storage:
            name === DEFAULT_CONTEXT
              ? { MetadataPath: '<IN MEMORY>', TLSPath: '<IN MEMORY>' }
              : { MetadataPath: s.metaDir(name), TLSPath: s.tlsDir(name) },
        });
      }
      ctx.out.write(renderInspect(o.format, items));
    });

  context
    .command('export')
    .description('Export a context to a tar archive FILE or a tar stream on STDOUT.')
    .argument('<CONTEXT>')
    .argument('[FILE|-]')
    .action(async (name: string, file: string | undefined) => {
      if (name !== DEFAULT_CONTEXT) validateContextName(name);
      const archive = await exportContext(store(), await metaOf(name));
      const dest = file ?? `${name}.dockercontext`;
      if (dest === '-') {
        if (ctx.out.isTTY)
          throw new CliError('cowardly refusing to export to a terminal, specify a file path');
        ctx.out.write(archive);
        return;
      }
      await fsp.writeFile(dest, archive, { mode: 0o600 });
      ctx.err.write(`Written file "${dest}"\n`);
    });

  context
    .command('import')
    .description('Import a context from a tar or zip file')
    .argument('<CONTEXT>')
    .argument('<FILE|->')
    .action(async (name: string, file: string) => {
      const s = store();
      await checkNameForCreation(s, name);
      await importContext(s, name, file === '-' ? ctx.stdin : createReadStream(file));
      done(name, `Successfully imported context "${name}"`);
    });

  context
    .command('show')
    .description('Print the name of the current context')
    .action(async () => {
      ctx.out.write(`${await current()}\n`);
    });

  context
    .command('update')
    .description('Update a context')
    .argument('<CONTEXT>')
    .option('--description <string>', 'Description of the context')
    .option('--docker <stringToString>', 'set the docker endpoint', parseKeyValues)
    .action(async (name: string, o: { description?: string; docker?: Record<string, string> }) => {
      validateContextName(name);
      const s = store();
      const meta = await s.get(name);
      if (o.description) meta.Metadata.Description = o.description;
      if (o.docker !== undefined) {
        const { endpoint, tls } = await dockerEndpoint(s, o.docker);
        meta.Endpoints.docker = endpoint;
        await s.writeTls(name, 'docker', tls);
      }
      await s.write(meta);
      done(name, `Successfully updated context "${name}"`);
    });
}

async function checkNameForCreation(s: ContextStore, name: string): Promise<void> {
  validateContextName(name);
  if (await s.find(name)) throw new CliError(`context "${name}" already exists`);
}

/** pflag's stringToString: `k=v,k2=v2`, repeatable. */
function parseKeyValues(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const out = { ...previous };
  for (const part of value.split(',')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0)
      throw new CliError(
        `invalid argument "${value}" for "--docker" flag: ${part} must be formatted as key=value`,
        125,
      );
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

/** The --docker endpoint: host and skip-tls-verify, TLS files read from ca/cert/key, or from another context. */
async function dockerEndpoint(
  s: ContextStore,
  config: Record<string, string>,
): Promise<{ endpoint: DockerEndpoint; tls: Record<string, Buffer> }> {
  const fail = (m: string) => new CliError(`unable to create docker endpoint config: ${m}`);
  const unknown = Object.keys(config).filter((k) => !DOCKER_KEYS.has(k));
  if (unknown.length > 0) throw fail(unknown.map((k) => `unrecognized config key: ${k}`).join('\n'));
  if (config.from !== undefined) {
    const from = await s.get(config.from).catch((e: Error) => {
      throw fail(e.message);
    });
    if (!from.Endpoints.docker) throw fail(`unable to get endpoint from context "${config.from}"`);
    return { endpoint: from.Endpoints.docker, tls: {} };
  }
  const skip = config['skip-tls-verify'];
  let skipTLSVerify = false;
  if (skip !== undefined) {
    if (/^(1|t|T|TRUE|true|True)$/.test(skip)) skipTLSVerify = true;
    else if (!/^(0|f|F|FALSE|false|False)$/.test(skip))
      throw fail(`skip-tls-verify: parsing "${skip}": invalid syntax`);
  }
  const host = config.host ?? '';
  if (host !== '' && !/^(unix|tcp|http|https|ssh|npipe|fd):\/\//.test(host)) {
    throw fail(`unable to parse docker host \`${host}\``);
  }
  const tls: Record<string, Buffer> = {};
  for (const [k, file] of [
    ['ca', 'ca.pem'],
    ['cert', 'cert.pem'],
    ['key', 'key.pem'],
  ] as const) {
    const p = config[k];
    if (p) tls[file] = await fsp.readFile(p.replace(/^~(?=\/)/, process.env.HOME ?? '~'));
  }
  return { endpoint: { Host: host, SkipTLSVerify: skipTLSVerify }, tls };
}

/** sortorder.NaturalLess: byte order, except that runs of digits compare as numbers. */
export function naturalCompare(a: string, b: string): number {
  const digit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (digit(a[i]) && digit(b[j])) {
      let ei = i;
      let ej = j;
      while (digit(a[ei])) ei++;
      while (digit(b[ej])) ej++;
      const x = a.slice(i, ei).replace(/^0+/, '');
      const y = b.slice(j, ej).replace(/^0+/, '');
      if (x.length !== y.length) return x.length - y.length;
      if (x !== y) return x < y ? -1 : 1;
      i = ei;
      j = ej;
      continue;
    }
    if (a[i] !== b[j]) return a[i]! < b[j]! ? -1 : 1;
    i++;
    j++;
  }
  return a.length - i - (b.length - j);
}
