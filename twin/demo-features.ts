/**
 * The twin's feature-lookup demo: the demo iris model again, but its requests carry only a
 * flower's id. Its sepal measurements are looked up in a DynamoDB table and its petal
 * measurements in a MySQL table (through the local RDS Data API), before the model sees them.
 */
import { cp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  ResourceInUseException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { createConnection } from 'mysql2/promise';
import type { OnlineStores } from '../core/features/online-stores';
import type { DemoModel } from './demo-model';
import type { LocalMysql } from './local-mysql';
import { LOCAL_MYSQL_CLUSTER_ARN, LOCAL_MYSQL_SECRET_ARN } from './local-online-stores';

export const FEATURE_DEMO_MODEL = 'iris-features';
const SEPALS_TABLE = 'mlserve-demo-iris-sepals';

/** Three flowers, one of each species: [sepal length, sepal width, petal length, petal width]. */
const FLOWERS: Record<string, [number, number, number, number]> = {
  'setosa-1': [5.1, 3.5, 1.4, 0.2],
  'versicolor-1': [7.0, 3.2, 4.7, 1.4],
  'virginica-1': [6.7, 3.0, 5.2, 2.3],
};

/** The demo's two stores, as an operator would configure them. */
export const FEATURE_DEMO_STORES: OnlineStores = {
  stores: {
    'demo-iris-sepals': { type: 'dynamodb', tableName: SEPALS_TABLE },
    'demo-iris-petals': {
      type: 'aurora-mysql',
      clusterArn: LOCAL_MYSQL_CLUSTER_ARN,
      secretArn: LOCAL_MYSQL_SECRET_ARN,
      database: 'mlserve_demo',
      tableName: 'iris_petals',
    },
  },
  featureTables: {},
};

const FEATURE_SPEC = `# Feature lookups: the request carries flower_id; the measurements come from the online stores.
lookups:
  - name: sepals
    store: dynamodb
    table: demo-iris-sepals
    keys: [flower_id]
    features: [sepal_length, sepal_width]
  - name: petals
    store: aurora-mysql
    table: demo-iris-petals
    keys: [flower_id]
    features: [petal_length, petal_width]
model_columns: [sepal_length, sepal_width, petal_length, petal_width]
`;

/** Creates and fills the demo's DynamoDB and MySQL tables (leaving existing ones as they are). */
export async function seedFeatureDemo(dynamodb: DynamoDBClientConfig, mysql: LocalMysql): Promise<void> {
  const client = new DynamoDBClient(dynamodb);
  try {
    await client
      .send(
        new CreateTableCommand({
          TableName: SEPALS_TABLE,
          KeySchema: [{ AttributeName: 'flower_id', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'flower_id', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      )
      .catch((error: unknown) => {
        if (!(error instanceof ResourceInUseException)) throw error;
      });
    await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.2 }, { TableName: SEPALS_TABLE });
    await client.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [SEPALS_TABLE]: Object.entries(FLOWERS).map(([id, [length, width]]) => ({
            PutRequest: {
              Item: { flower_id: { S: id }, sepal_length: { N: String(length) }, sepal_width: { N: String(width) } },
            },
          })),
        },
      }),
    );
  } finally {
    client.destroy();
  }
  const db = await createConnection({ host: mysql.host, port: mysql.port, user: mysql.user, password: mysql.password });
  try {
    await db.query('CREATE DATABASE IF NOT EXISTS mlserve_demo');
    await db.query(
      'CREATE TABLE IF NOT EXISTS mlserve_demo.iris_petals (flower_id VARCHAR(32) PRIMARY KEY, petal_length DOUBLE, petal_width DOUBLE)',
    );
    await db.query('REPLACE INTO mlserve_demo.iris_petals VALUES ?', [
      Object.entries(FLOWERS).map(([id, [, , length, width]]) => [id, length, width]),
    ]);
  } finally {
    await db.end();
  }
}

/**
 * The demo as `serveDemoModel` takes it: the iris ONNX model (from `demoModelDir`) with a feature
 * spec, under `artifactDir`; preparing it also creates and fills its two tables.
 */
export function featureDemoModel(
  demoModelDir: string,
  artifactDir: string,
  stores: { readonly dynamodb: DynamoDBClientConfig; readonly mysql: LocalMysql },
): DemoModel {
  const dir = path.join(artifactDir, FEATURE_DEMO_MODEL, '1');
  return {
    name: FEATURE_DEMO_MODEL,
    dir,
    description:
      'Demo: the iris classifier with feature lookups. Requests carry flower_id; sepals come from DynamoDB, petals from MySQL.',
    prepare: async () => {
      await cp(demoModelDir, dir, { recursive: true });
      await writeFile(path.join(dir, 'feature_spec.yaml'), FEATURE_SPEC);
      await seedFeatureDemo(stores.dynamodb, stores.mysql);
    },
  };
}

/** A curl that scores the three flowers by id. */
export function featureDemoCurl(url: string): string {
  const body = JSON.stringify({ dataframe_records: Object.keys(FLOWERS).map((flower_id) => ({ flower_id })) });
  return `curl -s -X POST ${url}/model/${FEATURE_DEMO_MODEL}/Production/invocations -H 'Content-Type: application/json' -d '${body}'`;
}
