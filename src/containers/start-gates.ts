// Work that must happen after a container's monitor is up and before its process runs: an attach
// to conmon's socket, for a container whose output no log file keeps (the `none` driver). Docker's
// CLI attaches before it starts the container; with no file to read back from, whatever the
// process wrote before the attach connected would be lost, so start() holds `runc start` until
// waiting attaches are connected (each for a bounded time: a stuck client cannot stall a start).

const GATE_MS = 5000;

interface Gate {
  readonly hook: () => Promise<void>;
  readonly settle: (err?: unknown) => void;
  /** open() took it and runs its hook: from then on only the hook's end settles the wait. */
  running: boolean;
}

export class StartGates {
  readonly #waiting = new Map<string, Set<Gate>>();
  /** Containers between their monitor's start and their process's (or the start's failure). */
  readonly #window = new Set<string>();

  /**
   * Runs `hook` in the window of the next start, or at once when the process already runs
   * (`live`) or the window is open. Resolves when the hook did (rejects with its error), or on
   * `signal` without running it.
   */
  wait(id: string, live: boolean, hook: () => Promise<void>, signal: AbortSignal): Promise<void> {
    if (live || this.#window.has(id)) return hook();
    if (signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const gates = this.#waiting.get(id) ?? new Set<Gate>();
      this.#waiting.set(id, gates);
      const onAbort = () => {
        // Once running, resolving now would let the caller go on while the hook still works
        // (an attach that connects afterwards, with nobody left to close it): wait for the hook.
        if (gate.running) return;
        gates.delete(gate);
        if (gates.size === 0 && this.#waiting.get(id) === gates) this.#waiting.delete(id);
        resolve();
      };
      const gate: Gate = {
        hook,
        settle: (err) => {
          signal.removeEventListener('abort', onAbort);
          if (err === undefined) resolve();
          else reject(err);
        },
        running: false,
      };
      gates.add(gate);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The monitor is up: runs the waiting hooks, giving them together at most GATE_MS. */
  async open(id: string): Promise<void> {
    this.#window.add(id);
    const gates = [...(this.#waiting.get(id) ?? [])];
    this.#waiting.delete(id);
    if (gates.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(
        gates.map((g) => {
          g.running = true;
          return g.hook().then(
            () => g.settle(),
            (err: unknown) => g.settle(err ?? new Error('attach failed')),
          );
        }),
      ),
      new Promise((r) => {
        timer = setTimeout(r, GATE_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  /** The process runs, or the start failed: later waits run at once or wait for the next start. */
  close(id: string): void {
    this.#window.delete(id);
  }
}
