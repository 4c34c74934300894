// Image commands: images/ls, inspect, tag, rmi, history, prune, save, load, import.
import { effectiveFormat } from '../config-formats.ts';
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import type { DeleteItem, HistoryItem, ImageSummary, JsonMessage } from '../../client/index.ts';
import { EngineError } from '../../client/index.ts';
import { CliError, type CliContext, collect, filtersJson } from '../context.ts';
import {
  HistoryRow,
  humanSize,
  IMAGE_HEADERS,
  imageFormat,
  imageRows,
  renderInspect,
  renderList,
  renderOne,
} from '../format/index.ts';
import { displayJsonMessages } from '../progress.ts';
import { registerRegistry, registerRegistryServer } from './registry.ts';
import { addUnsupported, platformFlag, unsupportedOption } from './unsupported.ts';

interface ListOpts {
  all?: boolean;
  quiet?: boolean;
  digests?: boolean;
  trunc?: boolean;
  filter: string[];
  format?: string;
}

export function registerImages(program: Command, ctx: CliContext): void {
  const list = async (repository: string | undefined, opts: ListOpts) => {
    const filter = [...opts.filter];
    if (repository) filter.push(`reference=${repository}`);
    const images = await ctx.client().json<ImageSummary[]>('GET', '/images/json', {
      query: { all: opts.all, digests: opts.digests, filters: filtersJson(filter) },
    });
    const format = imageFormat(
      effectiveFormat(opts.format, 'imagesFormat', opts.quiet),
      Boolean(opts.quiet),
      Boolean(opts.digests),
    );
    // One row per tag, like docker (so -q prints an image with two tags twice).
    const rows = imageRows(images, {
      trunc: opts.trunc !== false,
      showDigests: Boolean(opts.digests),
      format,
    });
    ctx.out.write(renderList({ format, defaultTableFormat: format, headers: IMAGE_HEADERS, rows }));
  };
  const listOptions = (c: Command) =>
    c
      .argument('[REPOSITORY[:TAG]]')
      .option('-a, --all', 'Show all images (default hides intermediate images)')
      .option('--digests', 'Show digests')
      .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect, [])
      .option(
        '--format <string>',
        "Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'",
      )
      .option('--no-trunc', "Don't truncate output")
      .option('-q, --quiet', 'Only show image IDs')
      .action(list);
  const listFlags = (c: Command) =>
    addUnsupported(listOptions(c), [
      {
        flags: '--tree',
        description: 'List multi-platform images as a tree (EXPERIMENTAL)',
        reason: 'Berth keeps one platform per image, so there is no tree to show',
      },
    ]);
  listFlags(program.command('images').description('List images'));

  const image = program.command('image').description('Manage images');
  registerRegistry(program, image, ctx);
  registerRegistryServer(program);
  listFlags(image.command('ls').alias('list').description('List images'));

  const inspect = async (names: string[], opts: { format?: string }) => {
    const results: unknown[] = [];
    const errors: string[] = [];
    for (const n of names) {
      try {
        results.push(await ctx.client().json('GET', `/images/${encodeURIComponent(n)}/json`));
      } catch (err) {
        if (err instanceof EngineError && err.status === 404)
          errors.push(`Error response from daemon: No such image: ${n}`);
        else throw err;
      }
    }
    if (opts.format) for (const r of results) ctx.out.write(renderOne(opts.format, r));
    else ctx.out.write(`${JSON.stringify(results, null, 4)}\n`);
    if (errors.length > 0) throw new CliError(errors.join('\n'));
  };
  image
    .command('inspect')
    .description('Display detailed information on one or more images')
    .argument('<IMAGE...>')
    .option('-f, --format <string>', 'Format output using a custom template')
    .addOption(unsupportedOption(platformFlag('Inspect a specific platform of the image')))
    .action(inspect);
  program
    .command('inspect')
    .description('Return low-level information on Berth objects')
    .argument('<NAME|ID...>')
    .option('-f, --format <string>', 'Format output using a custom template')
    .option('-s, --size', 'Display total file sizes if the type is container')
    .option('--type <string>', 'Return JSON for specified type')
    .action(async (names: string[], opts: { format?: string; type?: string; size?: boolean }) => {
      const type = opts.type ?? '';
      if (type !== '' && type !== 'container' && type !== 'image')
        throw new CliError(`"${type}" is not a valid value for --type`, 1);
      const kinds =
        type === 'container'
          ? (['container'] as const)
          : type === 'image'
            ? (['image'] as const)
            : (['container', 'image'] as const);
      const results: unknown[] = [];
      const errors: string[] = [];
      for (const n of names) {
        let found: unknown;
        for (const kind of kinds) {
          const url =
            kind === 'container'
              ? `/containers/${encodeURIComponent(n)}/json`
              : `/images/${encodeURIComponent(n)}/json`;
          try {
            found = await ctx
              .client()
              .json('GET', url, kind === 'container' ? { query: { size: opts.size } } : {});
            break;
          } catch (err) {
            if (!(err instanceof EngineError && err.status === 404)) throw err;
          }
        }
        if (found === undefined) {
          errors.push(type === '' ? `Error: No such object: ${n}` : `Error: No such ${type}: ${n}`);
        } else results.push(found);
      }
      ctx.out.write(renderInspect(opts.format, results));
      if (errors.length > 0) throw new CliError(errors.join('\n'));
    });

  const tag = async (source: string, target: string) => {
    const at = target.lastIndexOf(':');
    const slash = target.lastIndexOf('/');
    const [repo, t] = at > slash ? [target.slice(0, at), target.slice(at + 1)] : [target, 'latest'];
    await ctx.client().raw('POST', `/images/${encodeURIComponent(source)}/tag`, { query: { repo, tag: t } });
  };
  for (const c of [program.command('tag'), image.command('tag')]) {
    c.description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
      .argument('<SOURCE_IMAGE[:TAG]>')
      .argument('<TARGET_IMAGE[:TAG]>')
      .action(tag);
  }

  const rmi = async (names: string[], opts: { force?: boolean; prune?: boolean }) => {
    const errors: string[] = [];
    for (const n of names) {
      try {
        const items = await ctx.client().json<DeleteItem[]>('DELETE', `/images/${encodeURIComponent(n)}`, {
          query: { force: opts.force, noprune: opts.prune === false },
        });
        for (const it of items)
          ctx.out.write('Untagged' in it ? `Untagged: ${it.Untagged}\n` : `Deleted: ${it.Deleted}\n`);
      } catch (err) {
        if (err instanceof EngineError) errors.push(`Error response from daemon: ${err.message}`);
        else throw err;
      }
    }
    if (errors.length > 0) throw new CliError(errors.join('\n'));
  };
  for (const c of [program.command('rmi'), image.command('rm').alias('remove')]) {
    c.description('Remove one or more images')
      .argument('<IMAGE...>')
      .option('-f, --force', 'Force removal of the image')
      .option('--no-prune', 'Do not delete untagged parents')
      .addOption(unsupportedOption(platformFlag('Remove only the given platform variant')))
      .action(rmi);
  }

  const history = async (
    name: string,
    opts: { human?: boolean; quiet?: boolean; trunc?: boolean; format?: string },
  ) => {
    const items = await ctx
      .client()
      .json<HistoryItem[]>('GET', `/images/${encodeURIComponent(name)}/history`);
    const human = opts.human !== false;
    const trunc = opts.trunc !== false;
    // NewHistoryFormat: -q and -H=false change only the default table; a custom format wins.
    const given = opts.format === undefined || opts.format === '' ? 'table' : opts.format;
    const format =
      given !== 'table'
        ? given
        : opts.quiet
          ? '{{.ID}}'
          : human
            ? 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}'
            : 'table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
    const rows = items.map((h) => new HistoryRow(h, { trunc, human }));
    ctx.out.write(
      renderList({
        format,
        defaultTableFormat: format,
        headers: {
          ID: 'IMAGE',
          CreatedSince: 'CREATED',
          CreatedAt: 'CREATED AT',
          CreatedBy: 'CREATED BY',
          Size: 'SIZE',
          Comment: 'COMMENT',
        },
        rows,
      }),
    );
  };
  for (const c of [program.command('history'), image.command('history')]) {
    c.description('Show the history of an image')
      .argument('<IMAGE>')
      .option(
        '-H, --human [bool]',
        'Print sizes and dates in human readable format',
        // `-H=false` reaches here as "=false"; Go's ParseBool spellings of false turn it off.
        (v) => !/^=?(0|f|F|false|FALSE|False)$/.test(v),
        true,
      )
      .option('--no-trunc', "Don't truncate output")
      .option('-q, --quiet', 'Only show image IDs')
      .option('--format <string>', 'Format output using a custom template')
      .addOption(unsupportedOption(platformFlag('Show history for the given platform')))
      .action(history);
  }

  image
    .command('prune')
    .description('Remove unused images')
    .option('-a, --all', 'Remove all unused images, not just dangling ones')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', collect, [])
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async (opts: { all?: boolean; filter: string[]; force?: boolean }) => {
      if (!opts.force) {
        const warning = opts.all
          ? 'WARNING! This will remove all images without at least one container associated to them.'
          : 'WARNING! This will remove all dangling images.';
        ctx.out.write(`${warning}\nAre you sure you want to continue? [y/N] `);
        if (!(await confirm(ctx))) return;
      }
      const filter = [...opts.filter];
      if (opts.all) filter.push('dangling=false');
      const r = await ctx
        .client()
        .json<{ ImagesDeleted: DeleteItem[] | null; SpaceReclaimed: number }>('POST', '/images/prune', {
          query: { filters: filtersJson(filter) },
        });
      if (r.ImagesDeleted && r.ImagesDeleted.length > 0) {
        ctx.out.write('Deleted Images:\n');
        for (const it of r.ImagesDeleted)
          ctx.out.write('Untagged' in it ? `untagged: ${it.Untagged}\n` : `deleted: ${it.Deleted}\n`);
        ctx.out.write('\n');
      }
      ctx.out.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed, 4)}\n`);
    });

  const save = async (names: string[], opts: { output?: string }) => {
    if (!opts.output && ctx.out.isTTY) {
      throw new CliError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    }
    const res = await ctx.client().raw('GET', '/images/get', { query: { names } });
    if (opts.output) {
      // Write beside the target and rename, so a failed save never leaves a truncated file.
      const tmp = path.join(path.dirname(opts.output), `.${path.basename(opts.output)}.tmp-${process.pid}`);
      try {
        await pipeline(res, createWriteStream(tmp, { mode: 0o600 }));
        await fsp.rename(tmp, opts.output);
      } catch (err) {
        await fsp.rm(tmp, { force: true });
        throw err;
      }
    } else await pipeline(res, ctx.out);
  };
  for (const c of [program.command('save'), image.command('save')]) {
    c.description('Save one or more images to a tar archive (streamed to STDOUT by default)')
      .argument('<IMAGE...>')
      .option('-o, --output <file>', 'Write to a file, instead of STDOUT')
      .addOption(unsupportedOption(platformFlag('Save only the given platform variant')))
      .action(save);
  }

  const load = async (opts: { input?: string; quiet?: boolean }) => {
    if (!opts.input && ctx.stdin.isTTY) {
      throw new CliError('requested load from stdin, but stdin is empty');
    }
    const input = opts.input ? createReadStream(opts.input) : ctx.stdin;
    const quiet = opts.quiet || !ctx.out.isTTY;
    const messages = ctx
      .client()
      .jsonLines<JsonMessage>('POST', '/images/load', { stream: input, query: { quiet } });
    await displayJsonMessages(messages, ctx.out);
  };
  for (const c of [program.command('load'), image.command('load')]) {
    c.description('Load an image from a tar archive or STDIN')
      .option('-i, --input <file>', 'Read from tar archive file, instead of STDIN')
      .option('-q, --quiet', 'Suppress the load output')
      .addOption(unsupportedOption(platformFlag('Load only the given platform variant')))
      .action(load);
  }

  const doImport = async (
    file: string,
    reference: string | undefined,
    opts: { change: string[]; message?: string; platform?: string },
  ) => {
    const input = file === '-' ? ctx.stdin : createReadStream(file);
    let repo: string | undefined;
    let tagName: string | undefined;
    if (reference) {
      const at = reference.lastIndexOf(':');
      const slash = reference.lastIndexOf('/');
      [repo, tagName] =
        at > slash ? [reference.slice(0, at), reference.slice(at + 1)] : [reference, undefined];
    }
    const messages = ctx.client().jsonLines<JsonMessage>('POST', '/images/create', {
      stream: input,
      query: {
        fromSrc: '-',
        repo,
        tag: tagName,
        message: opts.message,
        changes: opts.change,
        platform: opts.platform,
      },
    });
    for await (const m of messages) {
      if (m.error) throw new CliError(m.error);
      if (m.status) ctx.out.write(`${m.status}\n`);
    }
  };
  for (const c of [program.command('import'), image.command('import')]) {
    c.description('Import the contents from a tarball to create a filesystem image')
      .argument('<file|URL|->')
      .argument('[REPOSITORY[:TAG]]')
      .option('-c, --change <instruction>', 'Apply Dockerfile instruction to the created image', collect, [])
      .option('-m, --message <string>', 'Set commit message for imported image')
      .option('--platform <string>', 'Set platform if server is multi-platform capable')
      .action(doImport);
  }
}

async function confirm(ctx: CliContext): Promise<boolean> {
  if (ctx.stdin.isTTY === undefined && ctx.stdin.readableEnded) return false;
  return new Promise((resolve) => {
    let buf = '';
    const onData = (c: Buffer) => {
      buf += c.toString();
      if (buf.includes('\n')) done();
    };
    const done = () => {
      ctx.stdin.off('data', onData);
      ctx.stdin.off('end', done);
      ctx.stdin.pause();
      resolve(/^\s*y(es)?\s*$/i.test(buf.split('\n')[0] ?? ''));
    };
    ctx.stdin.on('data', onData);
    ctx.stdin.on('end', done);
  });
}
