import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../errdefs/index.ts';

/** `sha256:<64 hex>`: a verified-format content digest. */
export type Digest = string & { readonly __brand: 'Digest' };

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(s: string): s is Digest {
  return DIGEST_RE.test(s);
}

export function parseDigest(s: string): Digest {
  if (!isDigest(s)) {
    throw new InvalidArgumentError(
      'INVALID_DIGEST',
      `invalid digest "${s}": expected sha256:<64 hex digits>`,
    );
  }
  return s;
}

export function digestHex(d: Digest): string {
  return d.slice(7);
}

export function sha256Digest(data: string | Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}` as Digest;
}

/**
 * Chain ID of a layer stack as in the OCI image spec: ChainID(L0) = DiffID(L0),
 * ChainID(L0..Ln) = sha256(ChainID(L0..Ln-1) + " " + DiffID(Ln)).
 */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  let prev: Digest | undefined;
  for (const d of diffIds) {
    prev = prev === undefined ? d : sha256Digest(`${prev} ${d}`);
    out.push(prev);
  }
  return out;
}

/** First 12 hex digits, as Docker shows IDs. */
export function shortHex(idOrDigest: string): string {
  return (idOrDigest.startsWith('sha256:') ? idOrDigest.slice(7) : idOrDigest).slice(0, 12);
}
