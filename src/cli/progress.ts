// Renders Docker's JSON-lines progress the way the docker CLI does: one line per layer ID,
// redrawn in place on a terminal; plain lines otherwise. Hand-written because the look must
// match docker's exactly and the logic is a few dozen lines.
import type { JsonMessage } from '../client/index.ts';
import { humanSize } from './format/index.ts';

export class ProgressError extends Error {}

function bar(current: number, total: number): string {
  const width = 50;
  const filled = total > 0 ? Math.min(width, Math.floor((current / total) * width)) : 0;
  const b =
    '='.repeat(Math.max(0, filled - 1)) +
    (filled > 0 ? (filled === width ? '=' : '>') : '') +
    ' '.repeat(width - filled);
  return `[${b}] ${humanSize(current)}/${humanSize(total)}`;
}

export async function displayJsonMessages(
  messages: AsyncIterable<JsonMessage>,
  out: NodeJS.WriteStream,
  onAux?: (aux: unknown) => void,
): Promise<void> {
  const tty = Boolean(out.isTTY);
  const lines = new Map<string, number>();
  let lineCount = 0;
  for await (const m of messages) {
    if (m.error || m.errorDetail)
      throw new ProgressError(m.errorDetail?.message ?? m.error ?? 'unknown error');
    if (m.aux !== undefined) {
      onAux?.(m.aux);
      continue;
    }
    if (m.stream !== undefined) {
      out.write(m.stream);
      continue;
    }
    if (m.status === undefined) continue;
    const detail = m.progressDetail;
    const text =
      (m.id ? `${m.id}: ` : '') +
      m.status +
      (detail?.total ? ` ${m.progress && !tty ? m.progress : bar(detail.current ?? 0, detail.total)}` : '');
    if (!tty) {
      if (!detail?.total) out.write(`${text}\n`);
      continue;
    }
    if (m.id) {
      const at = lines.get(m.id);
      if (at === undefined) {
        lines.set(m.id, lineCount++);
        out.write(`${text}\n`);
      } else {
        const up = lineCount - at;
        out.write(`\x1b[${up}A\r\x1b[2K${text}\x1b[${up}B\r`);
      }
    } else {
      out.write(`${text}\n`);
      lineCount++;
    }
  }
}
