/**
 * Adaptive batching: which requests for one version may share a runtime call, how their inputs
 * are merged into one, and how the call's predictions are split back by each request's rows.
 * Requests share a call only when they have the same kind of input (a table with the same
 * columns, tensors with the same inner shape and names), the same params and the same protocol,
 * and only predictions with one entry per input row (a list, or columns of such lists) can be
 * split; anything else is served one request per call.
 */
import type { Json, ScoringInput, ScoringRequest } from './scoring/input';

export interface BatchingSettings {
  readonly enabled: boolean;
  /** Most rows one runtime call carries (a larger request goes alone). */
  readonly maxBatchRows: number;
  /** How long a request that finds the runtime free waits for others to join it (0: never). */
  readonly maxWaitMs: number;
}

export const DEFAULT_BATCHING: BatchingSettings = { enabled: true, maxBatchRows: 1000, maxWaitMs: 0 };

/** The inner shape of a nested list's elements (`[[1,2],[3,4]]` → `2`), or undefined when not rectangular at the top. */
function innerShape(rows: readonly Json[]): string | undefined {
  const first = rows[0];
  const dims: number[] = [];
  for (let v: Json | undefined = first; Array.isArray(v); v = v[0]) dims.push(v.length);
  return dims.join('x');
}

/**
 * The key of requests that may share a runtime call, or undefined for one that must go alone
 * (no rows, a bare value, named tensors that are not lists of rows).
 */
export function batchKey(request: ScoringRequest): string | undefined {
  const input = request.input;
  const params = request.params === undefined ? '' : JSON.stringify(request.params);
  const prefix = `${request.protocol}|${params}|`;
  if (input.kind === 'dataframe') {
    if (input.rows.length === 0) return undefined;
    const columns = input.columns ? input.columns.join('\u0000') : `#${input.rows[0]?.length}`;
    return `${prefix}d|${columns}`;
  }
  if (input.kind === 'tensor') {
    if (input.wrapped || input.data.length === 0) return undefined;
    return `${prefix}t|${innerShape(input.data)}`;
  }
  const names = Object.keys(input.data).sort();
  let rows: number | undefined;
  const parts: string[] = [];
  for (const name of names) {
    const value = input.data[name];
    if (!Array.isArray(value) || value.length === 0) return undefined;
    if (rows !== undefined && value.length !== rows) return undefined;
    rows = value.length;
    parts.push(`${name}:${innerShape(value)}`);
  }
  return names.length === 0 ? undefined : `${prefix}n|${parts.join('\u0000')}`;
}

/** The number of rows an input carries (what predictions are split by). */
export function inputRows(input: ScoringInput): number {
  if (input.kind === 'dataframe') return input.rows.length;
  if (input.kind === 'tensor') return input.data.length;
  const first = Object.values(input.data)[0];
  return Array.isArray(first) ? first.length : 1;
}

/** One input holding every row of `inputs` (all of one batch key), in order. */
export function mergeInputs(inputs: readonly ScoringInput[]): ScoringInput {
  const first = inputs[0] as ScoringInput;
  if (first.kind === 'dataframe') {
    const rows = inputs.flatMap((i) => (i as typeof first).rows);
    return first.columns ? { kind: 'dataframe', columns: first.columns, rows } : { kind: 'dataframe', rows };
  }
  if (first.kind === 'tensor') return { kind: 'tensor', data: inputs.flatMap((i) => (i as typeof first).data) };
  const data: { [name: string]: Json } = {};
  for (const name of Object.keys(first.data)) {
    data[name] = inputs.flatMap((i) => (i as typeof first).data[name] as Json[]);
  }
  return { kind: 'tensors', data };
}

const isRecord = (value: Json): value is { [key: string]: Json } =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * The predictions of a merged call split by the requests' row counts, or undefined when they
 * are not row-aligned: a list with one entry per row, or a dict whose every value is such a list.
 */
export function splitPredictions(predictions: Json, rows: readonly number[]): Json[] | undefined {
  const total = rows.reduce((a, b) => a + b, 0);
  const slices = (list: readonly Json[]) => {
    const out: Json[][] = [];
    let at = 0;
    for (const n of rows) {
      out.push(list.slice(at, at + n));
      at += n;
    }
    return out;
  };
  if (Array.isArray(predictions)) return predictions.length === total ? slices(predictions) : undefined;
  if (!isRecord(predictions)) return undefined;
  const names = Object.keys(predictions);
  if (names.length === 0) return undefined;
  const columns: Json[][][] = [];
  for (const name of names) {
    const column = predictions[name] as Json;
    if (!Array.isArray(column) || column.length !== total) return undefined;
    columns.push(slices(column));
  }
  return rows.map((_, r) => Object.fromEntries(names.map((name, c) => [name, columns[c]?.[r] ?? null])));
}

/** Whether two predictions are the same, numbers equal up to rounding (a batched call may sum in another order). */
export function samePredictions(a: Json, b: Json): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    return a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((v, i) => samePredictions(v, b[i] as Json))
    );
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length && keys.every((k) => k in b && samePredictions(a[k] as Json, b[k] as Json))
    );
  }
  return a === b;
}
