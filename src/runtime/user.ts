// Resolves Docker's `--user` forms (name, uid, name:group, uid:gid) against the image's
// /etc/passwd and /etc/group, plus `--group-add`.
import { InvalidArgumentError } from '../errdefs/index.ts';

export interface ResolvedUser {
  readonly uid: number;
  readonly gid: number;
  readonly additionalGids: number[];
  readonly home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export function parsePasswd(text: string): PasswdEntry[] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 7 && /^\d+$/.test(f[2]!) && /^\d+$/.test(f[3]!))
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! }));
}

export function parseGroup(text: string): GroupEntry[] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 4 && /^\d+$/.test(f[2]!))
    .map((f) => ({ name: f[0]!, gid: Number(f[2]), members: f[3]!.split(',').filter(Boolean) }));
}

export function resolveUser(
  spec: string,
  files: { passwd?: string; group?: string },
  groupAdd: readonly string[] = [],
): ResolvedUser {
  const passwd = parsePasswd(files.passwd ?? '');
  const groups = parseGroup(files.group ?? '');
  const [userPart = '', groupPart] = spec === '' ? ['0'] : spec.split(':');
  let uid: number;
  let gid: number;
  let home = '/';
  let name: string | undefined;
  if (/^\d+$/.test(userPart)) {
    uid = Number(userPart);
    const e = passwd.find((p) => p.uid === uid);
    gid = e?.gid ?? 0;
    home = e?.home ?? '/';
    name = e?.name;
  } else {
    const e = passwd.find((p) => p.name === userPart);
    if (!e) {
      throw new InvalidArgumentError(
        'USER_NOT_FOUND',
        `unable to find user ${userPart}: no matching entries in passwd file`,
      );
    }
    ({ uid, gid, home } = e);
    name = e.name;
  }
  const lookupGroup = (g: string): number => {
    if (/^\d+$/.test(g)) return Number(g);
    const e = groups.find((x) => x.name === g);
    if (!e)
      throw new InvalidArgumentError(
        'GROUP_NOT_FOUND',
        `unable to find group ${g}: no matching entries in group file`,
      );
    return e.gid;
  };
  if (groupPart !== undefined && groupPart !== '') gid = lookupGroup(groupPart);
  // Docker lists the primary group first among the supplementary ones (`id` shows
  // `groups=0(root)` for `--user 4242`), then the user's memberships, then --group-add.
  const additional = new Set<number>([gid]);
  if (name !== undefined && groupPart === undefined) {
    for (const g of groups) if (g.members.includes(name) && g.gid !== gid) additional.add(g.gid);
  }
  for (const g of groupAdd) additional.add(lookupGroup(g));
  return { uid, gid, additionalGids: [...additional], home };
}
