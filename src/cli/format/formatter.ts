// The docker CLI's --format contract for list and inspect commands.
import { alignTabs } from './table.ts';
import { compileTemplate, goJson } from './template.ts';

export interface ListOptions<T> {
  /** The user's --format (undefined = default table). */
  readonly format: string | undefined;
  /** e.g. `table {{.Repository}}\t{{.Tag}}` */
  readonly defaultTableFormat: string;
  /** Field → header text, e.g. `{ ID: 'IMAGE ID' }`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly rows: readonly T[];
}

/** Renders rows as docker does: `table` (aligned, with headers), `json` (one object a line) or a raw template. */
export function renderList<T>(opts: ListOptions<T>): string {
  let format = opts.format ?? '';
  if (format === '' || format === 'table') format = opts.defaultTableFormat;
  if (format === 'json') return opts.rows.map((r) => `${goJson(r)}\n`).join('');
  const isTable = format.startsWith('table');
  const body = (isTable ? format.slice(5).replace(/^\s/, '') : format)
    .replace(/\\t/g, '\t')
    .replace(/\\n/g, '\n');
  const tpl = compileTemplate(body);
  const lines = opts.rows.map((r) => tpl.render(r));
  if (!isTable) return lines.map((l) => `${l}\n`).join('');
  const header = compileTemplate(body).render(headerData(opts.headers));
  return alignTabs([header, ...lines].map((l) => `${l}\n`).join(''));
}

/** Header rendering: every field renders as its header text (unknown fields as their upper-cased name). */
function headerData(headers: Readonly<Record<string, string>>): unknown {
  return new Proxy(
    {},
    {
      get: (_t, key) => (typeof key === 'string' ? (headers[key] ?? key.toUpperCase()) : undefined),
      has: () => true,
      ownKeys: () => Object.keys(headers),
      getOwnPropertyDescriptor: (_t, key) =>
        typeof key === 'string'
          ? { enumerable: true, configurable: true, value: headers[key] ?? key.toUpperCase() }
          : undefined,
    },
  );
}

/** `inspect --format`: the template followed by a newline; `json` prints compact JSON. */
export function renderOne(format: string, data: unknown): string {
  if (format === 'json') return `${goJson(data)}\n`;
  return `${compileTemplate(format.replace(/\\t/g, '\t').replace(/\\n/g, '\n')).render(data)}\n`;
}
