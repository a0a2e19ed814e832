/**
 * Feature lookups end to end in the local twin: model versions with a feature spec, served by
 * the twin's model hosts, reading DynamoDB tables on the twin's DynamoDB-API server and MySQL
 * tables on its MariaDB server through the local RDS Data API.
 */
import { cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BatchWriteItemCommand, CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_DEMO_MODEL } from '../../twin/demo-features';
import { LOCAL_MYSQL_CLUSTER_ARN, LOCAL_MYSQL_SECRET_ARN } from '../../twin/local-online-stores';
import { eventually } from '../helpers/eventually';
import { score } from '../helpers/model-host';
import { IRIS_MODEL, REPO_ROOT } from '../helpers/paths';
import { startTestTwin, type TestTwin } from '../helpers/twin';

let twin: TestTwin;

const FLOWERS: Record<string, number[]> = {
  a: [5.1, 3.5, 1.4, 0.2],
  b: [6.7, 3.0, 5.2, 2.3],
};

/** The spec Databricks' FeatureStoreClient writes for a model trained on two feature tables. */
const DATABRICKS_SPEC = `input_columns:
- flower:
    data_type: string
    topological_ordering: 0
    include: false
    source: training_data
${['sepal_length', 'sepal_width']
  .map(
    (f, i) => `- ${f}:
    table_name: ml.iris.sepals
    feature_name: ${f}
    lookup_key:
    - flower
    data_type: double
    topological_ordering: ${i + 1}
    include: true
    source: feature_store`,
  )
  .join('\n')}
${['petal_length', 'petal_width']
  .map(
    (f, i) => `- ${f}:
    table_name: ml.iris.petals
    feature_name: ${f}
    lookup_key:
    - flower
    data_type: double
    topological_ordering: ${i + 3}
    include: true
    source: feature_store`,
  )
  .join('\n')}
input_tables:
- ml.iris.sepals:
    table_id: 3f1d2c4b-0000-4000-8000-000000000001
- ml.iris.petals:
    table_id: 3f1d2c4b-0000-4000-8000-000000000002
input_functions: []
workspace_id: '1234567890'
feature_store_client_version: 0.17.0
serialization_version: 9
`;

const DATABRICKS_MLMODEL = `flavors:
  python_function:
    data: data
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: databricks.feature_store.mlflow_model
    python_version: 3.11.2
mlflow_version: 2.17.2
`;

async function register(name: string, dir: string): Promise<void> {
  await twin.registry.createRegisteredModel({ name });
  const version = await twin.registry.createModelVersion({ name, source: pathToFileURL(dir).href });
  await eventually(async () => {
    expect((await twin.registry.getModelVersion(name, version.version)).status).toBe('READY');
  });
  await twin.serving.enableServing(name);
}

const scoreModel = (name: string, body: unknown) =>
  score(`${twin.url}/model/${name}/1/invocations`, body, 'application/json', twin.adminAuth);

/** Scores until the model's host serves it (503 while it deploys). */
const served = (name: string, body: unknown) =>
  eventually(
    async () => {
      const res = await scoreModel(name, body);
      // 404 until the deploy workflow routes the model; 503 until its host has loaded the version.
      const deploying = /is not served: enable|no healthy serving task|is loading|starting up|being registered/;
      if ((res.status === 404 || res.status === 503) && deploying.test(res.text)) throw new Error(res.text);
      return res;
    },
    90_000,
    250,
  );

beforeAll(async () => {
  twin = await startTestTwin({
    demo: true,
    localMysql: true,
    onlineStores: {
      stores: {
        'iris-sepals': { type: 'dynamodb', tableName: 'iris-sepals' },
        'iris-petals': {
          type: 'aurora-mysql',
          clusterArn: LOCAL_MYSQL_CLUSTER_ARN,
          secretArn: LOCAL_MYSQL_SECRET_ARN,
          database: 'features',
          tableName: 'iris_petals',
        },
        broken: { type: 'dynamodb', tableName: 'no-such-table' },
      },
      featureTables: {
        'ml.iris.sepals': { store: 'iris-sepals', keys: ['id'] },
        'ml.iris.petals': { store: 'iris-petals' },
      },
    },
  });
  const ddb = new DynamoDBClient(twin.dynamo.clientConfig);
  await ddb.send(
    new CreateTableCommand({
      TableName: 'iris-sepals',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await ddb.send(
    new BatchWriteItemCommand({
      RequestItems: {
        'iris-sepals': Object.entries(FLOWERS).map(([id, [length, width]]) => ({
          PutRequest: {
            Item: { id: { S: id }, sepal_length: { N: String(length) }, sepal_width: { N: String(width) } },
          },
        })),
      },
    }),
  );
  ddb.destroy();
  const mysql = twin.onlineStores.mysql;
  if (!mysql) throw new Error('the twin runs no MySQL server');
  const db = await createConnection({ host: mysql.host, port: mysql.port, user: mysql.user, password: mysql.password });
  await db.query('CREATE DATABASE features');
  await db.query(
    'CREATE TABLE features.iris_petals (flower VARCHAR(8) PRIMARY KEY, petal_length DOUBLE, petal_width DOUBLE)',
  );
  await db.query('INSERT INTO features.iris_petals VALUES ?', [
    Object.entries(FLOWERS).map(([id, [, , length, width]]) => [id, length, width]),
  ]);
  await db.end();
}, 90_000);

afterAll(async () => {
  await twin?.close();
});

describe('feature lookups in the local twin', () => {
  it('serves the feature-lookup demo: flower ids in, features from DynamoDB and MySQL, predictions out', async () => {
    expect(twin.demo?.features?.model).toBe(FEATURE_DEMO_MODEL);
    const body = /-d '([^']+)'/.exec(twin.demo?.features?.curl ?? '')?.[1] as string;
    const res = await served(FEATURE_DEMO_MODEL, body);
    expect(res.status).toBe(200);
    expect((res.json as { predictions: { label: number }[] }).predictions.map((p) => p.label)).toEqual([0, 1, 2]);
  }, 120_000);

  it('serves a model logged by Databricks’ FeatureStoreClient through its raw model and the operator’s mapping', async () => {
    const dir = path.join(twin.artifactDir, 'dbx-iris');
    await cp(IRIS_MODEL, path.join(dir, 'data/feature_store/raw_model'), { recursive: true });
    await writeFile(path.join(dir, 'data/feature_store/feature_spec.yaml'), DATABRICKS_SPEC);
    await writeFile(path.join(dir, 'MLmodel'), DATABRICKS_MLMODEL);
    await register('dbx-iris', dir);
    const res = await served('dbx-iris', { dataframe_records: [{ flower: 'a' }, { flower: 'b' }] });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ predictions: [0, 2] });

    // A feature sent in the request wins over the stored one: flower a with b's petals.
    const override = await scoreModel('dbx-iris', {
      dataframe_split: { columns: ['flower', 'petal_length', 'petal_width'], data: [['a', 5.2, 2.3]] },
    });
    expect(override.json).toEqual({ predictions: [2] });

    const nullKey = await scoreModel('dbx-iris', { dataframe_records: [{ flower: 'a' }, { flower: null }] });
    expect(nullKey.status).toBe(400);
    expect(nullKey.json).toMatchObject({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: expect.stringMatching(/Lookup key column 'flower' is null in row 1/),
    });
  }, 120_000);

  it('answers 503 naming the store when a lookup’s store fails, and makes no prediction', async () => {
    const dir = path.join(twin.artifactDir, 'broken-store');
    await mkdir(dir, { recursive: true });
    await cp(path.join(REPO_ROOT, 'twin/demo/iris-onnx'), dir, { recursive: true });
    await writeFile(
      path.join(dir, 'feature_spec.yaml'),
      'lookups:\n  - store: dynamodb\n    table: broken\n    keys: [id]\n    features: [sepal_length]\n',
    );
    await register('broken-store', dir);
    const res = await served('broken-store', { dataframe_records: [{ id: 'a' }] });
    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({
      error_code: 'TEMPORARILY_UNAVAILABLE',
      message: expect.stringMatching(/Online store 'broken' \(dynamodb\) failed/),
    });
  }, 120_000);

  it('fails to load a version whose spec names a store the operator did not configure, saying so', async () => {
    const dir = path.join(twin.artifactDir, 'unknown-store');
    await cp(path.join(REPO_ROOT, 'twin/demo/iris-onnx'), dir, { recursive: true });
    await writeFile(
      path.join(dir, 'feature_spec.yaml'),
      'lookups:\n  - store: dynamodb\n    table: nowhere\n    keys: [id]\n    features: [sepal_length]\n',
    );
    await register('unknown-store', dir);
    const res = await served('unknown-store', { dataframe_records: [{ id: 'a' }] });
    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({
      message: expect.stringMatching(
        /failed to load: lookup 'nowhere#1' reads online store 'nowhere', which is not configured/,
      ),
    });
  }, 120_000);

  it('reports the lookups in the version’s metrics', async () => {
    const status = await eventually(async () => {
      const res = await fetch(`${twin.url}/model/${FEATURE_DEMO_MODEL}/status`, { headers: twin.adminAuth });
      expect(res.status).toBe(200);
      return (await res.json()) as { versions: { metrics: { featureLookups?: Record<string, number> } }[] };
    });
    expect(status.versions[0]?.metrics.featureLookups).toMatchObject({ requests: 1, keys: 6, misses: 0, failures: 0 });
    const history = await twin.call('GET', '/api/2.0/preview/mlflow/endpoints/get-metric-history', {
      registered_model_name: FEATURE_DEMO_MODEL,
    });
    expect(history.json.metrics).toEqual([
      expect.objectContaining({
        endpoint_version_name: '1',
        feature_lookups: expect.objectContaining({ keys: 6, misses: 0, failures: 0 }),
      }),
    ]);
  });
});
