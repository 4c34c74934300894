// The log options Berth honours (Docker's json-file driver names) and the rotation of running
// containers' logs. conmon writes the log; berthd rotates it when more than one file is kept.
import { compileRegex } from '../base/patterns/index.ts';
import { InvalidArgumentError } from '../errdefs/index.ts';
import { LogRotator } from '../logs/index.ts';
import type { HostConfig } from './record.ts';
import { getOwn, setOwn } from '../base/own.ts';

export interface LogPolicy {
  /** Bytes before rotation (max-size); undefined: unbounded. */
  readonly maxSize?: number;
  /** Files kept, the live one included (max-file, default 1). */
  readonly maxFiles: number;
  /** Extra attributes shown by `logs --details` (from the labels/env/env-regex options). */
  readonly details: Record<string, string>;
}

const KNOWN_OPTS = new Set([
  'max-size',
  'max-file',
  'compress',
  'labels',
  'labels-regex',
  'env',
  'env-regex',
  'tag',
  'mode',
  'max-buffer-size',
]);
/** The most rotated files a container may keep (Docker sets no bound; each is visited on read). */
const MAX_FILES = 1000;
/** Docker's built-in log drivers (moby daemon/logdrivers_linux.go). */
const DOCKER_DRIVERS = new Set([
  'awslogs',
  'fluentd',
  'gcplogs',
  'gelf',
  'journald',
  'logentries',
  'splunk',
  'syslog',
  'etwlogs',
]);
// `none` is accepted as Docker's is (clients such as docker-py's containers.run ask for it);
// Berth still keeps the log file for it.
const DRIVERS = new Set(['', 'json-file', 'k8s-file', 'local', 'none']);

function bad(message: string): InvalidArgumentError {
  return new InvalidArgumentError('INVALID_LOG_OPT', message);
}

/** Validates and reads LogConfig; throws a 400-class error naming the bad option. */
export function logPolicy(
  h: HostConfig,
  labels: Record<string, string> = {},
  env: readonly string[] = [],
): LogPolicy {
  const type = h.LogConfig?.Type ?? '';
  if (!DRIVERS.has(type)) {
    // A driver Docker has but Berth does not gets Berth's explanation; any other name, Docker's words.
    throw bad(
      DOCKER_DRIVERS.has(type)
        ? `logging driver "${type}" is not supported by Berth: use json-file (the default; k8s-file and local are accepted as aliases)`
        : `logger: no log driver named '${type}' is registered`,
    );
  }
  const opts = h.LogConfig?.Config ?? {};
  for (const k of Object.keys(opts)) {
    if (!KNOWN_OPTS.has(k)) throw bad(`unknown log opt '${k}' for json-file log driver`);
  }
  let maxSize: number | undefined;
  const sizeText = opts['max-size'];
  if (sizeText && sizeText !== '-1') {
    const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)b?$/i.exec(sizeText.trim());
    if (!m) throw bad(`invalid max-size "${sizeText}": use a size like 10m, 512k or 1g`);
    const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
    maxSize = Math.floor(Number(m[1]) * mult);
    if (maxSize <= 0) throw bad(`invalid max-size "${sizeText}": it must be positive`);
  }
  let maxFiles = 1;
  const fileText = opts['max-file'];
  if (fileText !== undefined && fileText !== '') {
    maxFiles = Number(fileText);
    if (!/^\d+$/.test(fileText) || maxFiles < 1)
      throw bad(`invalid max-file "${fileText}": it must be a whole number of at least 1`);
    // Reading and rotating visit every numbered file: an absurd count would pin the daemon.
    if (maxFiles > MAX_FILES)
      throw bad(`invalid max-file "${fileText}": keep at most ${MAX_FILES} files (raise max-size instead)`);
    // Docker accepts max-file alone and never rotates then: one file is kept and read.
    if (maxSize === undefined) maxFiles = 1;
  }
  const details: Record<string, string> = {};
  for (const k of (opts.labels ?? '').split(',').filter(Boolean)) {
    const v = getOwn(labels, k);
    if (v !== undefined) setOwn(details, k, v);
  }
  // An entry without `=` unsets its variable (see env.ts): it has no value to log.
  const envMap = new Map(
    env.filter((e) => e.includes('=')).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  );
  for (const k of (opts.env ?? '').split(',').filter(Boolean)) {
    const v = envMap.get(k);
    if (v !== undefined) setOwn(details, k, v);
  }
  // Go's regexp syntax in linear time (base/patterns): the option is user text, matched on the
  // daemon's event loop; an invalid one is a 400 that names it.
  const addRegex = (re: string | undefined, opt: string, from: Iterable<[string, string]>) => {
    if (!re) return;
    const r = compileRegex(re, `log option ${opt}`);
    for (const [k, v] of from) if (r.test(k)) setOwn(details, k, v);
  };
  addRegex(opts['labels-regex'], 'labels-regex', Object.entries(labels));
  addRegex(opts['env-regex'], 'env-regex', envMap.entries());
  return { ...(maxSize !== undefined ? { maxSize } : {}), maxFiles, details };
}

/**
 * conmon's --log-size-max: with one file it is the rotation itself (conmon replaces the full
 * log); with more, berthd rotates and conmon's cap (the whole budget) only bounds the log while
 * berthd is down.
 */
export function monitorLogCap(p: LogPolicy): number | undefined {
  if (p.maxSize === undefined) return undefined;
  return p.maxFiles > 1 ? p.maxSize * p.maxFiles : p.maxSize;
}

/** One rotator per running container that keeps more than one log file. */
export class LogRotations {
  readonly #rotators = new Map<string, LogRotator>();

  arm(id: string, file: string, p: LogPolicy, reopen: () => Promise<void>): void {
    this.disarm(id);
    if (p.maxSize === undefined || p.maxFiles <= 1) return;
    const r = new LogRotator({ file, maxSize: p.maxSize, maxFiles: p.maxFiles, reopen });
    this.#rotators.set(id, r);
    r.start();
  }

  disarm(id: string): void {
    this.#rotators.get(id)?.stop();
    this.#rotators.delete(id);
  }

  close(): void {
    for (const id of [...this.#rotators.keys()]) this.disarm(id);
  }
}
