// Docker's JSON-lines progress stream (pull, push, load, import, build): one JSON object per
// line with `status`/`progressDetail`/`id`, `stream`, `aux`, or `error` + `errorDetail`.
import type { ServerResponse } from 'node:http';
import { errorMessage } from '../../errdefs/index.ts';

export interface JsonMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
  stream?: string;
  aux?: unknown;
}

export class JsonLinesWriter {
  readonly #res: ServerResponse;

  constructor(res: ServerResponse) {
    this.#res = res;
  }

  start(status = 200): void {
    if (!this.#res.headersSent) this.#res.writeHead(status, { 'Content-Type': 'application/json' });
  }

  write(msg: JsonMessage): void {
    this.start();
    this.#res.write(`${JSON.stringify(withProgressDetail(msg))}\n`);
  }

  /** Errors after the stream has begun travel in-band, as Docker does. */
  error(err: unknown): void {
    this.start();
    const message = errorMessage(err);
    this.#res.write(`${JSON.stringify({ errorDetail: { message }, error: message })}\n`);
  }

  end(): void {
    this.start();
    this.#res.end();
  }
}

/**
 * A per-layer status (`id` and `status`) always carries `progressDetail`, `{}` when there is no
 * count, in Docker's key order: the docker CLI redraws the layer's line in a terminal only for
 * messages that have it, and prints the others as new lines.
 */
export function withProgressDetail(msg: JsonMessage): JsonMessage {
  if (msg.id === undefined || msg.status === undefined || msg.progressDetail !== undefined) return msg;
  const { status, id, ...rest } = msg;
  return { status, progressDetail: {}, id, ...rest };
}

/** The docker CLI draws its own bars from progressDetail; this text is for other clients. */
export function progressBar(current: number, total: number): string {
  if (total <= 0) return '';
  const width = 50;
  const filled = Math.min(width, Math.floor((current / total) * width));
  const bar = '='.repeat(Math.max(0, filled - 1)) + (filled > 0 ? '>' : '') + ' '.repeat(width - filled);
  return `[${bar}] ${fmt(current)}/${fmt(total)}`;
}

function fmt(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(3).replace(/\.?0+$/, '')}${units[i]}`;
}
