/**
 * A version's feature lookups at request time: for all rows of a request, one batched read per
 * lookup (lookups in parallel), then the features joined onto the rows. A value the request
 * already carries (non-null) wins over the stored one; a key the store lacks gives the
 * feature's default, else null; a null key is the caller's error (400); a store that fails
 * or does not answer in time fails the whole request (503), never a partial prediction.
 */
import type { BoundLookup, FeatureSpec } from '../../../core/features/feature-spec';
import { ScoringError, StoreUnavailableError } from '../errors';
import type { Json, ScoringInput } from '../scoring/input';
import { NUMBER } from '../scoring/parse';
import { type FeatureRow, type KeyValues, keyId, type StoreReader } from './store-readers';

/** The outcome of one request's lookups, for the version's metrics. */
export interface LookupStats {
  readonly keys: number;
  readonly misses: number;
  readonly cacheHits: number;
}

/** Values (and misses) kept for a short while, per lookup; off unless the spec asks. */
class LookupCache {
  private readonly entries = new Map<string, { row: FeatureRow | null; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  get(id: string, now: number): FeatureRow | null | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (entry.until <= now) {
      this.entries.delete(id);
      return undefined;
    }
    return entry.row;
  }

  set(id: string, row: FeatureRow | null, now: number): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(id, { row, until: now + this.ttlMs });
  }
}

interface PreparedLookup {
  readonly lookup: BoundLookup;
  readonly reader: StoreReader;
  readonly cache?: LookupCache;
}

interface Table {
  readonly columns: string[];
  readonly rows: Json[][];
}

export class FeatureLookups {
  private readonly lookups: PreparedLookup[];

  constructor(
    private readonly spec: FeatureSpec,
    lookups: readonly { readonly lookup: BoundLookup; readonly reader: StoreReader }[],
    private readonly timeoutMs: number,
  ) {
    this.lookups = lookups.map((l) => ({
      ...l,
      cache: l.lookup.cacheSeconds > 0 ? new LookupCache(l.lookup.cacheSeconds * 1000) : undefined,
    }));
  }

  /** The request's input with every looked-up feature joined onto its rows. */
  async enrich(input: ScoringInput): Promise<{ input: ScoringInput; stats: LookupStats }> {
    const table = asTable(input);
    const keysPerLookup = this.lookups.map((l) => rowKeys(table, l.lookup));
    const signal = AbortSignal.timeout(this.timeoutMs);
    const results = await Promise.all(
      this.lookups.map((l, i) => this.fetch(l, keysPerLookup[i] as ReturnType<typeof rowKeys>, signal)),
    );

    const columns = table.columns;
    const index = new Map(columns.map((c, i) => [c, i]));
    const rows = table.rows;
    let misses = 0;
    let keys = 0;
    let cacheHits = 0;
    this.lookups.forEach(({ lookup }, i) => {
      const { found, cached } = results[i] as { found: Map<string, FeatureRow | null>; cached: number };
      keys += found.size;
      cacheHits += cached;
      for (const row of found.values()) if (row === null) misses++;
      const rowIds = keysPerLookup[i]?.ids ?? [];
      for (const feature of lookup.features) {
        let at = index.get(feature.output);
        if (at === undefined) {
          at = columns.length;
          columns.push(feature.output);
          index.set(feature.output, at);
          for (const row of rows) row.push(null);
        }
        rows.forEach((row, r) => {
          if (row[at] !== null && row[at] !== undefined) return;
          const stored = found.get(rowIds[r] as string)?.[feature.name];
          row[at] = stored ?? feature.default ?? null;
        });
      }
    });
    return {
      input: this.forModel({ columns, rows }, index),
      stats: { keys, misses, cacheHits },
    };
  }

  /** A spec that lists the model's columns (Databricks: its included columns) gets exactly those, in order. */
  private forModel(table: Table, index: Map<string, number>): ScoringInput {
    const wanted = this.spec.modelColumns;
    if (!wanted) return { kind: 'dataframe', columns: table.columns, rows: table.rows };
    const positions = wanted.map((c) => {
      const at = index.get(c);
      if (at === undefined) {
        throw new ScoringError(400, 'BAD_REQUEST', `Column '${c}' is missing from the request; the model needs it.`);
      }
      return at;
    });
    return {
      kind: 'dataframe',
      columns: [...wanted],
      rows: table.rows.map((row) => positions.map((p) => row[p] ?? null)),
    };
  }

  private async fetch(
    { lookup, reader, cache }: PreparedLookup,
    { unique }: { unique: Map<string, KeyValues> },
    signal: AbortSignal,
  ): Promise<{ found: Map<string, FeatureRow | null>; cached: number }> {
    const found = new Map<string, FeatureRow | null>();
    const now = Date.now();
    const wanted: KeyValues[] = [];
    let cached = 0;
    for (const [id, values] of unique) {
      const hit = cache?.get(id, now);
      if (hit === undefined) wanted.push(values);
      else {
        found.set(id, hit);
        cached++;
      }
    }
    if (wanted.length > 0) {
      let rows: Map<string, FeatureRow>;
      try {
        rows = await reader.read(wanted, signal);
      } catch (error) {
        const reason = signal.aborted
          ? `did not answer within ${this.timeoutMs} ms`
          : `failed: ${error instanceof Error ? error.message : String(error)}`;
        throw new StoreUnavailableError(
          lookup.storeName,
          `Online store '${lookup.storeName}' (${lookup.config.type}) ${reason}; no prediction was made.`,
        );
      }
      for (const values of wanted) {
        const id = keyId(values);
        const row = rows.get(id) ?? null;
        found.set(id, row);
        cache?.set(id, row, now);
      }
    }
    return { found, cached };
  }
}

/** The request as named columns and rows (fresh arrays the join may fill): lookups join by column name. */
function asTable(input: ScoringInput): Table {
  if (input.kind === 'dataframe' && input.columns) {
    return { columns: [...input.columns], rows: input.rows.map((r) => [...r]) };
  }
  if (input.kind === 'tensors') {
    const columns = Object.keys(input.data);
    const values = columns.map((c) => input.data[c]);
    const length = Math.max(0, ...values.map((v) => (Array.isArray(v) ? v.length : 1)));
    if (values.some((v) => (Array.isArray(v) ? v.length : 1) !== length)) {
      throw new ScoringError(400, 'BAD_REQUEST', 'Invalid input. Every named input needs the same number of rows.');
    }
    const rows = Array.from({ length }, (_, r) => values.map((v) => (Array.isArray(v) ? (v[r] as Json) : (v as Json))));
    return { columns, rows };
  }
  throw new ScoringError(
    400,
    'BAD_REQUEST',
    'This model looks up features by the columns of the request: send named columns (dataframe_split with columns, dataframe_records, CSV with a header, or instances/inputs as records or named lists).',
  );
}

/** Each row's key for one lookup, and the distinct keys; a missing or null key is a 400 naming the column. */
function rowKeys(table: Table, lookup: BoundLookup): { ids: string[]; unique: Map<string, KeyValues> } {
  const positions = lookup.keys.map((k) => {
    const at = table.columns.indexOf(k.column);
    if (at < 0) {
      throw new ScoringError(
        400,
        'BAD_REQUEST',
        `Lookup key column '${k.column}' is missing from the request (feature lookup '${lookup.name}').`,
      );
    }
    return at;
  });
  const keyTypes = lookup.config.type === 'dynamodb' ? (lookup.config.keyTypes ?? {}) : {};
  const numericKeys = lookup.keys.map((k) => keyTypes[k.storeColumn] === 'N');
  const unique = new Map<string, KeyValues>();
  const ids = table.rows.map((row, r) => {
    const values = positions.map((at, i) => {
      const value = row[at];
      const column = lookup.keys[i]?.column;
      if (value === null || value === undefined) {
        throw new ScoringError(
          400,
          'INVALID_PARAMETER_VALUE',
          `Lookup key column '${column}' is null in row ${r}; every row needs a key to look up features.`,
        );
      }
      if (typeof value !== 'string' && !(typeof value === 'number' && Number.isFinite(value))) {
        throw new ScoringError(
          400,
          'INVALID_PARAMETER_VALUE',
          `Lookup key column '${column}' in row ${r} must be a string or a number.`,
        );
      }
      if (numericKeys[i] && !NUMBER.test(String(value))) {
        throw new ScoringError(
          400,
          'INVALID_PARAMETER_VALUE',
          `Lookup key column '${column}' in row ${r} must be a number (store '${lookup.storeName}' keys it by number).`,
        );
      }
      return value;
    });
    const id = keyId(values);
    if (!unique.has(id)) unique.set(id, values);
    return id;
  });
  return { ids, unique };
}
