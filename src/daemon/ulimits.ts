// dockerd's default ulimits: daemon.json `default-ulimits` ({"nofile": {"Name": "nofile",
// "Soft": 1024, "Hard": 2048}}) or `--default-ulimit nofile=1024:2048`. They are applied when a
// container's spec is made, to every limit the container does not set itself (as dockerd's
// mergeUlimits), so inspect's HostConfig.Ulimits shows only the container's own.
import { InvalidArgumentError } from '../errdefs/index.ts';
import { readFileSync } from 'node:fs';
import { hostHardLimits, ULIMIT_NAMES, type Ulimit } from '../runtime/index.ts';
import { getOwn } from '../base/own.ts';

export type DefaultUlimit = Readonly<Ulimit>;

function bad(msg: string): never {
  throw new InvalidArgumentError('INVALID_CONFIG', msg);
}

function checkName(name: string, where: string): void {
  if (!getOwn(ULIMIT_NAMES, name))
    bad(`${where}: invalid ulimit type: ${name} (use one of ${Object.keys(ULIMIT_NAMES).join(', ')})`);
}

function checkOrder(u: DefaultUlimit, where: string): DefaultUlimit {
  if (u.Soft > u.Hard)
    bad(`${where}: ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
  return u;
}

/** One `--default-ulimit` value, `name=soft[:hard]`, in go-units' grammar (hard defaults to soft). */
export function parseUlimitFlag(text: string): DefaultUlimit {
  const where = `invalid --default-ulimit ${JSON.stringify(text)}`;
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(text);
  if (!m) bad(`${where}: use NAME=SOFT[:HARD], e.g. nofile=1024:2048`);
  checkName(m[1]!, where);
  const soft = Number(m[2]);
  return checkOrder({ Name: m[1]!, Soft: soft, Hard: m[3] === undefined ? soft : Number(m[3]) }, where);
}

/** daemon.json `default-ulimits`: an object of {Name, Soft, Hard} keyed by the limit's name. */
export function parseUlimitsKey(value: unknown, inFile: (msg: string) => string): DefaultUlimit[] {
  if (value === undefined) return [];
  const out: DefaultUlimit[] = [];
  for (const [key, u] of Object.entries(value as Record<string, unknown>)) {
    const where = inFile(`default-ulimits.${key}`);
    if (!u || typeof u !== 'object' || Array.isArray(u))
      bad(`${where}: expected an object like {"Name": "${key}", "Soft": 1024, "Hard": 2048}`);
    const { Name = key, Soft, Hard } = u as Record<string, unknown>;
    if (Name !== key) bad(`${where}: Name ${JSON.stringify(Name)} differs from its key`);
    checkName(key, where);
    for (const [field, n] of [
      ['Soft', Soft],
      ['Hard', Hard],
    ] as const)
      if (typeof n !== 'number' || !Number.isInteger(n)) bad(`${where}: ${field} must be an integer`);
    out.push(checkOrder({ Name: key, Soft: Soft as number, Hard: Hard as number }, where));
  }
  return out;
}

/**
 * Refuses defaults every container start would fail on: without CAP_SYS_RESOURCE (absent on
 * this kind of host) runc cannot set a hard limit above berthd's own.
 */
export function checkAgainstHost(
  ulimits: readonly DefaultUlimit[],
  hardLimits: Readonly<Record<string, number>>,
): void {
  for (const u of ulimits) {
    const cap = hardLimits[ULIMIT_NAMES[u.Name]!];
    if (cap !== undefined && u.Hard > cap)
      bad(
        `default ulimit ${u.Name}: hard limit ${u.Hard} is above berthd's own hard limit ${cap}, which containers cannot exceed; use at most ${u.Name}=${Math.min(u.Soft, cap)}:${cap}`,
      );
  }
}

/** Repeated flags for one limit: the last wins, as in dockerd's map of them. */
export function lastPerName(list: readonly DefaultUlimit[]): DefaultUlimit[] {
  return [...new Map(list.map((u) => [u.Name, u] as const)).values()];
}

/** checkAgainstHost with berthd's own limits (`berthd --validate`). */
export function checkDefaultUlimits(ulimits: readonly DefaultUlimit[]): void {
  checkAgainstHost(ulimits, hostHardLimits(readFileSync('/proc/self/limits', 'utf8')));
}
