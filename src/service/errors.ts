import { ZkmlError } from '../errors.js';

/** An error the HTTP API answers with its own status code and `{error: {code, message}}`. */
export abstract class ServiceError extends ZkmlError {
  abstract readonly status: number;
}

/** The request is well-formed JSON but asks for something impossible (400), or an input the model cannot take (422). */
export class InvalidRequestError extends ServiceError {
  readonly code = 'INVALID_REQUEST';
  constructor(message: string, readonly status: 400 | 413 | 422 = 400) {
    super(message);
  }
}

export class NotFoundError extends ServiceError {
  readonly code = 'NOT_FOUND';
  readonly status = 404;
}

/** The request conflicts with the state of something (a model not registered on the chain, a result already recorded). */
export class ConflictError extends ServiceError {
  readonly code = 'CONFLICT';
  readonly status = 409;
}

/** Backpressure: the queue is at its bound. The client should retry after `retryAfterSeconds`. */
export class QueueFullError extends ServiceError {
  readonly code = 'QUEUE_FULL';
  readonly status = 429;
  constructor(readonly queued: number, readonly limit: number, readonly retryAfterSeconds: number) {
    super(`the proving queue is full (${queued} of ${limit} proofs queued); retry after ${retryAfterSeconds} s`);
  }
}

/** The service cannot take work now: shutting down, or its queue backend is unreachable. */
export class UnavailableError extends ServiceError {
  readonly code = 'UNAVAILABLE';
  readonly status = 503;
}

/** No API key, or one the service does not know (or revoked): 401 with `WWW-Authenticate: Bearer`. */
export class UnauthorizedError extends ServiceError {
  readonly code = 'UNAUTHENTICATED';
  readonly status = 401;
  /** Whether the request carried a token (then the challenge says `error="invalid_token"`). */
  constructor(message: string, readonly tokenGiven: boolean) {
    super(message);
  }
}

/** A valid key that may not do this: it lacks the route's scope, or the job is another key's. */
export class ForbiddenError extends ServiceError {
  readonly code = 'FORBIDDEN';
  readonly status = 403;
  /** The scope the route needs, when that is what is missing. */
  constructor(message: string, readonly scope?: string) {
    super(message);
  }
}

/** An Idempotency-Key used before with another request body. */
export class IdempotencyKeyReusedError extends ServiceError {
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
  readonly status = 422;
  constructor(readonly key: string, readonly job: string) {
    super(`Idempotency-Key "${key}" was already used for job ${job} with a different request body; use a new key for a new job`);
  }
}
