// Column alignment as the docker CLI does it: its fork of Go's text/tabwriter, created with
// NewWriter(out, 10, 1, 3, ' ', 0) — minwidth 10, padding 3, pad with spaces, no flags.
//
// tabwriter semantics (elastic tabstops): a cell is text terminated by a tab; the text after a
// line's last tab is not part of any column and is never padded. A column is a block of
// consecutive lines that all have a tab-terminated cell at that index; each block is as wide as
// its widest cell plus the padding (at least minwidth). '\v' terminates a cell like '\t', and
// '\f' ends a line and every column. Widths are terminal cells as go-runewidth counts them
// (East Asian wide characters and emoji take two, combining marks none).

export interface TabwriterOptions {
  /** Minimal cell width including padding (docker: 10). */
  readonly minWidth?: number | undefined;
  /** Padding added to the widest cell of a column (docker: 3). */
  readonly padding?: number | undefined;
}

const WIDE_RANGES: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f],
  [0x231a, 0x231b],
  [0x2329, 0x232a],
  [0x23e9, 0x23ec],
  [0x23f0, 0x23f0],
  [0x23f3, 0x23f3],
  [0x25fd, 0x25fe],
  [0x2614, 0x2615],
  [0x2648, 0x2653],
  [0x267f, 0x267f],
  [0x2693, 0x2693],
  [0x26a1, 0x26a1],
  [0x26aa, 0x26ab],
  [0x26bd, 0x26be],
  [0x26c4, 0x26c5],
  [0x26ce, 0x26ce],
  [0x26d4, 0x26d4],
  [0x26ea, 0x26ea],
  [0x26f2, 0x26f3],
  [0x26f5, 0x26f5],
  [0x26fa, 0x26fa],
  [0x26fd, 0x26fd],
  [0x2705, 0x2705],
  [0x270a, 0x270b],
  [0x2728, 0x2728],
  [0x274c, 0x274c],
  [0x274e, 0x274e],
  [0x2753, 0x2755],
  [0x2757, 0x2757],
  [0x2795, 0x2797],
  [0x27b0, 0x27b0],
  [0x27bf, 0x27bf],
  [0x2b1b, 0x2b1c],
  [0x2b50, 0x2b50],
  [0x2b55, 0x2b55],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x16fe0, 0x16fe4],
  [0x17000, 0x18aff],
  [0x1b000, 0x1b2ff],
  [0x1f004, 0x1f004],
  [0x1f0cf, 0x1f0cf],
  [0x1f18e, 0x1f18e],
  [0x1f191, 0x1f19a],
  [0x1f200, 0x1f251],
  [0x1f300, 0x1f64f],
  [0x1f680, 0x1f6ff],
  [0x1f7e0, 0x1f7eb],
  [0x1f90c, 0x1f9ff],
  [0x1fa70, 0x1faff],
  [0x20000, 0x2fffd],
  [0x30000, 0x3fffd],
];

const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}\p{Cc}]$/u;

function runeWidth(cp: number): number {
  if (cp === 0) return 0;
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 0;
  if (cp < 0x300) return 1;
  if (ZERO_WIDTH.test(String.fromCodePoint(cp))) return 0;
  let lo = 0;
  let hi = WIDE_RANGES.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = WIDE_RANGES[mid]!;
    if (cp < a) hi = mid - 1;
    else if (cp > b) lo = mid + 1;
    else return 2;
  }
  return 1;
}

/**
 * Terminal width of a string, as go-runewidth (which the docker CLI uses) counts it. Hand-written
 * rather than the string-width package: that one strips ANSI codes and counts ambiguous-width
 * characters differently, and column widths must match the docker CLI byte for byte.
 */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += runeWidth(ch.codePointAt(0)!);
  return w;
}

interface Cell {
  readonly text: string;
  readonly width: number;
}

function alignSection(text: string, minWidth: number, padding: number, last: boolean): string {
  // Split into lines of cells. Every cell but a line's last was terminated by a tab.
  const lines: Cell[][] = text
    .split('\n')
    .map((line) =>
      line === '' ? [] : line.split(/[\t\v]/).map((t) => ({ text: t, width: displayWidth(t) })),
    );
  // Unterminated text at the very end only becomes a cell if it is not empty.
  const tail = lines[lines.length - 1]!;
  if (last && tail.length > 0 && tail[tail.length - 1]!.text === '') tail.pop();
  const out: string[] = [];
  const widths: number[] = [];

  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const line = lines[i]!;
      let s = '';
      line.forEach((cell, j) => {
        s += cell.text;
        if (j < widths.length) s += ' '.repeat(Math.max(0, widths[j]! - cell.width));
      });
      out.push(s);
    }
  };

  // For the column at index widths.length: find each block of consecutive lines that have a
  // tab-terminated cell there, size it, and recurse into the columns to its right.
  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    let printed = line0;
    let cur = line0;
    while (cur < line1) {
      if (column >= lines[cur]!.length - 1) {
        cur++;
        continue;
      }
      writeLines(printed, cur);
      const blockStart = cur;
      let width = minWidth;
      for (; cur < line1; cur++) {
        const line = lines[cur]!;
        if (column >= line.length - 1) break;
        width = Math.max(width, line[column]!.width + padding);
      }
      widths.push(width);
      format(blockStart, cur);
      widths.pop();
      printed = cur;
    }
    writeLines(printed, line1);
  };

  format(0, lines.length);
  return out.join('\n');
}

/**
 * Aligns tab-separated text exactly as docker's tabwriter would print it (a trailing newline
 * is kept; '\f' sections are aligned independently).
 */
export function tabwrite(text: string, options: TabwriterOptions = {}): string {
  const minWidth = options.minWidth ?? 10;
  const padding = options.padding ?? 3;
  const sections = text.split('\f');
  return sections.map((s, i) => alignSection(s, minWidth, padding, i === sections.length - 1)).join('\n');
}

/** @deprecated name kept for existing callers; same as tabwrite with docker's settings. */
export function alignTabs(text: string): string {
  return tabwrite(text);
}

/**
 * Rows of cells (the first row is the header) aligned like a docker table: one line per row,
 * each ending in a newline. Cells must not contain tabs or newlines.
 */
export function formatTable(rows: readonly (readonly string[])[], options: TabwriterOptions = {}): string {
  return tabwrite(rows.map((r) => `${r.join('\t')}\n`).join(''), options);
}
