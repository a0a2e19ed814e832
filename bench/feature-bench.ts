/**
 * `npm run bench` (third part): the latency feature lookups add to a request, against the local
 * engines — DynamoDB lookups on the local DynamoDB-API server, Aurora MySQL lookups through the
 * local RDS Data API endpoint on a throwaway MariaDB server — for 1 and 100 rows, each store
 * alone and both together, and with a lookup cache. Local engines answer faster than AWS over a
 * network; these figures are the host's own share of the added latency plus one loopback trip.
 */
import { BatchWriteItemCommand, CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createConnection } from 'mysql2/promise';
import { prepareFeatureLookups, StoreClients } from '../container/src/features/load';
import { parseMlserveSpec } from '../core/features/feature-spec';
import { parseOnlineStores } from '../core/features/online-stores';
import { startLocalRdsData } from '../twin/aws/local-rds-data';
import { startLocalDynamo } from '../twin/local-dynamodb';
import { startLocalMysql } from '../twin/local-mysql';

const ITERATIONS = 300;
const KEYS = 1000;
const CLUSTER = 'arn:aws:rds:us-east-1:000000000000:cluster:bench';
const SECRET = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench';

const [dynamo, mysql] = await Promise.all([startLocalDynamo(), startLocalMysql()]);
const dataApi = await startLocalRdsData({
  clusters: {
    [CLUSTER]: {
      secretArn: SECRET,
      connection: { host: mysql.host, port: mysql.port, user: mysql.user, password: mysql.password },
    },
  },
});
const clients = new StoreClients({ dynamodb: dynamo.clientConfig, rdsData: dataApi.clientConfig });
try {
  const ddb = new DynamoDBClient(dynamo.clientConfig);
  await ddb.send(
    new CreateTableCommand({
      TableName: 'customers',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  for (let i = 0; i < KEYS; i += 25) {
    await ddb.send(
      new BatchWriteItemCommand({
        RequestItems: {
          customers: Array.from({ length: 25 }, (_, j) => ({
            PutRequest: { Item: { id: { S: `c${i + j}` }, age: { N: String((i + j) % 80) }, spend: { N: '12.5' } } },
          })),
        },
      }),
    );
  }
  ddb.destroy();
  const db = await createConnection({ host: mysql.host, port: mysql.port, user: mysql.user, password: mysql.password });
  await db.query('CREATE DATABASE bench');
  await db.query('CREATE TABLE bench.orders (id VARCHAR(16) PRIMARY KEY, orders_30d INT, basket DOUBLE)');
  await db.query('INSERT INTO bench.orders VALUES ?', [
    Array.from({ length: KEYS }, (_, i) => [`c${i}`, i % 9, i / 3]),
  ]);
  await db.end();

  const stores = parseOnlineStores(
    JSON.stringify({
      stores: {
        customers: { type: 'dynamodb', tableName: 'customers' },
        orders: {
          type: 'aurora-mysql',
          clusterArn: CLUSTER,
          secretArn: SECRET,
          database: 'bench',
          tableName: 'orders',
        },
      },
    }),
  );
  const dynamoLookup = '  - {store: dynamodb, table: customers, keys: [id], features: [age, spend]CACHE}\n';
  const mysqlLookup = '  - {store: aurora-mysql, table: orders, keys: [id], features: [orders_30d, basket]CACHE}\n';
  const spec = (lookups: string[], cache = false) =>
    parseMlserveSpec(
      `lookups:\n${lookups.map((l) => l.replace('CACHE', cache ? ', cache_seconds: 60' : '')).join('')}`,
    );

  const cases: [string, ReturnType<typeof spec>, number][] = [
    ['DynamoDB, 1 row', spec([dynamoLookup]), 1],
    ['DynamoDB, 100 rows', spec([dynamoLookup]), 100],
    ['MySQL (Data API), 1 row', spec([mysqlLookup]), 1],
    ['MySQL (Data API), 100 rows', spec([mysqlLookup]), 100],
    ['both in parallel, 1 row', spec([dynamoLookup, mysqlLookup]), 1],
    ['both in parallel, 100 rows', spec([dynamoLookup, mysqlLookup]), 100],
    ['both, 100 rows, cache warm', spec([dynamoLookup, mysqlLookup], true), 100],
  ];
  process.stdout.write(`\nfeature lookups: added latency per request (${ITERATIONS} requests each, local engines)\n`);
  for (const [name, s, rows] of cases) {
    const lookups = prepareFeatureLookups(s, stores, clients, 5000);
    const times: number[] = [];
    for (let i = 0; i < ITERATIONS + 20; i++) {
      const offset = (i * rows) % KEYS;
      const input = {
        kind: 'dataframe' as const,
        columns: ['id'],
        // With the cache, the same rows each time; without, a sliding window of keys.
        rows: Array.from({ length: rows }, (_, r) => [`c${name.includes('cache') ? r : (offset + r) % KEYS}`]),
      };
      const started = performance.now();
      await lookups.enrich(input);
      if (i >= 20) times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const at = (q: number) => (times[Math.floor(q * times.length)] as number).toFixed(2);
    process.stdout.write(`  ${name.padEnd(30)} p50 ${at(0.5).padStart(6)} ms   p99 ${at(0.99).padStart(6)} ms\n`);
  }
} finally {
  clients.destroy();
  await dataApi.close();
  await Promise.all([dynamo.close(), mysql.close()]);
}
