// BuildKit-like build progress for `berth build`: on a terminal, one line per step redrawn in
// place (running, CACHED or DONE with its time) with the last lines of a running step's output
// under it; `--progress=plain` prints `#n` lines as BuildKit's plain mode. Hand-written: the
// renderer is small and must follow the build events exactly.

export type BuildUiEvent =
  | { type: 'step'; stage: string; n: number; total: number; text: string }
  | { type: 'cached'; n: number }
  | { type: 'stepDone'; n: number; image: string; ms: number }
  | { type: 'output'; n: number; data: string }
  | { type: 'container'; n: number; id: string }
  | { type: 'warning'; message: string };

interface StepView {
  n: number;
  label: string;
  started: number;
  state: 'running' | 'cached' | 'done' | 'error';
  ms: number;
  tail: string[];
  partial: string;
}

const TAIL_LINES = 6;

export class BuildProgress {
  readonly #out: NodeJS.WriteStream;
  readonly #mode: 'tty' | 'plain' | 'quiet';
  readonly #steps = new Map<number, StepView>();
  readonly #started = Date.now();
  #drawn = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #warnings: string[] = [];

  constructor(out: NodeJS.WriteStream, mode: 'auto' | 'tty' | 'plain' | 'quiet') {
    this.#out = out;
    this.#mode = mode === 'auto' ? (out.isTTY ? 'tty' : 'plain') : mode;
    if (this.#mode === 'tty') this.#timer = setInterval(() => this.#draw(), 150);
  }

  event(e: BuildUiEvent): void {
    if (e.type === 'warning') {
      this.#warnings.push(e.message);
      if (this.#mode === 'plain') this.#out.write(`${e.message}\n`);
      return;
    }
    if (e.type === 'step') {
      const label = `[${e.stage} ${e.n}/${e.total}] ${e.text}`;
      this.#steps.set(e.n, {
        n: e.n,
        label,
        started: Date.now(),
        state: 'running',
        ms: 0,
        tail: [],
        partial: '',
      });
      if (this.#mode === 'plain') this.#out.write(`#${e.n} ${label}\n`);
      return;
    }
    const s = this.#steps.get(e.n);
    if (!s) return;
    switch (e.type) {
      case 'cached':
        s.state = 'cached';
        if (this.#mode === 'plain') this.#out.write(`#${s.n} CACHED\n`);
        break;
      case 'stepDone':
        if (s.state !== 'cached') s.state = 'done';
        s.ms = e.ms;
        if (this.#mode === 'plain' && s.state === 'done')
          this.#out.write(`#${s.n} DONE ${(e.ms / 1000).toFixed(1)}s\n`);
        break;
      case 'output': {
        const text = s.partial + e.data;
        const lines = text.split('\n');
        s.partial = lines.pop() ?? '';
        const secs = ((Date.now() - s.started) / 1000).toFixed(3);
        for (const l of lines) {
          if (this.#mode === 'plain') this.#out.write(`#${s.n} ${secs} ${l}\n`);
          s.tail.push(l);
        }
        if (s.tail.length > TAIL_LINES) s.tail.splice(0, s.tail.length - TAIL_LINES);
        break;
      }
      case 'container':
        break;
    }
  }

  /** Marks running steps failed and prints the final state. */
  finish(error?: string): void {
    if (this.#timer) clearInterval(this.#timer);
    for (const s of this.#steps.values()) {
      if (s.state === 'running') {
        s.state = error ? 'error' : 'done';
        s.ms = Date.now() - s.started;
        if (s.partial) s.tail.push(s.partial);
      }
    }
    if (this.#mode === 'tty') this.#draw(true);
    if (this.#mode !== 'quiet' && this.#mode !== 'plain') {
      for (const w of this.#warnings) this.#out.write(`${w}\n`);
    }
  }

  #draw(final = false): void {
    const cols = this.#out.columns || 100;
    const lines: string[] = [];
    const done = [...this.#steps.values()].filter((s) => s.state !== 'running').length;
    const elapsed = ((Date.now() - this.#started) / 1000).toFixed(1);
    lines.push(`[+] Building ${elapsed}s (${done}/${this.#steps.size})${final ? ' FINISHED' : ''}`);
    for (const s of [...this.#steps.values()].sort((a, b) => a.n - b.n)) {
      const secs = ((s.state === 'running' ? Date.now() - s.started : s.ms) / 1000).toFixed(1);
      const prefix = s.state === 'cached' ? 'CACHED ' : s.state === 'error' ? 'ERROR ' : '';
      const head = ` => ${prefix}${s.label}`;
      const time = `${secs}s`;
      const room = Math.max(10, cols - time.length - 2);
      lines.push(`${head.length > room ? `${head.slice(0, room - 3)}...` : head.padEnd(room)} ${time}`);
      if (s.state === 'running' || s.state === 'error') {
        for (const t of s.tail) lines.push(` => => ${t}`.slice(0, cols - 1));
      }
    }
    let buf = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : '';
    for (const l of lines) buf += `\r\x1b[2K${l}\n`;
    // Lines left from a taller previous frame are cleared.
    for (let i = lines.length; i < this.#drawn; i++) buf += '\r\x1b[2K\n';
    const extra = Math.max(0, this.#drawn - lines.length);
    if (extra > 0) buf += `\x1b[${extra}A`;
    this.#out.write(buf);
    this.#drawn = lines.length;
  }
}
