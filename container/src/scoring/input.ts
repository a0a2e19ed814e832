/**
 * A scoring request after its wire format is read: what the runtimes receive. Every MLflow
 * 1.x and 2.x request body becomes one of these, whatever runtime serves the version.
 */

/** A JSON value inside a request (a cell, a tensor element, a nested tensor). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type ScoringInput =
  /** A table: `dataframe_split`, `dataframe_records`, 1.x records/split bodies, CSV. */
  | {
      readonly kind: 'dataframe';
      /** Column names; absent when the request gave none (pandas then numbers the columns 0..n-1). */
      readonly columns?: readonly string[];
      readonly rows: readonly (readonly Json[])[];
    }
  /**
   * `instances` or `inputs` as a list: one tensor (or a list of values). `wrapped`: the request
   * sent a bare value (`"inputs": 5`), put in a list here; such a request is never batched.
   */
  | { readonly kind: 'tensor'; readonly data: readonly Json[]; readonly wrapped?: boolean }
  /** `inputs` as a dict, or `instances` as a list of records: named tensors / columns. */
  | { readonly kind: 'tensors'; readonly data: { readonly [name: string]: Json } };

/** Which MLflow scoring protocol a request speaks; it decides the response's shape. */
export type Protocol = '1.x' | '2.x' | 'either';

export interface ScoringRequest {
  readonly input: ScoringInput;
  readonly params?: { readonly [key: string]: Json };
  readonly protocol: Protocol;
}

/** Number of rows (or instances) in an input, for metrics and batching. */
export function rowCount(input: ScoringInput): number {
  if (input.kind === 'dataframe') return input.rows.length;
  if (input.kind === 'tensor') return input.data.length;
  const first = Object.values(input.data)[0];
  return Array.isArray(first) ? first.length : 1;
}
