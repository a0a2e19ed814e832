/**
 * The settings the running model host applies live — request batching and workers per version —
 * as Compute Settings edits them: a draft from the status, its problems, and what Save sends.
 * A setting left empty (or Automatic) is the host's own choice, sent as null.
 */
import { SERVING_SETTING_LIMITS } from '../../../../core/registry/model';
import type { BatchingChangeJson, EndpointStatusJson } from '../../api/serving';

/** The form's values: numbers as typed ('' is the host's default), workers `auto` or a count. */
export interface HostSettingsDraft {
  /** Undefined: not set, the host's default. */
  readonly enabled?: boolean;
  readonly maxBatchRows: string;
  readonly maxWaitMs: string;
  readonly workers: string;
}

export const AUTOMATIC = 'auto';

export function draftOf(status: EndpointStatusJson): HostSettingsDraft {
  return {
    enabled: status.batching?.enabled,
    maxBatchRows: String(status.batching?.max_batch_rows ?? ''),
    maxWaitMs: String(status.batching?.max_wait_ms ?? ''),
    workers: String(status.workers_per_version ?? AUTOMATIC),
  };
}

/** A number field's value: null when empty (the host's default), NaN when it is not a whole number. */
function numberOf(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  return /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
}

function rangeProblem(text: string, limit: { readonly min: number; readonly max: number }, unit: string) {
  const value = numberOf(text);
  if (value === null || (value >= limit.min && value <= limit.max)) return undefined;
  return `A whole number from ${limit.min} to ${limit.max}${unit}, or empty for the host's default.`;
}

/** What is wrong with the number fields, by field; empty when Save may send them. */
export function problemsOf(draft: HostSettingsDraft): { readonly maxBatchRows?: string; readonly maxWaitMs?: string } {
  const maxBatchRows = rangeProblem(draft.maxBatchRows, SERVING_SETTING_LIMITS.maxBatchRows, ' rows');
  const maxWaitMs = rangeProblem(draft.maxWaitMs, SERVING_SETTING_LIMITS.maxWaitMs, ' ms');
  return { ...(maxBatchRows ? { maxBatchRows } : {}), ...(maxWaitMs ? { maxWaitMs } : {}) };
}

export interface HostSettingsChange {
  readonly batching?: Exclude<BatchingChangeJson, null>;
  readonly workersPerVersion?: number | null;
}

/** What Save would send for these settings: only the fields that differ from the status. */
export function hostChangesOf(status: EndpointStatusJson, draft: HostSettingsDraft): HostSettingsChange {
  const now = status.batching ?? {};
  const batching: Record<string, boolean | number | null> = {};
  if (draft.enabled !== now.enabled) batching.enabled = draft.enabled ?? null;
  const rows = numberOf(draft.maxBatchRows);
  if (rows !== (now.max_batch_rows ?? null)) batching.max_batch_rows = rows;
  const wait = numberOf(draft.maxWaitMs);
  if (wait !== (now.max_wait_ms ?? null)) batching.max_wait_ms = wait;
  const workers = draft.workers === AUTOMATIC ? null : Number(draft.workers);
  return {
    ...(Object.keys(batching).length > 0 ? { batching } : {}),
    ...(workers !== (status.workers_per_version ?? null) ? { workersPerVersion: workers } : {}),
  };
}

const orDefault = (value: number | null | undefined, unit = '') =>
  value === null || value === undefined ? "the host's default" : `${value}${unit}`;

/** The confirmation's lines for a change. */
export function describeHostChange(change: HostSettingsChange): string[] {
  const lines: string[] = [];
  const b = change.batching;
  if (b && 'enabled' in b)
    lines.push(`Batching: ${b.enabled === null ? "the host's default" : b.enabled ? 'on' : 'off'}`);
  if (b && 'max_batch_rows' in b) lines.push(`Max batch rows: ${orDefault(b.max_batch_rows)}`);
  if (b && 'max_wait_ms' in b) lines.push(`Max wait: ${orDefault(b.max_wait_ms, ' ms')}`);
  if ('workersPerVersion' in change) {
    lines.push(`Workers per version: ${change.workersPerVersion === null ? 'Automatic' : change.workersPerVersion}`);
  }
  return lines;
}
