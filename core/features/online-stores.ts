/**
 * The operator's online stores: which DynamoDB tables and Aurora MySQL tables a model's
 * feature lookups may read, each under a name the operator chose. A model's feature spec
 * only ever names a store; the table, cluster and secret behind it come from here (the
 * `MLSERVE_ONLINE_STORES` variable of each serving task, set by CDK or the local twin).
 */
import { z } from 'zod';
import { schemaProblems } from '../shared/schema-problems';

/** A store name as a feature spec writes it. */
export const STORE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** A MySQL or DynamoDB identifier that lookups may use (quoted as well, never interpolated raw). */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

const DynamoDbStore = z.object({
  type: z.literal('dynamodb'),
  /** The DynamoDB table's name. */
  tableName: z.string().min(3).max(255),
  /**
   * The key attributes' types (`S` or `N`), so a key value the request sends as a number (or
   * as a string of digits) is looked up as the table's type. Without it, a JSON number is sent
   * as `N` and a string as `S`.
   */
  keyTypes: z.record(z.string().regex(IDENTIFIER), z.enum(['S', 'N'])).optional(),
});

const AuroraMysqlStore = z.object({
  type: z.literal('aurora-mysql'),
  /** The Aurora cluster's ARN (the RDS Data API's `resourceArn`). */
  clusterArn: z.string().startsWith('arn:'),
  /** The Secrets Manager secret holding the database credentials (the Data API's `secretArn`). */
  secretArn: z.string().startsWith('arn:'),
  database: z.string().regex(IDENTIFIER, 'a MySQL database name of letters, digits and _'),
  tableName: z.string().regex(IDENTIFIER, 'a MySQL table name of letters, digits and _'),
});

export const OnlineStoreSchema = z.discriminatedUnion('type', [DynamoDbStore, AuroraMysqlStore]);
export type OnlineStore = z.infer<typeof OnlineStoreSchema>;
export type StoreType = OnlineStore['type'];

/** Where a Databricks feature table (as a FeatureStoreClient model names it) is published. */
const FeatureTableMapping = z.object({
  store: z.string().regex(STORE_NAME),
  /**
   * The store's key columns in the order of the feature table's primary keys.
   * @default - the model's lookup key column names
   */
  keys: z.array(z.string().regex(IDENTIFIER)).min(1).optional(),
});

export const OnlineStoresSchema = z
  .object({
    stores: z.record(z.string().regex(STORE_NAME), OnlineStoreSchema).default({}),
    featureTables: z.record(z.string().min(1), FeatureTableMapping).default({}),
  })
  .superRefine((config, ctx) => {
    for (const [table, mapping] of Object.entries(config.featureTables)) {
      if (!(mapping.store in config.stores)) {
        ctx.addIssue({
          code: 'custom',
          path: ['featureTables', table, 'store'],
          message: `feature table '${table}' maps to store '${mapping.store}', which is not among the stores`,
        });
      }
    }
  });

export type OnlineStores = z.infer<typeof OnlineStoresSchema>;

export const NO_ONLINE_STORES: OnlineStores = { stores: {}, featureTables: {} };

/**
 * Reads the operator's configuration — JSON text, or the object itself (CDK context) — and
 * throws naming every problem and where the configuration came from (`source`).
 */
export function parseOnlineStores(raw: unknown, source = 'MLSERVE_ONLINE_STORES'): OnlineStores {
  if (raw === undefined || (typeof raw === 'string' && raw.trim() === '')) return NO_ONLINE_STORES;
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new Error(`${source} is not valid JSON: ${(error as Error).message}`);
    }
  }
  const parsed = OnlineStoresSchema.safeParse(value);
  if (!parsed.success) {
    const problems = schemaProblems(parsed.error);
    throw new Error(`${source} is not a valid online-store configuration: ${problems}`);
  }
  return parsed.data;
}
