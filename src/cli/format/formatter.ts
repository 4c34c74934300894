// The docker CLI's output contract for --format (cli/command/formatter and cli/command/inspect).
import { HEADER_FUNCS, type FuncSpec } from './functions.ts';
import { withGoMaps } from './go-maps.ts';
import { goJson } from './gojson.ts';
import { tabwrite } from './table.ts';
import { compileTemplate, executeTemplate, type MissingKey, type Template } from './template.ts';
import { objectKeys } from './values.ts';

/** docker's warning when --quiet overrides a custom --format. */
export const QUIET_FORMAT_WARNING =
  'WARNING: Ignoring custom format, because both --format and --quiet are set.';

export interface ListOptions<T> {
  /** The user's --format: undefined, '' or 'table' → the default table; 'json'; 'table …'; or a template. */
  readonly format: string | undefined;
  /** The command's default, e.g. `table {{.Repository}}\t{{.Tag}}` (the `table` prefix may be left out). */
  readonly defaultTableFormat: string;
  /** Field → column header, e.g. `{ ID: 'IMAGE ID', Repository: 'REPOSITORY' }`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly rows: readonly T[];
  /**
   * -q: print only `quietFormat` per row, without a header. A custom format given with it is
   * ignored after `onWarning(QUIET_FORMAT_WARNING)`, as `docker ps -q --format …` does.
   */
  readonly quiet?: boolean | undefined;
  /** The quiet template; docker's default is `{{.ID}}`. */
  readonly quietFormat?: string | undefined;
  /** Receives warnings meant for stderr. */
  readonly onWarning?: ((message: string) => void) | undefined;
}

/**
 * Renders a list command's rows as docker does (formatter.Context):
 * - `table …` (and the default): the template after `table`, trimmed of spaces, with literal
 *   `\t` / `\n` turned into tab / newline; the header line is the same template rendered over
 *   `headers` (with docker's header functions, so `{{.Name | upper}}` keeps the header text);
 *   then one line per row; all aligned with tabwriter. The header is printed even with no rows.
 * - `json`: `{{json .}}`, one object per line. Like docker's list contexts, a row marshals as a
 *   map: keys sorted, `<>&` escaped as \u003c \u003e \u0026.
 * - anything else: the template (same `\t` / `\n` replacement), one rendered row per line.
 * Throws TemplateError ("template parsing error: …") for bad templates.
 */
export function renderList<T>(opts: ListOptions<T>): string {
  let format = opts.format ?? '';
  if (opts.quiet) {
    if (format !== '' && format !== 'table') opts.onWarning?.(QUIET_FORMAT_WARNING);
    format = opts.quietFormat ?? '{{.ID}}';
  } else if (format === '' || format === 'table') {
    format = opts.defaultTableFormat.startsWith('table')
      ? opts.defaultTableFormat
      : `table ${opts.defaultTableFormat}`;
  }
  const isTable = format.startsWith('table');
  let body = isTable ? format.slice('table'.length) : format === 'json' ? '{{json .}}' : format;
  body = trimSpaces(body).replace(/\\[tn]/g, (m) => (m === '\\t' ? '\t' : '\n'));

  const template = compileTemplate(body);
  let row: unknown;
  const functions = new Map<string, FuncSpec>([
    [
      'json',
      {
        params: ['any'],
        call: ([v]) => (v === row && v !== null && typeof v === 'object' ? listRowJson(v) : goJsonOrEmpty(v)),
      },
    ],
  ]);
  let out = '';
  for (const r of opts.rows) {
    row = r;
    const { output, error } = executeTemplate(template, r, { functions });
    if (error) throw error;
    out += `${output}\n`;
  }
  if (!isTable) return out;
  // docker ignores a header's execution error and prints what was written before it.
  const header = executeTemplate(template, new HeaderContext(opts.headers), {
    functions: HEADER_FUNCS,
  }).output;
  return tabwrite(`${header}\n${out}`);
}

/**
 * The header row's data (docker's SubHeaderContext): the field → header map, plus `Label`, so
 * `{{.Label "com.example.tier"}}` heads its column with the name's last dotted part, `-` and
 * `_` as spaces ("tier"), instead of failing the header.
 */
class HeaderContext {
  constructor(headers: Readonly<Record<string, string>>) {
    Object.assign(this, headers);
  }
  Label(name: string): string {
    return (name.split('.').pop() ?? '').replace(/[-_]/g, ' ');
  }
}

function trimSpaces(s: string): string {
  return s.replace(/^ +| +$/g, '');
}

function goJsonOrEmpty(v: unknown): string {
  try {
    return goJson(v);
  } catch {
    return '';
  }
}

/** A list row marshalled like docker's list contexts (formatter.MarshalJSON → a map). */
function listRowJson(row: object): string {
  const map = new Map<string, unknown>();
  if (row instanceof Map) for (const [k, v] of row) map.set(String(k), v);
  else {
    for (const k of objectKeys(row)) {
      const v = Reflect.get(row, k);
      if (v !== undefined && typeof v !== 'function') map.set(k, v);
    }
  }
  try {
    return goJson(map, { escapeHTML: true });
  } catch {
    return '';
  }
}

export interface RenderOneOptions {
  /** 'error' fails on a missing key instead of printing `<no value>` (docker's raw inspect fallback). */
  readonly missingKey?: MissingKey | undefined;
}

/**
 * A single object's --format (`docker version`, `docker info`, one `inspect` result): the
 * rendered template plus a newline; `json` is `{{json .}}`. No `\t` replacement, as in docker.
 */
export function renderOne(format: string, data: unknown, options: RenderOneOptions = {}): string {
  const template = compileTemplate(format === 'json' ? '{{json .}}' : format);
  return `${template.render(data, options)}\n`;
}

/**
 * `docker inspect`'s output for its results (cli/command/inspect):
 * - no format: the results as an indented JSON array (4 spaces, `<>&` escaped), `[]` when there are none;
 * - `json`: the same array, compact;
 * - a template: each result rendered plus a newline (a lone newline when nothing was rendered).
 */
export function renderInspect(
  format: string | undefined,
  items: readonly unknown[],
  options: RenderOneOptions = {},
): string {
  // MarshalIndent (and the daemon's own encoder, whose bytes docker indents) escape <>&.
  if (format === undefined || format === '')
    return `${goJson(items, { indent: '    ', escapeHTML: true })}\n`;
  if (format === 'json') return `${goJson(items)}\n`;
  const template: Template = compileTemplate(format);
  const out = items.map((item) => `${template.render(withGoMaps(item), options)}\n`).join('');
  return out === '' ? '\n' : out;
}
