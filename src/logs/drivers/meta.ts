// Docker's per-container log metadata: the `tag` template and the extra attributes chosen by
// labels / labels-regex / env / env-regex (moby daemon/logger/loggerutils/log_tag.go, info.go).
import { compileRegex } from '../../base/patterns/index.ts';
import { getOwn, setOwn } from '../../base/own.ts';
import { InvalidArgumentError } from '../../errdefs/index.ts';
import type { ContainerLogInfo } from './types.ts';

const TAG_FIELDS = ['ID', 'FullID', 'Name', 'ImageName', 'ImageID', 'ImageFullID', 'DaemonName'] as const;
type TagField = (typeof TAG_FIELDS)[number];
type Piece = string | { field: TagField };

/** Docker's default tag: the short container ID. */
export const DEFAULT_TAG = '{{.ID}}';

/**
 * Parses a tag template: text with `{{.Field}}` actions (spaces inside the braces allowed).
 * Go's functions and pipelines are not supported: such a template is refused with its name.
 */
export function parseTag(template: string): Piece[] {
  const out: Piece[] = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{{', i);
    if (open < 0) {
      out.push(template.slice(i));
      break;
    }
    if (open > i) out.push(template.slice(i, open));
    const close = template.indexOf('}}', open + 2);
    if (close < 0) throw badTag(template, 'unclosed action');
    const body = template.slice(open + 2, close).trim();
    const field = body.startsWith('.') ? body.slice(1) : '';
    if (!(TAG_FIELDS as readonly string[]).includes(field))
      throw badTag(
        template,
        `unknown field "${body}": use one of ${TAG_FIELDS.map((f) => `{{.${f}}}`).join(', ')}`,
      );
    out.push({ field: field as TagField });
    i = close + 2;
  }
  return out;
}

function badTag(template: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError('INVALID_LOG_OPT', `invalid log opt 'tag' "${template}": ${why}`);
}

function fieldValue(info: ContainerLogInfo, f: TagField): string {
  const hex = info.imageId.includes(':') ? info.imageId.slice(info.imageId.indexOf(':') + 1) : info.imageId;
  switch (f) {
    case 'ID':
      return info.id.slice(0, 12);
    case 'FullID':
      return info.id;
    case 'Name':
      return info.name;
    case 'ImageName':
      return info.imageName;
    case 'ImageID':
      return hex.slice(0, 12);
    case 'ImageFullID':
      return info.imageId;
    case 'DaemonName':
      return info.daemonName;
  }
}

/** The tag for a container: `tag` rendered, or Docker's default. */
export function renderTag(info: ContainerLogInfo, template: string | undefined): string {
  return parseTag(template || DEFAULT_TAG)
    .map((p) => (typeof p === 'string' ? p : fieldValue(info, p.field)))
    .join('');
}

/** The extra attributes the labels/env options pick (Docker's Info.ExtraAttributes). */
export function extraAttributes(
  opts: Readonly<Record<string, string>>,
  labels: Readonly<Record<string, string>>,
  env: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of (opts.labels ?? '').split(',').filter(Boolean)) {
    const v = getOwn(labels, k);
    if (v !== undefined) setOwn(out, k, v);
  }
  // An entry without `=` unsets its variable: it has no value to log.
  const envMap = new Map(
    env.filter((e) => e.includes('=')).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  );
  for (const k of (opts.env ?? '').split(',').filter(Boolean)) {
    const v = envMap.get(k);
    if (v !== undefined) setOwn(out, k, v);
  }
  // Go's regexp syntax in linear time (base/patterns): user text matched on the event loop.
  const addRegex = (re: string | undefined, opt: string, from: Iterable<[string, string]>) => {
    if (!re) return;
    const r = compileRegex(re, `log option ${opt}`);
    for (const [k, v] of from) if (r.test(k)) setOwn(out, k, v);
  };
  addRegex(opts['labels-regex'], 'labels-regex', Object.entries(labels));
  addRegex(opts['env-regex'], 'env-regex', envMap.entries());
  return out;
}
