/**
 * The model host's errors, each carrying the HTTP status and MLflow `error_code` its request
 * is answered with, and the one mapping from an error to that answer. Messages are the
 * caller's to read; a failure that is none of these is the host's own (500, details logged).
 */
import type { Answer } from './data-plane';

/** A scoring request answered with an error: its status, MLflow's error code and a message. */
export class ScoringError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
    this.name = 'ScoringError';
  }
}

/** A body past the host's size limit (413); the connection is closed after the answer. */
export class BodyTooLargeError extends ScoringError {
  constructor(limitBytes: number) {
    super(413, 'BAD_REQUEST', `Request body exceeds the limit of ${limitBytes} bytes.`);
    this.name = 'BodyTooLargeError';
  }
}

/** A feature store failed or timed out: the request gets a 503 naming it. */
export class StoreUnavailableError extends ScoringError {
  constructor(
    readonly storeName: string,
    message: string,
  ) {
    super(503, 'TEMPORARILY_UNAVAILABLE', message);
  }
}

/** A failure the caller caused (bad input for this model): a 400 with MLflow's code. */
export class PredictionError extends ScoringError {
  declare readonly errorCode: 'INVALID_PARAMETER_VALUE' | 'BAD_REQUEST';

  constructor(errorCode: 'INVALID_PARAMETER_VALUE' | 'BAD_REQUEST', message: string) {
    super(400, errorCode, message);
    this.name = 'PredictionError';
  }
}

/** A model failure inside predict (MLflow's "unexpected error"), with the Python traceback. */
export class ModelPredictionError extends PredictionError {
  constructor(
    errorCode: 'INVALID_PARAMETER_VALUE' | 'BAD_REQUEST',
    message: string,
    readonly stackTrace: string,
  ) {
    super(errorCode, message);
  }
}

/** The runtime cannot answer (worker crashed, not loaded): a retry-safe 503. */
export class RuntimeUnavailableError extends ScoringError {
  constructor(message: string) {
    super(503, 'TEMPORARILY_UNAVAILABLE', message);
    this.name = 'RuntimeUnavailableError';
  }
}

/**
 * Bytes from a Python worker that are not a valid frame; the stream cannot be trusted after it.
 * Never answered as such: the worker is restarted and its requests fail with RuntimeUnavailableError.
 */
export class FrameError extends Error {
  override name = 'FrameError';
}

/** Longest error message answered; a model's or a parser's message can quote a huge request back. */
const MAX_MESSAGE_CHARS = 4096;

/** An error answer: `{error_code, message}` with the status, the message cut to a readable length. */
export const errorAnswer = (status: number, errorCode: string, message: string): Answer => ({
  status,
  body: {
    error_code: errorCode,
    message:
      message.length > MAX_MESSAGE_CHARS
        ? `${message.slice(0, MAX_MESSAGE_CHARS)}… (${message.length - MAX_MESSAGE_CHARS} more characters)`
        : message,
  },
});

/** The answer to a ScoringError: its own status, code and message. */
export const scoringErrorAnswer = (error: ScoringError): Answer =>
  errorAnswer(error.status, error.errorCode, error.message);
