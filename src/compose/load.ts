// Reading compose files and env files: YAML with anchors, aliases, merge keys (`<<`) and the
// `!reset` / `!override` tags of the merge chapter, and a way back from a path in the model to
// the line and column in the file (so errors point at the text the user wrote).
import { readFileSync } from 'node:fs';
import { type Document, isMap, isScalar, LineCounter, parseDocument, Scalar, visit, YAMLMap } from 'yaml';
import { ComposeError, type Where } from './errors.ts';

/** Marks a value `!reset` removed (merge then drops the key). */
export const RESET = '\u0000berth-compose-reset';
/** Wraps a value tagged `!override`: merge replaces instead of merging. */
export const OVERRIDE = '\u0000berth-compose-override';

export interface ParsedFile {
  readonly path: string;
  /** The document as plain data (tags ignored): what the schema validates. */
  readonly plain: unknown;
  /** The document with RESET/OVERRIDE markers: what the merge reads. */
  readonly marked: unknown;
  /** Line and column of the value at a path of the model (the nearest existing ancestor). */
  locate(path: readonly (string | number)[]): Where;
}

/** Bounds a hostile file: aliases that expand to more than this many nodes are refused. */
const MAX_ALIAS_COUNT = 10_000;

export function readComposeFile(path: string): ParsedFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ComposeError(
      code === 'ENOENT'
        ? 'no such file: check the -f path'
        : `cannot read the file: ${(err as Error).message}`,
      { file: path },
    );
  }
  return parseComposeText(path, text);
}

export function parseComposeText(path: string, text: string): ParsedFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, merge: true, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const pos = lc.linePos(first.pos[0]);
    const what = first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new ComposeError(
      `YAML syntax error: ${what} (fix the YAML: indentation, quoting, or a missing ':')`,
      {
        file: path,
        line: pos.line,
        col: pos.col,
      },
    );
  }
  const locate = (p: readonly (string | number)[]): Where => locateIn(doc, lc, path, p);
  let plain: unknown;
  try {
    plain = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (err) {
    throw new ComposeError(`YAML: ${(err as Error).message}`, { file: path });
  }
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) {
    throw new ComposeError('the top level must be a mapping (services:, networks:, volumes: …)', {
      file: path,
      line: 1,
      col: 1,
    });
  }
  const marked = markTags(doc) ? (doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {}) : plain;
  return { path, plain, marked, locate };
}

/** Rewrites `!reset` / `!override` nodes into markers; true when there were any. */
function markTags(doc: Document): boolean {
  let found = false;
  visit(doc, {
    Node(_key, node) {
      const tag = (node as { tag?: string }).tag;
      if (tag === '!reset') {
        found = true;
        return new Scalar(RESET);
      }
      if (tag === '!override') {
        found = true;
        (node as { tag?: string | undefined }).tag = undefined;
        const wrap = new YAMLMap();
        wrap.set(OVERRIDE, node);
        return wrap;
      }
      return undefined;
    },
  });
  return found;
}

function locateIn(doc: Document, lc: LineCounter, file: string, p: readonly (string | number)[]): Where {
  const at = (offset: number): Where => {
    const pos = lc.linePos(offset);
    return { file, line: pos.line, col: pos.col };
  };
  for (let n = p.length; n > 0; n--) {
    // A mapping entry points at its key (where the reader looks); a list item at the item.
    const parent = doc.getIn(p.slice(0, n - 1), true);
    const last = p[n - 1];
    if (isMap(parent)) {
      const pair = parent.items.find((it) => (isScalar(it.key) ? it.key.value : it.key) === last);
      const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
      if (range) return at(range[0]);
    }
    const node = doc.getIn(p.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node?.range) return at(node.range[0]);
  }
  return { file };
}

/**
 * Parses a `.env` file as Compose does: `KEY=VALUE` lines, optional `export `, `#` comments,
 * single quotes literal, double quotes with `\n`/`\t`/`\\`/`\"` escapes, unquoted values trimmed
 * and cut at ` #`. Unquoted and double-quoted values may use earlier variables (`${A}`).
 */
export function parseEnvFile(
  text: string,
  file: string,
  expand: (value: string, seen: ReadonlyMap<string, string>) => string,
): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (!line || line.startsWith('#')) continue;
    if (line.startsWith('export ')) line = line.slice(7).trimStart();
    const eq = line.indexOf('=');
    const key = (eq < 0 ? line : line.slice(0, eq)).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) {
      throw new ComposeError(`invalid variable name "${key}": write NAME=VALUE`, {
        file,
        line: i + 1,
        col: 1,
      });
    }
    if (eq < 0) continue; // `NAME` alone: nothing to define
    let value = line.slice(eq + 1).trimStart();
    const q = value[0];
    if (q === "'" || q === '"') {
      // A quoted value may span lines up to its closing quote.
      let body = value.slice(1);
      let close = findClose(body, q);
      while (close < 0 && i + 1 < lines.length) {
        i++;
        body += `\n${lines[i]}`;
        close = findClose(body, q);
      }
      if (close < 0)
        throw new ComposeError(`unterminated quoted value for ${key}: close the ${q}`, { file, line: i + 1 });
      body = body.slice(0, close);
      value = q === "'" ? body : expand(unescapeDoubleQuoted(body), out);
    } else {
      const hash = value.search(/\s#/);
      if (hash >= 0) value = value.slice(0, hash);
      value = expand(value.trim(), out);
    }
    out.set(key, value);
  }
  return out;
}

function findClose(s: string, q: string): number {
  for (let i = 0; i < s.length; i++) {
    if (q === '"' && s[i] === '\\') i++;
    else if (s[i] === q) return i;
  }
  return -1;
}

function unescapeDoubleQuoted(s: string): string {
  // `\$` is a literal dollar: `$$` survives the expansion that follows as one `$`.
  return s.replace(
    /\\([nrt"\\$])/g,
    (_m, c: string) => ({ n: '\n', r: '\r', t: '\t', $: '$$' })[c as 'n'] ?? c,
  );
}
