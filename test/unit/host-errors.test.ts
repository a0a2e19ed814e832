import { describe, expect, it } from 'vitest';
import {
  BodyTooLargeError,
  ModelPredictionError,
  PredictionError,
  RuntimeUnavailableError,
  StoreUnavailableError,
  scoringErrorAnswer,
} from '../../container/src/errors';

describe("the model host's errors", () => {
  it('are answered with the status and MLflow error code each carries', () => {
    const answers = [
      new PredictionError('INVALID_PARAMETER_VALUE', 'bad column'),
      new ModelPredictionError('BAD_REQUEST', 'model failed', 'Traceback'),
      new RuntimeUnavailableError('worker exited'),
      new StoreUnavailableError('features', 'store down'),
      new BodyTooLargeError(1024),
    ].map(scoringErrorAnswer);
    expect(answers).toEqual([
      { status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: 'bad column' } },
      { status: 400, body: { error_code: 'BAD_REQUEST', message: 'model failed' } },
      { status: 503, body: { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'worker exited' } },
      { status: 503, body: { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'store down' } },
      { status: 413, body: { error_code: 'BAD_REQUEST', message: 'Request body exceeds the limit of 1024 bytes.' } },
    ]);
  });

  it('cut a message that quotes a huge request back', () => {
    const answer = scoringErrorAnswer(new PredictionError('BAD_REQUEST', 'x'.repeat(5000)));
    expect((answer.body as { message: string }).message).toBe(`${'x'.repeat(4096)}… (904 more characters)`);
  });
});
