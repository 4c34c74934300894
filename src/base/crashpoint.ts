// Test-only crash points: with BERTH_CRASH_AT=<step> in berthd's environment, the daemon sends
// itself SIGKILL exactly at that named step of a multi-step operation, so a test can check what
// the next start repairs. Read once at load: when unset, a crash point costs one comparison.
const target = process.env.BERTH_CRASH_AT || undefined;

/** Dies like `kill -9` when `step` is the one named in BERTH_CRASH_AT; otherwise a no-op. */
export function crashPoint(step: string): void {
  if (target === undefined || target !== step) return;
  process.stderr.write(`berthd: crash point ${step}: SIGKILL\n`);
  process.kill(process.pid, 'SIGKILL');
  // The signal is delivered on the way out of the kill syscall; never run the next step.
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
}

/**
 * Test-only: with BERTH_CRASH_AT=<step>, never resolves (a clean-up that hangs, to exercise
 * the forced exit); otherwise resolves at once.
 */
export function stallPoint(step: string): Promise<void> {
  if (target === undefined || target !== step) return Promise.resolve();
  process.stderr.write(`berthd: stall point ${step}: hanging\n`);
  // A live timer, as a clean-up stuck on I/O has: a bare pending promise would let Node exit.
  return new Promise(() => setInterval(() => {}, 1000));
}
