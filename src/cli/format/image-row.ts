// `docker images` rows as docker's image formatter builds them (cli/command/formatter/image.go):
// one row per repository tag (per digest too when digests are shown), familiar repository
// names, docker's size precisions, and the format rules of NewImageFormat.
import { truncateId } from './container-row.ts';
import { goTimeString } from './go-time.ts';
import { humanDuration, humanSize } from './units.ts';

/** The fields of GET /images/json that a row reads. */
export interface ImageListItem {
  readonly Id: string;
  readonly RepoTags?: readonly string[] | null;
  readonly RepoDigests?: readonly string[] | null;
  readonly Created: number;
  readonly Size: number;
  readonly SharedSize: number;
  readonly Containers: number;
}

export const IMAGE_TABLE_FORMAT =
  'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';
export const IMAGE_TABLE_FORMAT_DIGESTS =
  'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';

export const IMAGE_HEADERS: Readonly<Record<string, string>> = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  VirtualSize: 'SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
};

/**
 * NewImageFormat: `table` (or nothing) is the default table, with a DIGEST column for
 * --digests; -q replaces only the default table (a custom format given with -q wins, without
 * a warning, unlike ps); a custom `table …` with --digests gets `\t{{.Digest}}` appended.
 */
export function imageFormat(format: string | undefined, quiet: boolean, digests: boolean): string {
  const f = format === undefined || format === '' ? 'table' : format;
  if (f === 'table') return quiet ? '{{.ID}}' : digests ? IMAGE_TABLE_FORMAT_DIGESTS : IMAGE_TABLE_FORMAT;
  if (f.startsWith('table') && digests && !f.includes('{{.Digest}}')) return `${f}\t{{.Digest}}`;
  return f;
}

/** reference.FamiliarName: docker.io and its library/ namespace are left out. */
function familiarName(name: string): string {
  return name.replace(/^docker\.io\/library\/(?=[^/]+$)/, '').replace(/^docker\.io\//, '');
}

export class ImageRow {
  readonly #i: ImageListItem;
  readonly #trunc: boolean;
  readonly #now: number;
  readonly Repository: string;
  readonly Tag: string;
  readonly Digest: string;

  constructor(
    i: ImageListItem,
    ref: { repo: string; tag: string; digest: string },
    trunc: boolean,
    now: number,
  ) {
    this.#i = i;
    this.#trunc = trunc;
    this.#now = now;
    this.Repository = ref.repo;
    this.Tag = ref.tag;
    this.Digest = ref.digest;
  }
  get ID(): string {
    return this.#trunc ? truncateId(this.#i.Id) : this.#i.Id;
  }
  get CreatedSince(): string {
    return `${humanDuration(this.#now - this.#i.Created * 1000)} ago`;
  }
  get CreatedAt(): string {
    return goTimeString(this.#i.Created);
  }
  get Size(): string {
    return humanSize(this.#i.Size, 3);
  }
  get Containers(): string {
    return this.#i.Containers === -1 ? 'N/A' : String(this.#i.Containers);
  }
  /** Deprecated in docker, equal to Size but with go-units' default precision (4). */
  get VirtualSize(): string {
    return humanSize(this.#i.Size, 4);
  }
  get SharedSize(): string {
    return this.#i.SharedSize === -1 ? 'N/A' : humanSize(this.#i.SharedSize, 4);
  }
  get UniqueSize(): string {
    return this.#i.Size === -1 || this.#i.SharedSize === -1
      ? 'N/A'
      : humanSize(this.#i.Size - this.#i.SharedSize, 4);
  }
}

function isDangling(i: ImageListItem): boolean {
  const tags = i.RepoTags ?? [];
  const digests = i.RepoDigests ?? [];
  if (tags.length === 0 && digests.length === 0) return true;
  return (
    tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>'
  );
}

/**
 * The rows docker prints for a list of images. `showDigests` is --digests; digests are also
 * read when the format names `{{.Digest}}`. A repository known only by digest gets one row
 * (tag `<none>`, an empty digest) unless --digests asks for a row per digest.
 */
export function imageRows(
  images: readonly ImageListItem[],
  opts: { trunc: boolean; showDigests: boolean; format: string; now?: number },
): ImageRow[] {
  const now = opts.now ?? Date.now();
  const needDigest = opts.showDigests || opts.format.includes('{{.Digest}}');
  const rows: ImageRow[] = [];
  for (const img of images) {
    const add = (repo: string, tag: string, digest: string) =>
      rows.push(new ImageRow(img, { repo, tag, digest }, opts.trunc, now));
    if (isDangling(img)) {
      add('<none>', '<none>', '<none>');
      continue;
    }
    const repoTags = new Map<string, string[]>();
    const repoDigests = new Map<string, string[]>();
    for (const t of img.RepoTags ?? []) {
      const colon = t.lastIndexOf(':');
      if (colon <= t.lastIndexOf('/') || t === '<none>:<none>') continue;
      const repo = familiarName(t.slice(0, colon));
      repoTags.set(repo, [...(repoTags.get(repo) ?? []), t.slice(colon + 1)]);
    }
    for (const d of img.RepoDigests ?? []) {
      const at = d.indexOf('@');
      if (at <= 0 || d === '<none>@<none>') continue;
      const repo = familiarName(d.slice(0, at));
      repoDigests.set(repo, [...(repoDigests.get(repo) ?? []), d.slice(at + 1)]);
    }
    for (const [repo, tags] of repoTags) {
      const digests = needDigest ? (repoDigests.get(repo) ?? []) : [];
      repoDigests.delete(repo);
      for (const tag of tags) {
        if (digests.length === 0) add(repo, tag, '<none>');
        for (const d of digests) add(repo, tag, d);
      }
    }
    for (const [repo, digests] of repoDigests) {
      if (opts.showDigests) for (const d of digests) add(repo, '<none>', d);
      else add(repo, '<none>', '');
    }
  }
  return rows;
}
