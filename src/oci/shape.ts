// Shape checks for manifests and indexes that come from outside (a registry, a `docker load`
// archive): JSON that parses is not yet a manifest. A `null` where a descriptor belongs used to
// surface as a TypeError (a 500 that named JavaScript, not the document), and nothing bounded
// how many layers an image may have.
import { InvalidArgumentError } from '../errdefs/index.ts';
import type { ImageIndex, ImageManifest } from './image.ts';

/**
 * Most layers an image may have: overlayfs stacks at most 500 lower layers (the kernel's
 * OVL_MAX_STACK), so an image with more could never run. (Docker stops at 125; Berth builds and
 * commits past that, so its own saved and pushed images must still load and pull.) Without a
 * bound a 1 KB manifest naming one tiny layer 20000 times makes the daemon extract 20000 layer
 * directories.
 */
export const MAX_LAYERS = 500;

function bad(what: string, why: string): never {
  throw new InvalidArgumentError('MANIFEST_INVALID', `${what} is malformed: ${why}`);
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

function checkDescriptor(x: unknown, what: string, where: string): void {
  if (!isObject(x)) bad(what, `${where} is not a descriptor object`);
  if (typeof x.digest !== 'string') bad(what, `${where} has no digest string`);
  if (x.mediaType !== undefined && typeof x.mediaType !== 'string')
    bad(what, `${where} has a mediaType that is not a string`);
  if (x.platform !== undefined && !isObject(x.platform))
    bad(what, `${where} has a platform that is not an object`);
}

/** `doc` as an image index, or a 400 naming what is wrong with it. */
export function checkIndex(doc: unknown, what: string): ImageIndex {
  if (!isObject(doc)) bad(what, 'not a JSON object');
  if (!Array.isArray(doc.manifests)) bad(what, '"manifests" is not a list');
  for (const [i, m] of doc.manifests.entries()) checkDescriptor(m, what, `manifests[${i}]`);
  return doc as unknown as ImageIndex;
}

/** `doc` as an image manifest with at most MAX_LAYERS layers, or a 400 naming what is wrong. */
export function checkManifest(doc: unknown, what: string): ImageManifest {
  if (!isObject(doc)) bad(what, 'not a JSON object');
  checkDescriptor(doc.config, what, '"config"');
  if (!Array.isArray(doc.layers)) bad(what, '"layers" is not a list');
  if (doc.layers.length > MAX_LAYERS) {
    throw new InvalidArgumentError(
      'TOO_MANY_LAYERS',
      `${what} lists ${doc.layers.length} layers; at most ${MAX_LAYERS} are supported (overlayfs stacks no more)`,
    );
  }
  for (const [i, l] of doc.layers.entries()) checkDescriptor(l, what, `layers[${i}]`);
  return doc as unknown as ImageManifest;
}
