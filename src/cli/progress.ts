// Renders Docker's JSON-lines progress the way the docker CLI 28 does (moby pkg/jsonmessage
// DisplayJSONMessagesStream): on a terminal each layer ID keeps its line and is redrawn in
// place with cursor-up/erase/cursor-down; without a terminal progress updates are dropped and
// every other message is a plain line. Hand-written because the bytes must be docker's exactly
// (no progress-bar library draws jsonmessage's layout); the per-message text is in
// progress/render.ts.
import { displayMessage, type ProgressMessage } from './progress/render.ts';

export { displayMessage, goSeconds, type ProgressMessage, progressText } from './progress/render.ts';

export class ProgressError extends Error {}

/** The output a stream is drawn on: a Node stream, a TTY or not. */
export interface ProgressOut {
  write(s: string): unknown;
  isTTY?: boolean;
  getWindowSize?: () => [number, number];
}

/** Terminal width as moby/term reports it; 200 where the size cannot be read. */
function widthOf(out: ProgressOut): number {
  try {
    const size = out.getWindowSize?.();
    if (size && typeof size[0] === 'number') return size[0];
  } catch {
    // no size: docker falls back to 200 columns
  }
  return 200;
}

export async function displayJsonMessages(
  messages: AsyncIterable<ProgressMessage>,
  out: ProgressOut,
  onAux?: (aux: unknown) => void,
  nowMs?: () => number,
): Promise<void> {
  const tty = Boolean(out.isTTY);
  // Line of each ID, counted from the first progress line; reset by any other message so a
  // later operation (pull -a's next tag) never redraws an earlier one's lines.
  let ids = new Map<string, number>();
  for await (const m of messages) {
    if (m.aux !== undefined && m.aux !== null) {
      onAux?.(m.aux);
      continue;
    }
    const hasProgress = (m.progressDetail !== undefined && m.progressDetail !== null) || Boolean(m.progress);
    let diff = 0;
    let text = '';
    if (m.id && hasProgress) {
      let line = ids.get(m.id);
      if (line === undefined) {
        line = ids.size;
        ids.set(m.id, line);
        if (tty) text += '\n';
      }
      diff = ids.size - line;
      if (tty && diff > 0) text += `\x1b[${diff}A`;
    } else ids = new Map();
    if (m.errorDetail || m.error) {
      if (text) out.write(text);
      throw new ProgressError(m.errorDetail?.message ?? m.error ?? '');
    }
    text += displayMessage(m, tty, tty ? widthOf(out) : 200, nowMs?.());
    if (m.id && tty && diff > 0) text += `\x1b[${diff}B`;
    if (text) out.write(text);
  }
}
