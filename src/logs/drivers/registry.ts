// The driver table: every driver by name with the options it takes, and the checks Docker makes
// at create (moby daemon/logger/factory.go): an unknown driver or option is a 400 naming it.
// `plan` turns a LogConfig into what the container service needs, so it never knows which
// driver a container has: the local file's rotation, whether `logs` may read it, and the remote
// sink (if any) with its delivery policy.
import { parseGoDuration } from '../../base/duration.ts';
import { InvalidArgumentError } from '../../errdefs/index.ts';
import { fluentdDriver } from './fluentd.ts';
import { gelfDriver } from './gelf.ts';
import { journaldDriver } from './journald.ts';
import { parseTag } from './meta.ts';
import { syslogDriver } from './syslog.ts';
import type { DriverSpec } from './types.ts';

/** Options every driver takes (Docker strips these before the driver's own check). */
const COMMON = ['mode', 'max-buffer-size'];
/** Options of the drivers that tag and annotate their messages. */
const ATTRS = ['tag', 'labels', 'labels-regex', 'env', 'env-regex'];
/** Dual logging: the local cache kept beside a remote driver (Docker 20.10). */
const CACHE = ['cache-disabled', 'cache-max-size', 'cache-max-file', 'cache-compress'];
/** The json-file options; Berth's local formats all take them (conmon writes one format). */
const FILE = ['max-size', 'max-file', 'compress', ...ATTRS];

const LOCAL: DriverSpec[] = [
  { name: 'json-file', opts: FILE },
  { name: 'local', opts: FILE },
  { name: 'k8s-file', opts: FILE },
  { name: 'none', opts: [] },
];
const REMOTE: DriverSpec[] = [syslogDriver, fluentdDriver, gelfDriver, journaldDriver];
const DRIVERS = new Map([...LOCAL, ...REMOTE].map((d) => [d.name, d]));
/** Docker's other built-in drivers: named in the error so the user knows why. */
const DOCKER_ONLY = new Set(['awslogs', 'gcplogs', 'logentries', 'splunk', 'etwlogs']);

/**
 * Docker's `local` driver rotates by default (moby daemon/logger/local): 20 MiB files, five kept,
 * the rotated ones compressed. Applied when planning; LogConfig.Config keeps only what the user
 * gave, as Docker's inspect shows.
 */
const LOCAL_MAX_SIZE = 20 * 1024 * 1024;
const LOCAL_MAX_FILE = 5;
/** Docker's local-cache defaults (daemon/logger/loggerutils/cache). */
const CACHE_MAX_SIZE = 20 * 1024 * 1024;
const CACHE_MAX_FILE = 5;
/** The most rotated files a container may keep (each is visited on read). */
const MAX_FILES = 1000;

function bad(message: string): InvalidArgumentError {
  return new InvalidArgumentError('INVALID_LOG_OPT', message);
}

export interface LogPlan {
  /** The driver's name (never empty). */
  readonly driver: string;
  /** Bytes before the local file rotates; undefined: unbounded. */
  readonly maxSize?: number;
  /** Local files kept, the live one included. */
  readonly maxFiles: number;
  /** Rotated files are gzipped (compress; cache-compress for a remote driver's cache). */
  readonly compress: boolean;
  /** Whether `logs` may read the local file (false for none and a remote driver without cache). */
  readonly readable: boolean;
  /**
   * Whether the monitor writes a local file at all: false for none, whose output only reaches
   * attached clients (through the monitor's attach socket). A remote driver without cache keeps
   * one for delivery, only `logs` may not read it.
   */
  readonly localFile: boolean;
  /** The remote driver, when there is one. */
  readonly remote?: {
    readonly spec: NonNullable<DriverSpec['remote']>;
    /** Start fails when the receiver cannot be reached (Docker's blocking mode, non-async). */
    readonly checkAtStart: boolean;
    readonly retryWaitMs: number;
    readonly maxRetries?: number;
    /** The most records one batch holds in memory (fluentd-buffer-limit). */
    readonly maxMessages?: number;
  };
}

/** A size like 10m, 512k, 1g (Docker's units, base 1024). */
export function parseSize(opt: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)b?$/i.exec(text.trim());
  if (!m) throw bad(`invalid ${opt} "${text}": use a size like 10m, 512k or 1g`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  const n = Math.floor(Number(m[1]) * mult);
  if (n <= 0) throw bad(`invalid ${opt} "${text}": it must be positive`);
  return n;
}

function parseCount(opt: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1)
    throw bad(`invalid ${opt} "${text}": it must be a whole number of at least 1`);
  // Reading and rotating visit every numbered file: an absurd count would pin the daemon.
  if (n > MAX_FILES)
    throw bad(`invalid ${opt} "${text}": keep at most ${MAX_FILES} files (raise max-size instead)`);
  return n;
}

function boolOpt(opts: Readonly<Record<string, string>>, k: string): boolean {
  const v = opts[k];
  if (v === undefined || v === '') return false;
  if (v !== 'true' && v !== 'false') throw bad(`invalid log opt '${k}' "${v}": use true or false`);
  return v === 'true';
}

/** Checks a driver name and its options; returns the plan. Throws a 400-class error naming what is wrong. */
export function planLogging(
  type: string,
  opts: Readonly<Record<string, string>>,
  /**
   * `create` adds the checks that came after records were stored (local's max-file=1 with
   * compression): a container made before them still starts and reads as it did.
   */
  at: 'create' | 'use' = 'use',
): LogPlan {
  const spec = DRIVERS.get(type);
  if (!spec) {
    throw bad(
      DOCKER_ONLY.has(type)
        ? `logging driver "${type}" is not supported by Berth: use json-file, local, syslog, fluentd, gelf, journald or none`
        : `logger: no log driver named '${type}' is registered`,
    );
  }
  const known = new Set([...COMMON, ...spec.opts, ...(spec.remote ? [...ATTRS, ...CACHE] : [])]);
  for (const k of Object.keys(opts))
    if (!known.has(k)) throw bad(`unknown log opt '${k}' for ${type} log driver`);
  const mode = opts.mode || 'blocking';
  if (mode !== 'blocking' && mode !== 'non-blocking')
    throw bad(`invalid log opt 'mode' "${mode}": use blocking or non-blocking`);
  if (opts['max-buffer-size'] !== undefined) {
    if (mode !== 'non-blocking')
      throw bad(`log opt 'max-buffer-size' is only supported with 'mode=non-blocking'`);
    parseSize('max-buffer-size', opts['max-buffer-size']);
  }
  if (opts.tag !== undefined) parseTag(opts.tag);
  if (type === 'none')
    return { driver: type, maxFiles: 1, compress: false, readable: false, localFile: false };
  if (!spec.remote) {
    const local = type === 'local';
    const sizeText = opts['max-size'];
    const given = (t: string | undefined): t is string => t !== undefined && t !== '';
    const maxSize =
      given(sizeText) && sizeText !== '-1'
        ? parseSize('max-size', sizeText)
        : local && !given(sizeText)
          ? LOCAL_MAX_SIZE
          : undefined;
    const fileText = opts['max-file'];
    let maxFiles = given(fileText) ? parseCount('max-file', fileText) : local ? LOCAL_MAX_FILE : 1;
    // Docker accepts max-file alone and never rotates then: one file is kept and read.
    if (maxSize === undefined) maxFiles = 1;
    // Docker's local driver compresses by default, json-file only when asked; both refuse a
    // compress that has nothing to compress, each with its own message.
    const compress = opts.compress ? boolOpt(opts, 'compress') : local;
    if (at === 'create' && local && compress && maxFiles < 2)
      throw bad(
        'compression cannot be enabled when max file count is 1 (set max-file to 2 or more, or compress=false)',
      );
    if (opts.compress && compress && maxFiles < 2)
      throw bad('compress cannot be true when max-file is less than 2 or max-size is not set');
    return {
      driver: type,
      ...(maxSize !== undefined ? { maxSize } : {}),
      maxFiles,
      compress: compress && maxFiles > 1,
      readable: true,
      localFile: true,
    };
  }
  spec.remote.validate(opts);
  const cacheDisabled = boolOpt(opts, 'cache-disabled');
  // Docker's cache compresses its rotated files unless told not to.
  const cacheCompress = opts['cache-compress'] ? boolOpt(opts, 'cache-compress') : true;
  const maxSize = opts['cache-max-size']
    ? parseSize('cache-max-size', opts['cache-max-size'])
    : CACHE_MAX_SIZE;
  // Shipping reads the rotated copy before it goes: at least two files, whatever the user asked.
  const maxFiles = Math.max(
    2,
    opts['cache-max-file'] ? parseCount('cache-max-file', opts['cache-max-file']) : CACHE_MAX_FILE,
  );
  let retryWaitMs = 1000;
  const rw = opts['fluentd-retry-wait'];
  if (rw !== undefined && rw !== '') {
    const ns = /^\d+$/.test(rw) ? Number(rw) * 1e6 : parseGoDuration(rw);
    if (ns === undefined || ns <= 0)
      throw bad(`invalid log opt 'fluentd-retry-wait' "${rw}": use a duration like 500ms or 2s`);
    retryWaitMs = Math.max(1, Math.round(ns / 1e6));
  }
  const mr = opts['fluentd-max-retries'] ?? opts['gelf-tcp-max-reconnect'];
  const async = boolOpt(opts, 'fluentd-async') || boolOpt(opts, 'fluentd-async-connect');
  // Docker's bound on the events its async sender holds in memory (a count, written with size
  // units). Berth's backlog waits in the on-disk cache instead; what is in memory is the batch
  // being sent, so the limit caps the records of one batch (one Forward message).
  const bl = opts['fluentd-buffer-limit'];
  const maxMessages = bl !== undefined && bl !== '' ? parseSize('fluentd-buffer-limit', bl) : undefined;
  return {
    driver: type,
    maxSize,
    maxFiles,
    compress: cacheCompress,
    readable: !cacheDisabled,
    localFile: true,
    remote: {
      spec: spec.remote,
      checkAtStart: mode === 'blocking' && !async,
      retryWaitMs,
      ...(mr !== undefined && mr !== '' ? { maxRetries: Number(mr) } : {}),
      ...(maxMessages !== undefined ? { maxMessages } : {}),
    },
  };
}

/** The names Berth accepts, for messages and `docker info`. */
export function driverNames(): string[] {
  return [...DRIVERS.keys()];
}
