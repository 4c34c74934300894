// runc reports its own failure to start an exec's process (a missing command, a file that is
// not executable, ...) as one logrus line on the stderr it shares with the process, then exits
// 255. Docker's daemon tells the client instead, on the exec's stdout:
// `OCI runtime exec failed: <runc's message>: unknown`. This holds back a chunk that looks like
// runc's log line until the exit says whose it was, so the process's own output is never lost.

const RUNC_LOG_LINE = /^time="[^"]*" level=(?:error|fatal) msg="((?:[^"\\]|\\.)*)"\s*$/;

/** runc's message from its logrus line, unquoted; undefined when `text` is not such a line. */
export function runcLogMessage(text: string): string | undefined {
  const m = RUNC_LOG_LINE.exec(text);
  if (!m) return undefined;
  try {
    return JSON.parse(`"${m[1]}"`) as string;
  } catch {
    return m[1];
  }
}

/** Docker's text for an exec runc could not start. */
export function execFailedText(message: string): string {
  return `OCI runtime exec failed: ${message}: unknown\r\n`;
}

export class RuncErrorFilter {
  #held: Buffer | undefined;
  readonly #forward: (d: Buffer) => void;

  constructor(forward: (d: Buffer) => void) {
    this.#forward = forward;
  }

  /** A chunk of the shared stderr: runc's log line is held, anything else forwarded. */
  write(d: Buffer): void {
    if (this.#held) this.#forward(this.#held);
    this.#held = undefined;
    if (runcLogMessage(d.toString('utf8')) !== undefined) this.#held = d;
    else this.#forward(d);
  }

  /**
   * At the exit: with runc's failure code (255) and a held line, its message; otherwise the
   * held chunk (if any) was the process's own output and goes on.
   */
  finish(code: number): string | undefined {
    const held = this.#held;
    this.#held = undefined;
    if (!held) return undefined;
    const msg = runcLogMessage(held.toString('utf8'));
    if (code === 255 && msg !== undefined && /exec failed|unable to start container process/.test(msg))
      return msg;
    this.#forward(held);
    return undefined;
  }
}
