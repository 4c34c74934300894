// Column alignment exactly as Go's text/tabwriter with docker's settings
// (minwidth 10, tabwidth 1, padding 3, pad with spaces, no flags): cells are terminated by a
// tab; text after a line's last tab is not part of any column and is never padded. Columns are
// sized per block of consecutive lines that have that column, as tabwriter does.

const MIN_WIDTH = 10;
const PADDING = 3;

function width(s: string): number {
  return [...s].length;
}

export function alignTabs(text: string): string {
  const rawLines = text.split('\n');
  const endsWithNewline = text.endsWith('\n');
  if (endsWithNewline) rawLines.pop();
  const lines = rawLines.map((l) => l.split('\t'));
  const out: string[] = [];
  const widths: number[] = [];

  const writeLines = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const line = lines[i]!;
      let s = '';
      line.forEach((cell, j) => {
        s += cell;
        if (j < widths.length && j < line.length - 1) s += ' '.repeat(Math.max(0, widths[j]! - width(cell)));
      });
      out.push(s);
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    let printed = line0;
    for (let cur = line0; cur < line1; cur++) {
      if (column >= lines[cur]!.length - 1) continue;
      writeLines(printed, cur);
      const blockStart = cur;
      let w = MIN_WIDTH;
      for (; cur < line1; cur++) {
        const line = lines[cur]!;
        if (column >= line.length - 1) break;
        w = Math.max(w, width(line[column]!) + PADDING);
      }
      widths.push(w);
      format(blockStart, cur);
      widths.pop();
      printed = cur;
      cur--; // the outer loop's increment re-examines the line that ended the block
    }
    writeLines(printed, line1);
  };

  format(0, lines.length);
  return out.join('\n') + (endsWithNewline ? '\n' : '');
}

/** Rows of cells (first row = header) → aligned text, one line per row. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  return alignTabs(rows.map((r) => `${r.join('\t')}\n`).join(''));
}
