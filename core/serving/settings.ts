/** The rules of a serving settings change: what it may set, what it leaves, and how its event reads. */

import type { ServingBatching, ServingBatchingChange, ServingConfig } from '../registry/model';
import { BATCHING_FIELDS, workersPerVersionProblem } from '../registry/validation';
import { invalidParameter } from '../shared/errors';

/** Refuses batching and worker settings out of their ranges (the rules every API checks). */
export function checkServingSettings(
  batching: ServingBatchingChange | null | undefined,
  workersPerVersion: number | null | undefined,
): void {
  for (const { key, problem } of Object.values(BATCHING_FIELDS)) {
    const value = batching?.[key];
    const found = value === undefined || value === null ? undefined : problem(value);
    if (found !== undefined) throw invalidParameter(found);
  }
  const workers = workersPerVersion ?? undefined;
  const found = workers === undefined ? undefined : workersPerVersionProblem(workers);
  if (found !== undefined) throw invalidParameter(found);
}

/** Batching after `change` (null clears all; a null field clears that field); undefined when nothing is set. */
export function changedBatching(
  current: ServingBatching | undefined,
  change: ServingBatchingChange | null | undefined,
): ServingBatching | undefined {
  if (change === undefined) return current;
  const next: Record<string, unknown> = { ...(change === null ? {} : current) };
  for (const { key } of Object.values(BATCHING_FIELDS)) {
    const value = change?.[key];
    if (value === null) delete next[key];
    else if (value !== undefined) next[key] = value;
  }
  return Object.keys(next).length > 0 ? (next as ServingBatching) : undefined;
}

/** Whether two maps hold the same entries, in any order. */
export function sameEntries(a: object, b: object): boolean {
  return JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
}

/** A SERVING_RECONFIGURED event's message: the settings now, in the serving API's words. */
export function describeServing(config: ServingConfig, newTask: boolean): string {
  const batching = Object.fromEntries(
    Object.entries(BATCHING_FIELDS)
      .filter(([, { key }]) => config.batching?.[key] !== undefined)
      .map(([field, { key }]) => [field, config.batching?.[key]]),
  );
  return [
    `compute ${config.computeSize}, tags ${JSON.stringify(config.tags)}`,
    `batching ${Object.keys(batching).length > 0 ? JSON.stringify(batching) : 'default'}`,
    `workers per version ${config.workersPerVersion ?? 'auto'}`,
  ]
    .join(', ')
    .concat(newTask ? '' : ' (applied by the running task; no new task)');
}
