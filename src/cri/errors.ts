// The one place CRI answers get their gRPC status: service errors (errdefs categories) map to
// codes here, as api/errors.ts maps them to HTTP statuses for the Docker API.
import { status } from '@grpc/grpc-js';
import { type ErrorKind, isBerthError } from '../errdefs/index.ts';

const BY_KIND: Record<ErrorKind, status> = {
  'invalid-argument': status.INVALID_ARGUMENT,
  'not-found': status.NOT_FOUND,
  conflict: status.FAILED_PRECONDITION,
  'failed-precondition': status.FAILED_PRECONDITION,
  unauthorized: status.UNAUTHENTICATED,
  forbidden: status.PERMISSION_DENIED,
  unavailable: status.UNAVAILABLE,
  'not-implemented': status.UNIMPLEMENTED,
  'not-modified': status.FAILED_PRECONDITION,
  'too-large': status.RESOURCE_EXHAUSTED,
  internal: status.INTERNAL,
};

/** An error that names its gRPC status itself (ALREADY_EXISTS, DEADLINE_EXCEEDED, ...). */
export class CriError extends Error {
  readonly grpcCode: status;
  constructor(grpcCode: status, message: string) {
    super(message);
    this.grpcCode = grpcCode;
  }
}

/** A request field that is missing or wrong: INVALID_ARGUMENT naming the field. */
export function invalidField(field: string, what: string): CriError {
  return new CriError(status.INVALID_ARGUMENT, `${field}: ${what}`);
}

export function grpcStatusOf(err: unknown): status {
  if (err instanceof CriError) return err.grpcCode;
  if (isBerthError(err)) return BY_KIND[err.kind];
  return status.UNKNOWN;
}
