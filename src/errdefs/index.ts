// Error classes by category. Services throw these; the API edge maps the category to an HTTP
// status in exactly one place (src/api/errors.ts). Callers branch on `kind` or `code`, never on
// the message text.

export type ErrorKind =
  | 'invalid-argument'
  | 'not-found'
  | 'conflict'
  | 'failed-precondition'
  | 'unauthorized'
  | 'forbidden'
  | 'unavailable'
  | 'not-implemented'
  | 'not-modified'
  | 'too-large'
  | 'internal';

export abstract class BerthError extends Error {
  abstract readonly kind: ErrorKind;
  /** A stable machine-readable code, e.g. `IMAGE_NOT_FOUND`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

export class InvalidArgumentError extends BerthError {
  readonly kind = 'invalid-argument' as const;
}
export class NotFoundError extends BerthError {
  readonly kind = 'not-found' as const;
}
export class ConflictError extends BerthError {
  readonly kind = 'conflict' as const;
}
export class FailedPreconditionError extends BerthError {
  readonly kind = 'failed-precondition' as const;
}
export class UnauthorizedError extends BerthError {
  readonly kind = 'unauthorized' as const;
}
export class ForbiddenError extends BerthError {
  readonly kind = 'forbidden' as const;
}
export class UnavailableError extends BerthError {
  readonly kind = 'unavailable' as const;
}
export class NotImplementedError extends BerthError {
  readonly kind = 'not-implemented' as const;
}
/** The request asked for the state the object is already in (Docker answers 304). */
export class NotModifiedError extends BerthError {
  readonly kind = 'not-modified' as const;
}
/** A request (body) bigger than the daemon accepts for that endpoint. */
export class TooLargeError extends BerthError {
  readonly kind = 'too-large' as const;
}
export class InternalError extends BerthError {
  readonly kind = 'internal' as const;
}

export function isBerthError(err: unknown): err is BerthError {
  return err instanceof BerthError;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function assertNever(value: never, what = 'value'): never {
  throw new InternalError('UNREACHABLE', `unexpected ${what}: ${JSON.stringify(value)}`);
}
