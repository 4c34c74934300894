// Signal names and numbers as `docker kill -s` accepts them (SIGKILL, KILL, kill, 9).
import { constants } from 'node:os';
import { InvalidArgumentError } from '../errdefs/index.ts';

export function parseSignal(input: string | number): number {
  const s = String(input).trim();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n >= 1 && n <= 64) return n;
  } else {
    const name = s.toUpperCase().startsWith('SIG') ? s.toUpperCase() : `SIG${s.toUpperCase()}`;
    const n = (constants.signals as Record<string, number>)[name];
    if (n !== undefined) return n;
    const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name);
    if (rt) return 34 + Number(rt[1] ?? 0);
  }
  throw new InvalidArgumentError('INVALID_SIGNAL', `Invalid signal: ${input}`);
}
