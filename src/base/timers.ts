// Timers whose delay comes from a user (stop timeouts, healthcheck intervals, `until`): Node
// fires a timer with a delay above 2^31-1 ms (~24.8 days) after 1 ms instead (with a warning),
// so `docker stop -t 9999999` would kill at once. Every such delay goes through clampDelay.

/** The longest delay Node's timers honour. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A user-supplied delay made safe for setTimeout: NaN and negatives are 0, huge ones the max. */
export function clampDelay(ms: number): number {
  if (!(ms > 0)) return 0;
  return Math.min(ms, MAX_TIMER_MS);
}

/** Resolves after `ms` (clamped; a delay beyond ~24.8 days waits that long, never less). */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, clampDelay(ms)));
}
