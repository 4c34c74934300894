// berth system df: docker's disk usage summary (Images, Containers, Local Volumes, Build Cache
// with their reclaimable share) and, with -v, a table per kind, from GET /system/df. The sums
// and the integer percentages follow docker's formatter (cli/command/formatter/disk_usage.go).
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import {
  CONTAINER_HEADERS,
  ContainerRow,
  type ContainerSummary,
  humanSize,
  renderList,
  renderOne,
  timeAgo,
  truncateId,
} from '../format/index.ts';

interface DfImage {
  Id: string;
  RepoTags?: string[] | null;
  Created: number;
  Size: number;
  SharedSize: number;
  Containers: number;
}
interface DfVolume {
  Name: string;
  UsageData?: { Size: number; RefCount: number } | null;
}
interface DfCache {
  ID: string;
  Type: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  CreatedAt: string;
  LastUsedAt?: string | null;
  UsageCount: number;
}
interface DiskUsage {
  LayersSize: number;
  Images?: DfImage[] | null;
  Containers?: (ContainerSummary & { SizeRw?: number })[] | null;
  Volumes?: DfVolume[] | null;
  BuildCache?: DfCache[] | null;
}

/** go-units HumanSize (4 significant digits), what the summary prints. */
const size4 = (n: number) => humanSize(n, 4);

function reclaimable(reclaim: number, total: number): string {
  // Go's int64 division: the percentage is truncated.
  return total > 0 ? `${size4(reclaim)} (${Math.trunc((reclaim * 100) / total)}%)` : size4(reclaim);
}

/** One line of the summary: Type, TotalCount, Active, Size, Reclaimable (all strings, as docker's). */
interface SummaryRow {
  Type: string;
  TotalCount: string;
  Active: string;
  Size: string;
  Reclaimable: string;
}

export function summaryRows(du: DiskUsage): SummaryRow[] {
  const images = du.Images ?? [];
  let usedByContainers = 0;
  for (const i of images) {
    if (i.Containers !== 0 && i.Size !== -1 && i.SharedSize !== -1) usedByContainers += i.Size - i.SharedSize;
  }
  const containers = du.Containers ?? [];
  const active = (c: { State?: string }) => ['running', 'paused', 'restarting'].includes(c.State ?? '');
  const sum = <T>(xs: readonly T[], f: (x: T) => number) => xs.reduce((n, x) => n + f(x), 0);
  const ctrSize = sum(containers, (c) => c.SizeRw ?? 0);
  const volumes = du.Volumes ?? [];
  const volSize = (v: DfVolume) => (v.UsageData && v.UsageData.Size !== -1 ? v.UsageData.Size : 0);
  const volTotal = sum(volumes, volSize);
  const cache = du.BuildCache ?? [];
  return [
    {
      Type: 'Images',
      TotalCount: String(images.length),
      Active: String(images.filter((i) => i.Containers > 0).length),
      Size: size4(du.LayersSize),
      Reclaimable: reclaimable(du.LayersSize - usedByContainers, du.LayersSize),
    },
    {
      Type: 'Containers',
      TotalCount: String(containers.length),
      Active: String(containers.filter(active).length),
      Size: size4(ctrSize),
      Reclaimable: reclaimable(
        sum(
          containers.filter((c) => !active(c)),
          (c) => c.SizeRw ?? 0,
        ),
        ctrSize,
      ),
    },
    {
      Type: 'Local Volumes',
      TotalCount: String(volumes.length),
      Active: String(volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length),
      Size: size4(volTotal),
      Reclaimable: reclaimable(
        sum(
          volumes.filter((v) => (v.UsageData?.RefCount ?? 0) === 0),
          volSize,
        ),
        volTotal,
      ),
    },
    {
      Type: 'Build Cache',
      TotalCount: String(cache.length),
      Active: String(cache.filter((c) => c.InUse).length),
      Size: size4(
        sum(
          cache.filter((c) => !c.Shared),
          (c) => c.Size,
        ),
      ),
      Reclaimable: size4(
        sum(
          cache.filter((c) => !c.InUse && !c.Shared),
          (c) => c.Size,
        ),
      ),
    },
  ];
}

const SUMMARY_HEADERS = {
  Type: 'TYPE',
  TotalCount: 'TOTAL',
  Active: 'ACTIVE',
  Size: 'SIZE',
  Reclaimable: 'RECLAIMABLE',
};
const SUMMARY_TABLE = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';

class ImageUsageRow {
  readonly #i: DfImage;
  readonly #trunc: boolean;
  readonly Repository: string;
  readonly Tag: string;
  constructor(i: DfImage, trunc: boolean) {
    this.#i = i;
    this.#trunc = trunc;
    const tag = (i.RepoTags ?? []).find((t) => t !== '<none>:<none>');
    const colon = tag?.lastIndexOf(':') ?? -1;
    this.Repository =
      tag && colon > 0 ? tag.slice(0, colon).replace(/^docker\.io\/(library\/)?/, '') : '<none>';
    this.Tag = tag && colon > 0 ? tag.slice(colon + 1) : '<none>';
  }
  get ID(): string {
    return this.#trunc ? truncateId(this.#i.Id) : this.#i.Id;
  }
  get CreatedSince(): string {
    return timeAgo(this.#i.Created * 1000);
  }
  get Size(): string {
    return humanSize(this.#i.Size);
  }
  get SharedSize(): string {
    return this.#i.SharedSize === -1 ? 'N/A' : humanSize(this.#i.SharedSize);
  }
  get UniqueSize(): string {
    return this.#i.SharedSize === -1 ? 'N/A' : humanSize(this.#i.Size - this.#i.SharedSize);
  }
  get Containers(): string {
    return this.#i.Containers === -1 ? 'N/A' : String(this.#i.Containers);
  }
}

class VolumeUsageRow {
  readonly #v: DfVolume;
  constructor(v: DfVolume) {
    this.#v = v;
  }
  get Name(): string {
    return this.#v.Name;
  }
  get Links(): string {
    return this.#v.UsageData ? String(this.#v.UsageData.RefCount) : 'N/A';
  }
  get Size(): string {
    return this.#v.UsageData ? humanSize(this.#v.UsageData.Size, 4) : 'N/A';
  }
}

class CacheUsageRow {
  readonly #c: DfCache;
  readonly #trunc: boolean;
  constructor(c: DfCache, trunc: boolean) {
    this.#c = c;
    this.#trunc = trunc;
  }
  get ID(): string {
    const id = this.#trunc ? truncateId(this.#c.ID) : this.#c.ID;
    return this.#c.InUse ? `${id}*` : id;
  }
  get CacheType(): string {
    return this.#c.Type;
  }
  get Size(): string {
    return humanSize(this.#c.Size);
  }
  get CreatedSince(): string {
    return timeAgo(this.#c.CreatedAt);
  }
  get LastUsedSince(): string {
    return this.#c.LastUsedAt ? timeAgo(this.#c.LastUsedAt) : '';
  }
  get UsageCount(): string {
    return String(this.#c.UsageCount);
  }
  get Shared(): string {
    return String(this.#c.Shared);
  }
}

function sortCache(cache: DfCache[]): DfCache[] {
  const cmpId = (a: DfCache, b: DfCache) => (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0);
  return [...cache].sort((a, b) => {
    if (!a.LastUsedAt && !b.LastUsedAt) return cmpId(a, b);
    if (!a.LastUsedAt) return -1;
    if (!b.LastUsedAt) return 1;
    return Date.parse(a.LastUsedAt) - Date.parse(b.LastUsedAt) || cmpId(a, b);
  });
}

export function registerSystemDf(system: Command, ctx: CliContext): void {
  system
    .command('df')
    .description('Show docker disk usage')
    .option('--format <string>', 'Format output using a custom template')
    .option('-v, --verbose', 'Show detailed information on space usage')
    .action(async (o: { format?: string; verbose?: boolean }) => {
      const du = await ctx.client().json<DiskUsage>('GET', '/system/df');
      if (!o.verbose) {
        ctx.out.write(
          renderList({
            format: o.format,
            defaultTableFormat: SUMMARY_TABLE,
            headers: SUMMARY_HEADERS,
            rows: summaryRows(du),
          }),
        );
        return;
      }
      const format = o.format ?? '';
      const trunc = format === '' || format.startsWith('table');
      const now = Date.now();
      const images = (du.Images ?? []).map((i) => new ImageUsageRow(i, trunc));
      // docker leaves the virtual size out of the container rows.
      const containers = (du.Containers ?? []).map(
        (c) => new ContainerRow({ ...c, SizeRootFs: 0 }, { trunc, now }),
      );
      const volumes = (du.Volumes ?? []).map((v) => new VolumeUsageRow(v));
      const cache = sortCache(du.BuildCache ?? []).map((c) => new CacheUsageRow(c, trunc));
      if (format !== '' && format !== 'table') {
        // docker executes a -v template once over all four lists, with no newline after it.
        const data = { Images: images, Containers: containers, Volumes: volumes, BuildCache: cache };
        ctx.out.write(renderOne(format, data).slice(0, -1));
        return;
      }
      const section = <T>(title: string, table: string, headers: Record<string, string>, rows: T[]) =>
        `${title}\n\n${renderList({ format: 'table', defaultTableFormat: table, headers, rows })}`;
      // Shared records are counted with the images they belong to, as docker does.
      const cacheTotal = (du.BuildCache ?? []).reduce((n, c) => n + (c.Shared ? 0 : c.Size), 0);
      ctx.out.write(
        [
          section(
            'Images space usage:',
            'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}',
            {
              Repository: 'REPOSITORY',
              Tag: 'TAG',
              ID: 'IMAGE ID',
              CreatedSince: 'CREATED',
              Size: 'SIZE',
              SharedSize: 'SHARED SIZE',
              UniqueSize: 'UNIQUE SIZE',
              Containers: 'CONTAINERS',
            },
            images,
          ),
          section(
            '\nContainers space usage:',
            'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}',
            CONTAINER_HEADERS,
            containers,
          ),
          section(
            '\nLocal Volumes space usage:',
            'table {{.Name}}\t{{.Links}}\t{{.Size}}',
            { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' },
            volumes,
          ),
          section(
            `\nBuild cache usage: ${size4(cacheTotal)}`,
            'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}',
            {
              ID: 'CACHE ID',
              CacheType: 'CACHE TYPE',
              Size: 'SIZE',
              CreatedSince: 'CREATED',
              LastUsedSince: 'LAST USED',
              UsageCount: 'USAGE',
              Shared: 'SHARED',
            },
            cache,
          ),
        ].join(''),
      );
    });
}
