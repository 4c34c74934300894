// One `docker history` row as docker's history formatter prints it
// (cli/command/image/formatter_history.go).
import { ellipsis, truncateId } from './container-row.ts';
import { humanDuration, humanSize } from './units.ts';

export interface HistoryListItem {
  readonly Id: string;
  readonly Created: number;
  readonly CreatedBy: string;
  readonly Size: number;
  readonly Comment: string;
}

/** Before 2000-01-01 docker prints no age ("N/A"): such dates are placeholders, not real. */
const EPOCH_2000 = Date.UTC(2000, 0, 1) / 1000;

/** Go's time.Format(time.RFC3339) of a Unix time in the local zone ("Z" in UTC). */
export function rfc3339(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const zone =
    off === 0 ? 'Z' : `${off < 0 ? '-' : '+'}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}${zone}`;
}

export class HistoryRow {
  readonly #h: HistoryListItem;
  readonly #trunc: boolean;
  readonly #human: boolean;
  readonly #now: number;

  constructor(h: HistoryListItem, opts: { trunc: boolean; human: boolean; now?: number }) {
    this.#h = h;
    this.#trunc = opts.trunc;
    this.#human = opts.human;
    this.#now = opts.now ?? Date.now();
  }
  get ID(): string {
    return this.#trunc ? truncateId(this.#h.Id) : this.#h.Id;
  }
  get CreatedAt(): string {
    return rfc3339(this.#h.Created);
  }
  get CreatedSince(): string {
    if (!this.#human) return this.CreatedAt;
    if (this.#h.Created <= EPOCH_2000) return 'N/A';
    return `${humanDuration(this.#now - this.#h.Created * 1000)} ago`;
  }
  get CreatedBy(): string {
    const by = this.#h.CreatedBy.replace(/\t/g, ' ');
    return this.#trunc ? ellipsis(by, 45) : by;
  }
  get Size(): string {
    return this.#human ? humanSize(this.#h.Size, 3) : String(this.#h.Size);
  }
  get Comment(): string {
    return this.#h.Comment;
  }
}
