// One `docker search` row as docker's search formatter prints it
// (cli/command/registry/formatter_search.go).
import { ellipsis } from './container-row.ts';

export interface SearchResultItem {
  readonly name: string;
  readonly description: string;
  readonly star_count: number;
  readonly is_official: boolean;
}

export const SEARCH_TABLE_FORMAT = 'table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}';
export const SEARCH_HEADERS: Readonly<Record<string, string>> = {
  Name: 'NAME',
  Description: 'DESCRIPTION',
  StarCount: 'STARS',
  IsOfficial: 'OFFICIAL',
};

export class SearchRow {
  readonly #s: SearchResultItem;
  readonly #trunc: boolean;
  readonly #json: boolean;
  /** `json`: the row is being marshalled, where docker prints booleans as "true"/"false". */
  constructor(s: SearchResultItem, opts: { trunc: boolean; json: boolean }) {
    this.#s = s;
    this.#trunc = opts.trunc;
    this.#json = opts.json;
  }
  get Name(): string {
    return this.#s.name;
  }
  get Description(): string {
    const desc = this.#s.description.replace(/[\n\r]/g, ' ');
    return this.#trunc ? ellipsis(desc, 45) : desc;
  }
  get StarCount(): string {
    return String(this.#s.star_count);
  }
  get IsOfficial(): string {
    if (this.#json) return String(this.#s.is_official);
    return this.#s.is_official ? '[OK]' : '';
  }
}
