// The API versions berthd serves, and how two of them compare.

/** Highest API version served (Docker 28.x's); unversioned paths speak it too. */
export const API_VERSION = '1.50';
/** Oldest API version accepted (the same floor as Docker's). */
export const MIN_API_VERSION = '1.24';

/** As moby's versions.Compare for `major.minor`: negative when a < b. */
export function compareVersions(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return am !== bm ? am - bm : an - bn;
}

/** A span of versions: from `since` (included) up to `until` (excluded). */
export interface VersionRange {
  readonly since?: string;
  readonly until?: string;
}

export function inRange(version: string, r: VersionRange): boolean {
  if (r.since !== undefined && compareVersions(version, r.since) < 0) return false;
  if (r.until !== undefined && compareVersions(version, r.until) >= 0) return false;
  return true;
}
