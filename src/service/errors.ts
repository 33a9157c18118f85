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
