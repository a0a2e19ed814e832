/**
 * Reading feature values from the operator's online stores, many keys per round trip:
 * DynamoDB with `BatchGetItem` (≤ 100 keys a call, `UnprocessedKeys` retried with backoff,
 * only the needed attributes), Aurora MySQL through the RDS Data API's `ExecuteStatement`
 * (a parameterized `IN` list; identifiers come only from the validated spec and are quoted).
 * Credentials are the task's own: its role for DynamoDB, the operator's secret for Aurora.
 */
import { BatchGetItemCommand, type DynamoDBClient, type KeysAndAttributes } from '@aws-sdk/client-dynamodb';
import { ExecuteStatementCommand, type RDSDataClient, type SqlParameter } from '@aws-sdk/client-rds-data';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { BoundLookup } from '../../../core/features/feature-spec';
import type { Json } from '../scoring/input';

/** A lookup key's values, in the lookup's key order. */
export type KeyValues = readonly (string | number)[];
/** What a store holds for one key: feature name → value. */
export type FeatureRow = Readonly<Record<string, Json>>;

/** How keys are matched between the request and the store's answer (MySQL compares 42 and '42' as equal). */
export const keyId = (values: readonly unknown[]): string => JSON.stringify(values.map((v) => String(v)));

export interface StoreReader {
  /** The rows the store has for these (distinct) keys, by `keyId`; keys it lacks are absent. */
  read(keys: readonly KeyValues[], signal: AbortSignal): Promise<Map<string, FeatureRow>>;
}

const chunk = <T>(items: readonly T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

/** DynamoDB's limit of keys in one BatchGetItem call. */
const DYNAMODB_BATCH = 100;
const UNPROCESSED_RETRIES = 8;
const BACKOFF_BASE_MS = 20;
const BACKOFF_CAP_MS = 1000;

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export class DynamoDbReader implements StoreReader {
  private readonly projection: string;
  private readonly names: Record<string, string>;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly lookup: BoundLookup,
    private readonly keyTypes: Readonly<Record<string, 'S' | 'N'>> = {},
  ) {
    const attributes = [...new Set([...lookup.keys.map((k) => k.storeColumn), ...lookup.features.map((f) => f.name)])];
    this.names = Object.fromEntries(attributes.map((a, i) => [`#a${i}`, a]));
    this.projection = Object.keys(this.names).join(', ');
  }

  async read(keys: readonly KeyValues[], signal: AbortSignal): Promise<Map<string, FeatureRow>> {
    const found = new Map<string, FeatureRow>();
    await Promise.all(chunk(keys, DYNAMODB_BATCH).map((part) => this.batch(part, found, signal)));
    return found;
  }

  private async batch(keys: readonly KeyValues[], found: Map<string, FeatureRow>, signal: AbortSignal) {
    let request: KeysAndAttributes = {
      Keys: keys.map((values) =>
        Object.fromEntries(
          this.lookup.keys.map((k, i) => {
            const v = values[i] as string | number;
            const type = this.keyTypes[k.storeColumn] ?? (typeof v === 'number' ? 'N' : 'S');
            return [k.storeColumn, type === 'N' ? { N: String(v) } : { S: String(v) }];
          }),
        ),
      ),
      ProjectionExpression: this.projection,
      ExpressionAttributeNames: this.names,
    };
    for (let attempt = 0; ; attempt++) {
      const out = await this.client.send(new BatchGetItemCommand({ RequestItems: { [this.tableName]: request } }), {
        abortSignal: signal,
      });
      for (const item of out.Responses?.[this.tableName] ?? []) {
        const row = plain(unmarshall(item)) as Record<string, Json>;
        found.set(keyId(this.lookup.keys.map((k) => row[k.storeColumn])), row);
      }
      const left = out.UnprocessedKeys?.[this.tableName];
      if (!left?.Keys?.length) return;
      if (attempt >= UNPROCESSED_RETRIES) {
        throw new Error(`${left.Keys.length} key(s) still unprocessed after ${UNPROCESSED_RETRIES} retries`);
      }
      // Full jitter: DynamoDB returns unprocessed keys when the table is throttled.
      await pause(Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt), signal);
      request = left;
    }
  }
}

/** DynamoDB's sets and binaries as JSON: sets become lists, bytes base64. */
function plain(value: unknown): Json {
  if (value instanceof Set) return [...value].map(plain);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  if (typeof value === 'bigint') return Number(value);
  return (value ?? null) as Json;
}

/** Keys per ExecuteStatement: well under the Data API's request and response size limits. */
const MYSQL_BATCH = 500;

/** A MySQL identifier, quoted (the spec and the operator's config allow only [A-Za-z0-9_] anyway). */
const quote = (identifier: string) => `\`${identifier.replaceAll('`', '``')}\``;

export class AuroraMysqlReader implements StoreReader {
  private readonly select: string;

  constructor(
    private readonly client: RDSDataClient,
    private readonly store: { clusterArn: string; secretArn: string; database: string; tableName: string },
    private readonly lookup: BoundLookup,
  ) {
    const columns = [...new Set([...lookup.keys.map((k) => k.storeColumn), ...lookup.features.map((f) => f.name)])];
    this.select = `SELECT ${columns.map(quote).join(', ')} FROM ${quote(store.tableName)}`;
  }

  async read(keys: readonly KeyValues[], signal: AbortSignal): Promise<Map<string, FeatureRow>> {
    const found = new Map<string, FeatureRow>();
    await Promise.all(chunk(keys, MYSQL_BATCH).map((part) => this.statement(part, found, signal)));
    return found;
  }

  private async statement(keys: readonly KeyValues[], found: Map<string, FeatureRow>, signal: AbortSignal) {
    const parameters: SqlParameter[] = [];
    const composite = this.lookup.keys.length > 1;
    const tuples = keys.map((values, row) => {
      const names = values.map((value, i) => {
        const name = `k${row}_${i}`;
        parameters.push({ name, value: field(value) });
        return `:${name}`;
      });
      return composite ? `(${names.join(', ')})` : (names[0] as string);
    });
    const keyColumns = this.lookup.keys.map((k) => quote(k.storeColumn));
    const target = composite ? `(${keyColumns.join(', ')})` : (keyColumns[0] as string);
    const out = await this.client.send(
      new ExecuteStatementCommand({
        resourceArn: this.store.clusterArn,
        secretArn: this.store.secretArn,
        database: this.store.database,
        sql: `${this.select} WHERE ${target} IN (${tuples.join(', ')})`,
        parameters,
        formatRecordsAs: 'JSON',
      }),
      { abortSignal: signal },
    );
    const rows = JSON.parse(out.formattedRecords ?? '[]') as Record<string, Json>[];
    for (const row of rows) {
      const id = keyId(this.lookup.keys.map((k) => row[k.storeColumn]));
      if (!found.has(id)) found.set(id, row);
    }
  }
}

function field(value: string | number): SqlParameter['value'] {
  if (typeof value === 'string') return { stringValue: value };
  return Number.isInteger(value) ? { longValue: value } : { doubleValue: value };
}
