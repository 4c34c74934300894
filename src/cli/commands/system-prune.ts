// berth system prune: docker 28's prompt, then container, network, (volume), image and build
// cache prunes in docker's order, each printing what it deleted, then "Total reclaimed space".
import type { Command } from 'commander';
import { CliError, type CliContext, collect, filtersJson } from '../context.ts';
import { humanSize } from '../format/index.ts';

interface Opts {
  all?: boolean;
  volumes?: boolean;
  force?: boolean;
  filter: string[];
}

/** docker's confirmation text (cli/command/system/prune.go, v28). */
export function pruneWarning(o: Opts): string {
  const lines = ['  - all stopped containers', '  - all networks not used by at least one container'];
  if (o.volumes) lines.push('  - all anonymous volumes not used by at least one container');
  lines.push(
    o.all ? '  - all images without at least one container associated to them' : '  - all dangling images',
  );
  lines.push(o.all ? '  - all build cache' : '  - unused build cache');
  let text = `WARNING! This will remove:\n${lines.join('\n')}\n`;
  const shown = o.filter.filter((f) => /^(label|label!|until)=/.test(f.replace(/^(\w+!?)\s*=/, '$1=')));
  if (shown.length > 0) {
    const sorted = [...new Set(shown)].sort();
    text += `\n  Items to be pruned will be filtered with:\n${sorted.map((f) => `  - ${f}`).join('\n')}\n`;
  }
  return `${text}\nAre you sure you want to continue? [y/N] `;
}

export function registerSystemPrune(system: Command, ctx: CliContext): void {
  system
    .command('prune')
    .description('Remove unused data')
    .option('-a, --all', 'Remove all unused images not just dangling ones')
    .option('--filter <filter>', 'Provide filter values (e.g. "label=<key>=<value>")', collect, [])
    .option('-f, --force', 'Do not prompt for confirmation')
    .option('--volumes', 'Prune anonymous volumes')
    .action(async (o: Opts) => {
      if (o.volumes && o.filter.some((f) => /^until\s*=/.test(f))) {
        throw new CliError('ERROR: The "until" filter is not supported with "--volumes"');
      }
      if (!o.force) {
        ctx.out.write(pruneWarning(o));
        // Cancelled: docker prints nothing more and exits 0.
        if (!(await answeredYes(ctx.stdin))) return;
      }
      const client = ctx.client();
      const filters = filtersJson(o.filter);
      let reclaimed = 0;
      const report = (title: string, items: readonly string[]) => {
        if (items.length > 0) ctx.out.write(`${title}\n${items.map((i) => `${i}\n`).join('')}\n`);
      };

      const c = await client.json<{ ContainersDeleted?: string[] | null; SpaceReclaimed?: number }>(
        'POST',
        '/containers/prune',
        { query: { filters } },
      );
      report('Deleted Containers:', c.ContainersDeleted ?? []);
      // docker counts a prune's space only when it deleted something.
      if ((c.ContainersDeleted ?? []).length > 0) reclaimed += c.SpaceReclaimed ?? 0;

      const n = await client.json<{ NetworksDeleted?: string[] | null }>('POST', '/networks/prune', {
        query: { filters },
      });
      report('Deleted Networks:', n.NetworksDeleted ?? []);

      if (o.volumes) {
        const v = await client.json<{ VolumesDeleted?: string[] | null; SpaceReclaimed?: number }>(
          'POST',
          '/volumes/prune',
          { query: { filters } },
        );
        report('Deleted Volumes:', v.VolumesDeleted ?? []);
        if ((v.VolumesDeleted ?? []).length > 0) reclaimed += v.SpaceReclaimed ?? 0;
      }

      const i = await client.json<{
        ImagesDeleted?: { Untagged?: string; Deleted?: string }[] | null;
        SpaceReclaimed?: number;
      }>('POST', '/images/prune', {
        query: { filters: filtersJson([...o.filter, `dangling=${o.all ? 'false' : 'true'}`]) },
      });
      report(
        'Deleted Images:',
        (i.ImagesDeleted ?? []).map((d) =>
          d.Untagged ? `untagged: ${d.Untagged}` : `deleted: ${d.Deleted ?? ''}`,
        ),
      );
      if ((i.ImagesDeleted ?? []).length > 0) reclaimed += i.SpaceReclaimed ?? 0;

      const b = await client.json<{ CachesDeleted?: string[] | null; SpaceReclaimed?: number }>(
        'POST',
        '/build/prune',
        { query: { all: o.all ? '1' : undefined, filters } },
      );
      report('Deleted build cache objects:', b.CachesDeleted ?? []);
      reclaimed += b.SpaceReclaimed ?? 0;

      ctx.out.write(`Total reclaimed space: ${humanSize(reclaimed, 4)}\n`);
    });
}

/** docker's prompt.Confirm: the first line of stdin is "y" or "yes" (any case). */
function answeredYes(stdin: NodeJS.ReadStream): Promise<boolean> {
  return new Promise((resolve) => {
    let buf = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.off('end', finish);
      stdin.pause();
      resolve(/^\s*y(es)?\s*$/i.test(buf.split('\n')[0] ?? ''));
    };
    const onData = (c: Buffer) => {
      buf += c.toString('utf8');
      if (buf.includes('\n')) finish();
    };
    stdin.on('data', onData);
    stdin.once('end', finish);
  });
}
