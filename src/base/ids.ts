import { randomBytes } from 'node:crypto';

/** A 64-hex random ID like Docker's container and exec IDs. */
export function randomId(): string {
  return randomBytes(32).toString('hex');
}

export function shortId(id: string): string {
  const hex = id.startsWith('sha256:') ? id.slice(7) : id;
  return hex.slice(0, 12);
}
