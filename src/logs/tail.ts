// `tail: n` for k8s-file logs, read backwards in chunks so a huge file is never held in memory.
//
// A line is one F record plus the P records of the same stream before it (back to that stream's
// previous F record); an unterminated last line of a stream (P records and no F yet) counts as a
// line too, as `tail -n` counts a last line without its newline. Lines are counted across both
// streams in file order (Docker counts its log file's entries, not one stream's), and because
// stdout and stderr records interleave, the records kept need not be contiguous: the plan is a
// start offset plus, per stream, the offset of the newest record that belongs to an older line.
import type { FileHandle } from 'node:fs/promises';
import { FULL, type LogStream, parseHeader, STDERR } from './k8s-file.ts';

export interface TailPlan {
  /** Offset of the first line to read. */
  readonly start: number;
  /** Records of a stream whose line starts at or before this offset are older lines: skip them. */
  readonly cutoff: Record<LogStream, number>;
}

const CHUNK = 64 << 10;
/** Extra bytes read past a chunk's end so the header of a line starting near it is complete. */
const OVERLAP = 256;

const FRESH = 0;
const OPEN = 1;
const CLOSED = 2;

/**
 * Finds where the last `n` lines of bytes [0, end) of the file start. `end` is the offset after
 * the last complete line (or the file's end when an unterminated last record is final).
 */
export async function planTail(fh: FileHandle, end: number, n: number): Promise<TailPlan> {
  const cutoff: Record<LogStream, number> = { stdout: -1, stderr: -1 };
  if (n <= 0 || end <= 0) return { start: end, cutoff };
  const state: Record<LogStream, number> = { stdout: FRESH, stderr: FRESH };
  let count = 0;
  let start = end;

  /** Considers the line starting at `lineStart`; returns true when no older line can matter. */
  const visit = (buf: Buffer, bufStart: number, lineStart: number, lineEnd: number): boolean => {
    const rel = lineStart - bufStart;
    const h = parseHeader(buf, rel, Math.min(lineEnd - bufStart, buf.length));
    if (h < 0) return false;
    const s: LogStream = h & STDERR ? 'stderr' : 'stdout';
    const st = state[s];
    if (st === CLOSED) return false;
    if ((h & FULL) !== 0 || st === FRESH) {
      // This record ends (F) or is the unterminated tail (P, nothing newer of its stream) of an
      // older line than any counted so far.
      if (count < n) {
        count++;
        state[s] = OPEN;
        start = lineStart;
      } else {
        state[s] = CLOSED;
        cutoff[s] = lineStart;
      }
    } else {
      start = lineStart; // a P record of the line being counted
    }
    // Done once n lines are counted and each has its first record: older records of a stream can
    // only belong to older lines.
    return count >= n && state.stdout !== OPEN && state.stderr !== OPEN;
  };

  let pos = end; // bytes [pos, end) are scanned
  let lineEnd = end; // end (its '\n', or `end`) of the line whose start is being looked for
  let first = true;
  while (pos > 0) {
    const a = Math.max(0, pos - CHUNK);
    const readEnd = Math.min(end, pos + OVERLAP);
    const buf = Buffer.allocUnsafe(readEnd - a);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, a + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    const view = got < buf.length ? buf.subarray(0, got) : buf;
    let i = pos - a - 1;
    if (first) {
      // The '\n' that ends the last line is not a line boundary.
      if (i >= 0 && view[i] === 0x0a) {
        lineEnd = end - 1;
        i--;
      }
      first = false;
    }
    while (i >= 0) {
      const nl = view.lastIndexOf(0x0a, i);
      if (nl < 0) break;
      const lineStart = a + nl + 1;
      if (lineStart < lineEnd && visit(view, a, lineStart, lineEnd)) return { start, cutoff };
      lineEnd = a + nl;
      i = nl - 1;
    }
    pos = a;
    if (a === 0 && lineEnd > 0) visit(view, 0, 0, lineEnd);
  }
  return { start, cutoff };
}
