import { describe, expect, it } from 'vitest';
import {
  bindFeatureSpec,
  FeatureSpecError,
  parseDatabricksSpec,
  parseMlserveSpec,
} from '../../core/features/feature-spec';
import { parseOnlineStores } from '../../core/features/online-stores';

const STORES = parseOnlineStores(
  JSON.stringify({
    stores: {
      customers: { type: 'dynamodb', tableName: 'prod-customer-features' },
      orders: {
        type: 'aurora-mysql',
        clusterArn: 'arn:aws:rds:us-east-1:123456789012:cluster:features',
        secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:features-AbCdEf',
        database: 'features',
        tableName: 'order_stats',
      },
    },
    featureTables: {
      'ml.features.customers': { store: 'customers', keys: ['id'] },
      'ml.features.orders': { store: 'orders' },
    },
  }),
);

const SPEC = `
lookups:
  - name: customer
    store: dynamodb
    table: customers
    keys:
      - { column: customer_id, store_column: id }
    features:
      - age
      - { name: lifetime_spend, as: spend, default: 0 }
    cache_seconds: 5
  - store: aurora-mysql
    table: orders
    keys: [customer_id, region]
    features: [orders_30d]
model_columns: [age, spend, orders_30d]
`;

/** The spec Databricks' FeatureStoreClient (serialization version 9) writes for a two-table model. */
const DATABRICKS_SPEC = `
input_columns:
- customer_id:
    data_type: string
    topological_ordering: 0
    include: true
    source: training_data
- region:
    data_type: string
    topological_ordering: 1
    include: false
    source: training_data
- amount:
    data_type: double
    topological_ordering: 2
    include: true
    source: training_data
- age:
    table_name: ml.features.customers
    feature_name: age
    lookup_key:
    - customer_id
    data_type: double
    topological_ordering: 3
    include: true
    source: feature_store
- spend:
    table_name: ml.features.customers
    feature_name: lifetime_spend
    lookup_key:
    - customer_id
    data_type: double
    topological_ordering: 4
    include: true
    source: feature_store
- orders_30d:
    table_name: ml.features.orders
    feature_name: orders_30d
    lookup_key:
    - customer_id
    - region
    data_type: long
    topological_ordering: 5
    include: true
    source: feature_store
input_tables:
- ml.features.customers:
    table_id: 6a1b1fbb-4b3e-4f11-9b1d-2d2f0d8b9a10
- ml.features.orders:
    table_id: 0c6f3e1d-9a2b-4c5d-8e7f-1a2b3c4d5e6f
input_functions: []
workspace_id: '1234567890'
feature_store_client_version: 0.17.0
serialization_version: 9
`;

describe("mlserve's feature spec", () => {
  it('reads lookups with keys, renames, defaults and a cache', () => {
    const spec = parseMlserveSpec(SPEC);
    expect(spec.format).toBe('mlserve');
    expect(spec.modelColumns).toEqual(['age', 'spend', 'orders_30d']);
    expect(spec.lookups).toEqual([
      {
        name: 'customer',
        store: 'dynamodb',
        table: 'customers',
        keys: [{ column: 'customer_id', storeColumn: 'id' }],
        features: [
          { name: 'age', output: 'age' },
          { name: 'lifetime_spend', output: 'spend', default: 0 },
        ],
        cacheSeconds: 5,
      },
      {
        name: 'orders#2',
        store: 'aurora-mysql',
        table: 'orders',
        keys: [
          { column: 'customer_id', storeColumn: 'customer_id' },
          { column: 'region', storeColumn: 'region' },
        ],
        features: [{ name: 'orders_30d', output: 'orders_30d' }],
        cacheSeconds: 0,
      },
    ]);
  });

  it.each([
    ['no lookups', 'lookups: []', /lookups: Too small/i],
    ['an unknown engine', 'lookups: [{store: redis, table: t, keys: [id], features: [f]}]', /lookups.0.store/],
    [
      'a raw ARN as table',
      'lookups: [{store: dynamodb, table: "arn:aws:dynamodb:x", keys: [id], features: [f]}]',
      /table/,
    ],
    ['an unknown field', 'lookups: [{store: dynamodb, table: t, keys: [id], features: [f], sql: x}]', /sql/],
    [
      'a feature that is not an identifier',
      'lookups: [{store: dynamodb, table: t, keys: [id], features: ["a b"]}]',
      /features.0/,
    ],
    [
      'a store column that is not an identifier',
      'lookups: [{store: dynamodb, table: t, keys: [{column: id, store_column: "x`y"}], features: [f]}]',
      /keys.0/,
    ],
    [
      'a cache above 300 s',
      'lookups: [{store: dynamodb, table: t, keys: [id], features: [f], cache_seconds: 3600}]',
      /cache_seconds/,
    ],
    [
      'a feature that overwrites a key',
      'lookups: [{store: dynamodb, table: t, keys: [id], features: [{name: f, as: id}]}]',
      /also a lookup key/,
    ],
    [
      'one output from two lookups',
      'lookups: [{store: dynamodb, table: t, keys: [id], features: [f]}, {store: dynamodb, table: u, keys: [id], features: [f]}]',
      /more than one lookup/,
    ],
    ['text that is not YAML', 'lookups: [', /not valid YAML/],
  ])('refuses a spec with %s', (_, text, reason) => {
    expect(() => parseMlserveSpec(text)).toThrow(FeatureSpecError);
    expect(() => parseMlserveSpec(text)).toThrow(reason);
  });

  it('binds each lookup to the configured store of its name', () => {
    const bound = bindFeatureSpec(parseMlserveSpec(SPEC), STORES);
    expect(bound.map((l) => [l.storeName, l.config.type])).toEqual([
      ['customers', 'dynamodb'],
      ['orders', 'aurora-mysql'],
    ]);
  });

  it('refuses to bind a store that is not configured, or of another engine', () => {
    const unknown = parseMlserveSpec('lookups: [{store: dynamodb, table: nope, keys: [id], features: [f]}]');
    expect(() => bindFeatureSpec(unknown, STORES)).toThrow(/'nope', which is not configured/);
    const wrongEngine = parseMlserveSpec('lookups: [{store: dynamodb, table: orders, keys: [id], features: [f]}]');
    expect(() => bindFeatureSpec(wrongEngine, STORES)).toThrow(
      /expects a dynamodb store, but 'orders' is aurora-mysql/,
    );
  });
});

describe("Databricks' feature spec", () => {
  it('groups feature columns by table and key into lookups, and keeps the included columns in order', () => {
    const spec = parseDatabricksSpec(DATABRICKS_SPEC);
    expect(spec.format).toBe('databricks');
    expect(spec.modelColumns).toEqual(['customer_id', 'amount', 'age', 'spend', 'orders_30d']);
    expect(spec.lookups).toEqual([
      {
        name: 'ml.features.customers',
        table: 'ml.features.customers',
        keys: [{ column: 'customer_id', storeColumn: 'customer_id' }],
        features: [
          { name: 'age', output: 'age' },
          { name: 'lifetime_spend', output: 'spend' },
        ],
        cacheSeconds: 0,
      },
      {
        name: 'ml.features.orders',
        table: 'ml.features.orders',
        keys: [
          { column: 'customer_id', storeColumn: 'customer_id' },
          { column: 'region', storeColumn: 'region' },
        ],
        features: [{ name: 'orders_30d', output: 'orders_30d' }],
        cacheSeconds: 0,
      },
    ]);
  });

  it("translates feature tables through the operator's mapping, with the mapping's key names", () => {
    const bound = bindFeatureSpec(parseDatabricksSpec(DATABRICKS_SPEC), STORES);
    expect(bound[0]).toMatchObject({
      storeName: 'customers',
      store: 'dynamodb',
      keys: [{ column: 'customer_id', storeColumn: 'id' }],
    });
    expect(bound[1]).toMatchObject({ storeName: 'orders', store: 'aurora-mysql' });
  });

  it('refuses a feature table the operator did not map', () => {
    const stores = parseOnlineStores(JSON.stringify({ stores: {}, featureTables: {} }));
    expect(() => bindFeatureSpec(parseDatabricksSpec(DATABRICKS_SPEC), stores)).toThrow(
      /feature table 'ml.features.customers' is not mapped/,
    );
  });

  it.each([
    [
      'an on-demand feature',
      'input_columns:\n- x:\n    udf_name: main.f\n    source: on_demand_feature\n',
      /on-demand feature/,
    ],
    ['no feature columns', 'input_columns:\n- x:\n    source: training_data\n', /looks up no features/],
    [
      'a feature column without its table',
      'input_columns:\n- x:\n    feature_name: x\n    source: feature_store\n',
      /needs table_name and lookup_key/,
    ],
    ['an unknown source', 'input_columns:\n- x:\n    source: somewhere\n', /source/],
  ])('refuses a spec with %s', (_, text, reason) => {
    expect(() => parseDatabricksSpec(text)).toThrow(reason);
  });
});

describe('online store configuration', () => {
  it('is empty when not set', () => {
    expect(parseOnlineStores(undefined)).toEqual({ stores: {}, featureTables: {} });
  });

  it.each([
    ['not JSON', '{', /not valid JSON/],
    ['a mapping to an unknown store', '{"featureTables": {"t": {"store": "nope"}}}', /maps to store 'nope'/],
    [
      'an Aurora store without its secret',
      '{"stores": {"o": {"type": "aurora-mysql", "clusterArn": "arn:x", "database": "d", "tableName": "t"}}}',
      /secretArn/,
    ],
    [
      'a MySQL table name with quotes',
      '{"stores": {"o": {"type": "aurora-mysql", "clusterArn": "arn:x", "secretArn": "arn:y", "database": "d", "tableName": "t`; x"}}}',
      /tableName/,
    ],
  ])('refuses %s', (_, json, reason) => {
    expect(() => parseOnlineStores(json)).toThrow(reason);
  });
});
