/**
 * Model leases: a lock on one model for one purpose that expires, so a crashed holder blocks
 * others for at most the lease's time to live.
 */
import { MlflowError } from '../shared/errors';
import type { ModelRecord, RegistryTable } from './dynamo-store';
import type { Clock } from './registry';
import { modelNotFound } from './views';

/** How long a model lease lasts if its holder dies, and how long a caller waits for one. */
const LEASE_TTL_MS = 30_000;
const LEASE_WAIT_MS = 20_000;

/** Runs `work` holding a lease on the model; waits (bounded) while another holder has it. */
export async function withModelLease<T>(
  table: Pick<RegistryTable, 'acquireModelLease' | 'releaseModelLease' | 'getModelById'>,
  clock: Clock,
  model: ModelRecord,
  purpose: string,
  work: () => Promise<T>,
): Promise<T> {
  const deadline = clock.now() + LEASE_WAIT_MS;
  let delay = 5;
  for (;;) {
    const token = await table.acquireModelLease(model.modelId, purpose, LEASE_TTL_MS, clock.now());
    if (token) {
      try {
        return await work();
      } finally {
        await table.releaseModelLease(model.modelId, purpose, token);
      }
    }
    if (!(await table.getModelById(model.modelId))) throw modelNotFound(model.name);
    if (clock.now() > deadline) {
      throw new MlflowError(
        'TEMPORARILY_UNAVAILABLE',
        `Another stage transition of '${model.name}' is in progress; try again.`,
      );
    }
    await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
    delay = Math.min(delay * 2, 200);
  }
}
