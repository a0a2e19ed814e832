/**
 * A model version's feature spec: which features the model host looks up in the operator's
 * online stores before the model sees a request's rows. Two forms are read:
 *
 * - mlserve's own `feature_spec.yaml` beside `MLmodel` (the schema below, documented in the
 *   docs/feature-lookups.md), naming stores the operator configured;
 * - the spec Databricks' FeatureStoreClient writes (`data/feature_store/feature_spec.yaml`,
 *   `input_columns` of `training_data`, `feature_store` and `on_demand_feature` columns), whose
 *   feature tables are translated to stores through the operator's `featureTables` mapping.
 *
 * Both become one `FeatureSpec`. Registration parses it (a malformed spec fails the version
 * with the reason); the host parses it again when it loads the version and binds it to the
 * operator's stores.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { schemaProblems } from '../shared/schema-problems';
import { IDENTIFIER, type OnlineStore, type OnlineStores, STORE_NAME, type StoreType } from './online-stores';

/** Where each form of spec lives inside the artifact. */
export const MLSERVE_SPEC_FILE = 'feature_spec.yaml';
export const DATABRICKS_SPEC_FILE = 'data/feature_store/feature_spec.yaml';
export const DATABRICKS_RAW_MODEL_DIR = 'data/feature_store/raw_model';
export const DATABRICKS_LOADER_MODULE = 'databricks.feature_store.mlflow_model';

/** The longest a per-lookup cache may keep a value. */
export const MAX_CACHE_SECONDS = 300;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface LookupKey {
  /** The request's column holding the key value. */
  readonly column: string;
  /** The store's key attribute / column. */
  readonly storeColumn: string;
}

export interface LookupFeature {
  /** The store's attribute / column. */
  readonly name: string;
  /** The column the model receives it as. */
  readonly output: string;
  /** Used when the key is not in the store (or the stored value is null). */
  readonly default?: Json;
}

export interface FeatureLookup {
  /** How errors, metrics and logs name this lookup. */
  readonly name: string;
  /** The store's engine; for a Databricks spec, known once the table is mapped. */
  readonly store?: StoreType;
  /** The operator's store name (mlserve spec) or the Databricks feature table's name. */
  readonly table: string;
  readonly keys: readonly LookupKey[];
  readonly features: readonly LookupFeature[];
  /** Keep looked-up values (and misses) this long; 0 = no cache. */
  readonly cacheSeconds: number;
}

export interface FeatureSpec {
  readonly format: 'mlserve' | 'databricks';
  readonly lookups: readonly FeatureLookup[];
  /**
   * The columns the model receives, in order (Databricks: the included columns); when absent,
   * the model gets the request's columns followed by the features.
   */
  readonly modelColumns?: readonly string[];
}

export class FeatureSpecError extends Error {
  override name = 'FeatureSpecError';
}

// ---------------------------------------------------------------- mlserve's own spec

const identifier = z.string().regex(IDENTIFIER, 'an identifier: a letter or _, then letters, digits or _ (≤ 64)');
const requestColumn = z.string().min(1).max(256);
const jsonValue: z.ZodType<Json> = z.lazy(() =>
  z.union([z.null(), z.boolean(), z.number(), z.string(), z.array(jsonValue), z.record(z.string(), jsonValue)]),
);

const KeySchema = z.union([
  identifier.transform((name) => ({ column: name, storeColumn: name })),
  z
    .strictObject({ column: requestColumn, store_column: identifier.optional() })
    .transform((k) => ({ column: k.column, storeColumn: k.store_column ?? k.column })),
]);

const FeatureSchema = z.union([
  identifier.transform((name): LookupFeature => ({ name, output: name })),
  z
    .strictObject({ name: identifier, as: requestColumn.optional(), default: jsonValue.optional() })
    .transform((f): LookupFeature => ({ name: f.name, output: f.as ?? f.name, default: f.default })),
]);

const LookupSchema = z.strictObject({
  name: z.string().regex(STORE_NAME).optional(),
  store: z.enum(['dynamodb', 'aurora-mysql']),
  table: z.string().regex(STORE_NAME, 'a store name the operator configured'),
  keys: z.array(KeySchema).min(1).max(8),
  features: z.array(FeatureSchema).min(1).max(100),
  cache_seconds: z.number().int().min(0).max(MAX_CACHE_SECONDS).default(0),
});

const MlserveSpecSchema = z.strictObject({
  lookups: z.array(LookupSchema).min(1).max(16),
  /** The columns the model receives, in order; by default the request's columns, then the features. */
  model_columns: z.array(requestColumn).min(1).optional(),
});

function readYaml(text: string, file: string): unknown {
  try {
    return parseYaml(text);
  } catch (error) {
    throw new FeatureSpecError(`${file} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
}

/** Reads mlserve's `feature_spec.yaml`. */
export function parseMlserveSpec(text: string): FeatureSpec {
  const parsed = MlserveSpecSchema.safeParse(readYaml(text, MLSERVE_SPEC_FILE));
  if (!parsed.success) throw new FeatureSpecError(`${MLSERVE_SPEC_FILE} is invalid: ${schemaProblems(parsed.error)}`);
  const lookups = parsed.data.lookups.map(
    (l, i): FeatureLookup => ({
      name: l.name ?? `${l.table}#${i + 1}`,
      store: l.store,
      table: l.table,
      keys: l.keys,
      features: l.features,
      cacheSeconds: l.cache_seconds,
    }),
  );
  return checked({ format: 'mlserve', lookups, modelColumns: parsed.data.model_columns }, MLSERVE_SPEC_FILE);
}

// ---------------------------------------------------------------- Databricks' spec

/** One element of `input_columns`: `{<output name>: {source: ..., ...}}`. */
const DatabricksColumn = z
  .record(
    z.string().min(1),
    z.looseObject({
      source: z.enum(['training_data', 'feature_store', 'on_demand_feature']),
      table_name: z.string().min(1).optional(),
      feature_name: z.string().min(1).optional(),
      lookup_key: z.union([z.array(z.string().min(1)).min(1), z.string().min(1)]).optional(),
      include: z.boolean().optional(),
      udf_name: z.string().optional(),
    }),
  )
  .refine((c) => Object.keys(c).length === 1, 'each input column is a mapping with exactly one column name');

const DatabricksSpecSchema = z.looseObject({
  input_columns: z.array(DatabricksColumn).min(1),
  serialization_version: z.number().int().optional(),
});

/** Reads the spec a Databricks FeatureStoreClient model carries. */
export function parseDatabricksSpec(text: string): FeatureSpec {
  const parsed = DatabricksSpecSchema.safeParse(readYaml(text, DATABRICKS_SPEC_FILE));
  if (!parsed.success)
    throw new FeatureSpecError(`${DATABRICKS_SPEC_FILE} is invalid: ${schemaProblems(parsed.error)}`);
  const groups = new Map<string, { table: string; keys: string[]; features: LookupFeature[] }>();
  const modelColumns: string[] = [];
  for (const column of parsed.data.input_columns) {
    const [output, info] = Object.entries(column)[0] as [string, z.infer<typeof DatabricksColumn>[string]];
    if (info.source === 'on_demand_feature') {
      throw new FeatureSpecError(
        `${DATABRICKS_SPEC_FILE}: column '${output}' is an on-demand feature (a Python UDF${info.udf_name ? ` ${info.udf_name}` : ''}); mlserve serves feature lookups only`,
      );
    }
    if (info.include !== false) modelColumns.push(output);
    if (info.source === 'training_data') continue;
    if (!info.table_name || !info.lookup_key) {
      throw new FeatureSpecError(`${DATABRICKS_SPEC_FILE}: feature column '${output}' needs table_name and lookup_key`);
    }
    const keys = Array.isArray(info.lookup_key) ? info.lookup_key : [info.lookup_key];
    const group = `${info.table_name}\u0000${keys.join('\u0000')}`;
    const entry = groups.get(group) ?? { table: info.table_name, keys, features: [] };
    const name = info.feature_name ?? output;
    if (!IDENTIFIER.test(name)) {
      throw new FeatureSpecError(
        `${DATABRICKS_SPEC_FILE}: feature '${name}' of table '${info.table_name}' is not a name mlserve can read from an online store (letters, digits and _)`,
      );
    }
    entry.features.push({ name, output });
    groups.set(group, entry);
  }
  if (groups.size === 0) {
    throw new FeatureSpecError(`${DATABRICKS_SPEC_FILE} looks up no features (no feature_store input columns)`);
  }
  const lookups = [...groups.values()].map(
    (g): FeatureLookup => ({
      name: g.table,
      table: g.table,
      keys: g.keys.map((k) => ({ column: k, storeColumn: k })),
      features: g.features,
      cacheSeconds: 0,
    }),
  );
  return checked({ format: 'databricks', lookups, modelColumns }, DATABRICKS_SPEC_FILE);
}

/** Rules both forms share: outputs unique, and no feature overwrites a lookup key. */
function checked(spec: FeatureSpec, file: string): FeatureSpec {
  const outputs = new Set<string>();
  const keyColumns = new Set(spec.lookups.flatMap((l) => l.keys.map((k) => k.column)));
  const names = new Set<string>();
  for (const lookup of spec.lookups) {
    if (names.has(lookup.name)) throw new FeatureSpecError(`${file}: two lookups are named '${lookup.name}'`);
    names.add(lookup.name);
    const storeColumns = new Set<string>();
    for (const key of lookup.keys) {
      if (storeColumns.has(key.storeColumn)) {
        throw new FeatureSpecError(`${file}: lookup '${lookup.name}' names key '${key.storeColumn}' twice`);
      }
      storeColumns.add(key.storeColumn);
    }
    for (const feature of lookup.features) {
      if (outputs.has(feature.output)) {
        throw new FeatureSpecError(`${file}: feature column '${feature.output}' is produced by more than one lookup`);
      }
      if (keyColumns.has(feature.output)) {
        throw new FeatureSpecError(`${file}: feature column '${feature.output}' is also a lookup key column`);
      }
      outputs.add(feature.output);
    }
  }
  return spec;
}

// ---------------------------------------------------------------- binding to the operator's stores

export interface BoundLookup extends FeatureLookup {
  readonly storeName: string;
  readonly config: OnlineStore;
}

/**
 * Resolves every lookup to one of the operator's stores: an mlserve spec names the store
 * (whose engine must match); a Databricks spec names a feature table, which the operator's
 * `featureTables` maps to a store (and, optionally, to the store's key columns).
 */
export function bindFeatureSpec(spec: FeatureSpec, stores: OnlineStores): BoundLookup[] {
  return spec.lookups.map((lookup): BoundLookup => {
    if (spec.format === 'mlserve') {
      const config = stores.stores[lookup.table];
      if (!config) {
        throw new FeatureSpecError(
          `lookup '${lookup.name}' reads online store '${lookup.table}', which is not configured (configured: ${Object.keys(stores.stores).join(', ') || 'none'})`,
        );
      }
      if (config.type !== lookup.store) {
        throw new FeatureSpecError(
          `lookup '${lookup.name}' expects a ${lookup.store} store, but '${lookup.table}' is ${config.type}`,
        );
      }
      return { ...lookup, storeName: lookup.table, config };
    }
    const mapping = stores.featureTables[lookup.table];
    if (!mapping) {
      throw new FeatureSpecError(
        `feature table '${lookup.table}' is not mapped to an online store (the operator's featureTables)`,
      );
    }
    const config = stores.stores[mapping.store] as OnlineStore;
    if (mapping.keys && mapping.keys.length !== lookup.keys.length) {
      throw new FeatureSpecError(
        `feature table '${lookup.table}' is looked up by ${lookup.keys.length} key(s), but its mapping names ${mapping.keys.length}`,
      );
    }
    const keys = lookup.keys.map((k, i) => ({ column: k.column, storeColumn: mapping.keys?.[i] ?? k.storeColumn }));
    for (const key of keys) {
      if (!IDENTIFIER.test(key.storeColumn)) {
        throw new FeatureSpecError(
          `feature table '${lookup.table}': key '${key.storeColumn}' is not a store column name; give the mapping's keys`,
        );
      }
    }
    return { ...lookup, store: config.type, keys, storeName: mapping.store, config };
  });
}
