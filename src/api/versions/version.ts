// The API versions berthd serves, and how two of them compare.

/** Highest API version served (Docker 28.x's); unversioned paths speak it too. */
export const API_VERSION = '1.50';
/** Oldest API version accepted (the same floor as Docker's). */
export const MIN_API_VERSION = '1.24';

/** As moby's versions.Compare for `major.minor`: negative when a < b. */
export function compareVersions(a: string, b: string): number {
  const [am, an] = parsed(a);
  const [bm, bn] = parsed(b);
  return am !== bm ? am - bm : an - bn;
}

// Views ask for every field rule of every item (`ps -a` of 200 containers: thousands of
// compares per request), and splitting the strings each time was a measurable part of the list
// route. The versions seen are few (the rules' own and the clients'); bounded all the same,
// since the request's version comes from its URL.
const parsedVersions = new Map<string, readonly [number, number]>();
function parsed(v: string): readonly [number, number] {
  let p = parsedVersions.get(v);
  if (p === undefined) {
    const [m = 0, n = 0] = v.split('.').map(Number);
    p = [m, n];
    if (parsedVersions.size < 256) parsedVersions.set(v, p);
  }
  return p;
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
