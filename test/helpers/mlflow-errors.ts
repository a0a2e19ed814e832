import { expect } from 'vitest';
import { MlflowError } from '../../core/shared/errors';

/** Asserts that `promise` rejects with an MlflowError of `code` (and, given one, a message matching `message`). */
export async function expectMlflowError(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MlflowError);
  expect((error as MlflowError).errorCode).toBe(code);
  if (message) expect((error as MlflowError).message).toMatch(message);
}
