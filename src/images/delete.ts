// `docker rmi`: untag vs delete with Docker's rules.
import { crashPoint } from '../base/crashpoint.ts';
import { ConflictError } from '../errdefs/index.ts';
import { type Digest, shortHex } from '../oci/digest.ts';
import { familiarString, parseReference, type Reference } from '../oci/reference.ts';
import { type ImageService, noSuchImage } from './service.ts';

export type DeleteRecord = { readonly untagged: string } | { readonly deleted: string };

/** Lets the container service veto deleting an image a container uses. */
export type ImageUsers = (id: Digest) => { id: string; running: boolean }[];

export async function deleteImage(
  svc: ImageService,
  refOrId: string,
  opts: { force?: boolean; prune?: boolean; users?: ImageUsers } = {},
): Promise<DeleteRecord[]> {
  const { meta } = svc.deps;
  const found = svc.tryResolve(refOrId);
  if (!found) throw noSuchImage(refOrId);
  const { id } = found;
  const records: DeleteRecord[] = [];
  const users = opts.users?.(id) ?? [];

  if (found.matchedName !== undefined) {
    // Removing a name: untag; delete the image only if that was its last name.
    const removed = found.matchedName;
    const removedRef = parseReference(removed);
    const toRemove = [removed];
    const remaining = meta.namesOf(id).filter((n) => n !== removed);
    if (!removedRef.digest) {
      // Only digest references of the same repository left: they go too, as in Docker.
      const sameRepoTag = remaining.some((n) => {
        const r = parseReference(n);
        return !r.digest && sameRepo(r, removedRef);
      });
      if (!sameRepoTag) {
        toRemove.push(...remaining.filter((n) => sameRepo(parseReference(n), removedRef)));
      }
    }
    const left = meta.namesOf(id).filter((n) => !toRemove.includes(n));
    if (left.length === 0 && users.length > 0 && !opts.force) {
      throw conflictInUse(refOrId, id, users[0]!);
    }
    if (!(left.length === 0 && (await deleteRecordFirst(svc, id, users.length > 0))))
      await meta.removeRefs(toRemove);
    crashPoint('rmi:after-untag');
    for (const n of toRemove) records.push({ untagged: familiarString(parseReference(n)) });
    if (left.length > 0) return records;
  } else {
    const names = meta.namesOf(id);
    const repos = new Set(
      names.map((n) => {
        const r = parseReference(n);
        return `${r.domain}/${r.path}`;
      }),
    );
    if (!opts.force && repos.size > 1) {
      throw new ConflictError(
        'IMAGE_MULTIPLE_REPOS',
        `conflict: unable to delete ${shortHex(id)} (must be forced) - image is referenced in multiple repositories`,
      );
    }
    const running = users.find((u) => u.running);
    if (running && opts.force) {
      throw new ConflictError(
        'IMAGE_IN_USE',
        `conflict: unable to delete ${shortHex(id)} (cannot be forced) - image is being used by running container ${shortHex(running.id)}`,
      );
    }
    if (users.length > 0 && !opts.force) throw conflictInUse(refOrId, id, users[0]!);
    if (names.length > 0) {
      if (!(await deleteRecordFirst(svc, id, users.length > 0))) await meta.removeRefs(names);
      crashPoint('rmi:after-untag');
      for (const n of names) records.push({ untagged: familiarString(parseReference(n)) });
    }
  }

  const children = meta.all().filter((r) => r.parent === id);
  if (children.length > 0) {
    if (records.length > 0) return records;
    throw new ConflictError(
      'IMAGE_HAS_CHILDREN',
      `conflict: unable to delete ${shortHex(id)} (cannot be forced) - image has dependent child images`,
    );
  }
  if (users.length > 0) return records; // forced: names removed, image kept for its containers
  await meta.delete(id);
  records.push({ deleted: id });
  crashPoint('rmi:after-record');
  const gc = await svc.gc();
  for (const layer of gc.removedLayers) records.push({ deleted: `sha256:${layer}` });
  return records;
}

/**
 * When the last names go and the image goes with them, the record goes first: a crash after it
 * leaves names of a missing image, which start-up drops (ImageService.recover) and so finishes
 * the delete; the other order left an untagged image nobody asked to keep.
 */
async function deleteRecordFirst(svc: ImageService, id: Digest, used: boolean): Promise<boolean> {
  const { meta } = svc.deps;
  if (used || meta.all().some((r) => r.parent === id)) return false; // kept: only untagged
  await meta.delete(id);
  return true;
}

function sameRepo(a: Reference, b: Reference): boolean {
  return a.domain === b.domain && a.path === b.path;
}

function conflictInUse(ref: string, id: Digest, user: { id: string }): ConflictError {
  return new ConflictError(
    'IMAGE_IN_USE',
    `conflict: unable to remove repository reference "${ref}" (must force) - container ${shortHex(user.id)} is using its referenced image ${shortHex(id)}`,
  );
}
