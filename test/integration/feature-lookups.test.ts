/**
 * Feature lookups against real engines: DynamoDB lookups on the local DynamoDB-API server,
 * Aurora MySQL lookups through the RDS Data API client on a local Data API endpoint backed
 * by a throwaway MariaDB server.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { BatchWriteItemCommand, CreateTableCommand, DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeatureLookups } from '../../container/src/features/feature-lookups';
import { prepareFeatureLookups, StoreClients } from '../../container/src/features/load';
import type { Json, ScoringInput } from '../../container/src/scoring/input';
import { parseMlserveSpec } from '../../core/features/feature-spec';
import { type OnlineStores, parseOnlineStores } from '../../core/features/online-stores';
import { startLocalRdsData } from '../../twin/aws/local-rds-data';
import { type LocalDynamo, startLocalDynamo } from '../../twin/local-dynamodb';
import { type LocalMysql, startLocalMysql } from '../../twin/local-mysql';

const CLUSTER = 'arn:aws:rds:us-east-1:000000000000:cluster:features';
const SECRET = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:features-AbCdEf';
const DOWN_CLUSTER = 'arn:aws:rds:us-east-1:000000000000:cluster:down';
const CUSTOMERS = 300;

let dynamo: LocalDynamo;
let mysql: LocalMysql;
let dataApi: { endpoint: string; close(): Promise<void> };
let clients: StoreClients;
let stores: OnlineStores;
let hanging: Server;
const hangingSockets = new Set<Socket>();
const calls = { batchGetItem: 0, executeStatement: 0 };

const frame = (columns: string[], rows: Json[][]): ScoringInput => ({ kind: 'dataframe', columns, rows });
const records = (input: ScoringInput) => {
  if (input.kind !== 'dataframe' || !input.columns) throw new Error('expected a frame with columns');
  const columns = input.columns;
  return input.rows.map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i]])));
};

function lookups(spec: string, options: { clients?: StoreClients; timeoutMs?: number } = {}): FeatureLookups {
  return prepareFeatureLookups(parseMlserveSpec(spec), stores, options.clients ?? clients, options.timeoutMs ?? 5000);
}

const CUSTOMER_SPEC = `
lookups:
  - name: customer
    store: dynamodb
    table: customers
    keys: [{ column: customer_id, store_column: id }]
    features: [age, { name: lifetime_spend, as: spend, default: -1 }]
`;
const ORDERS_SPEC = `
lookups:
  - name: orders
    store: aurora-mysql
    table: orders
    keys: [customer_id, region]
    features: [orders_30d, { name: avg_basket, default: 0 }]
`;

beforeAll(async () => {
  [dynamo, mysql] = await Promise.all([startLocalDynamo(), startLocalMysql()]);
  dataApi = await startLocalRdsData({
    clusters: {
      [CLUSTER]: {
        secretArn: SECRET,
        connection: { host: mysql.host, port: mysql.port, user: mysql.user, password: mysql.password },
      },
      // A cluster whose database is not running: every statement fails to connect.
      [DOWN_CLUSTER]: {
        secretArn: SECRET,
        connection: { host: '127.0.0.1', port: 1, user: mysql.user, password: mysql.password },
      },
    },
  });
  hanging = createServer((socket) => {
    hangingSockets.add(socket);
    socket.on('close', () => hangingSockets.delete(socket));
  });
  await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));

  // DynamoDB: customers by id, cities by (country, city).
  const ddb = new DynamoDBClient(dynamo.clientConfig);
  await ddb.send(
    new CreateTableCommand({
      TableName: 'customer-features',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await ddb.send(
    new CreateTableCommand({
      TableName: 'city-features',
      KeySchema: [
        { AttributeName: 'country', KeyType: 'HASH' },
        { AttributeName: 'city', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'country', AttributeType: 'S' },
        { AttributeName: 'city', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await ddb.send(
    new CreateTableCommand({
      TableName: 'account-features',
      KeySchema: [{ AttributeName: 'account', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'account', AttributeType: 'N' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await ddb.send(
    new BatchWriteItemCommand({
      RequestItems: {
        'account-features': [
          { PutRequest: { Item: { account: { N: '1001' }, balance: { N: '250.5' } } } },
          { PutRequest: { Item: { account: { N: '1002' }, balance: { N: '-3' } } } },
        ],
      },
    }),
  );
  const puts: WriteRequest[] = Array.from({ length: CUSTOMERS }, (_, i) => ({
    PutRequest: {
      Item: {
        id: { S: `c${i + 1}` },
        age: { N: String(20 + ((i + 1) % 50)) },
        lifetime_spend: { N: String((i + 1) * 10) },
        secret_note: { S: 'not a feature' },
      },
    },
  }));
  for (let i = 0; i < puts.length; i += 25) {
    await ddb.send(new BatchWriteItemCommand({ RequestItems: { 'customer-features': puts.slice(i, i + 25) } }));
  }
  await ddb.send(
    new BatchWriteItemCommand({
      RequestItems: {
        'city-features': [
          ['fr', 'paris', 2_100_000],
          ['fr', 'lyon', 520_000],
          ['de', 'paris', 1],
        ].map(([country, city, population]) => ({
          PutRequest: {
            Item: { country: { S: String(country) }, city: { S: String(city) }, population: { N: String(population) } },
          },
        })),
      },
    }),
  );
  ddb.destroy();

  // MySQL: order statistics by (customer_id, region).
  const db = await createConnection({ host: mysql.host, port: mysql.port, user: mysql.user, password: mysql.password });
  await db.query('CREATE DATABASE features');
  await db.query(
    'CREATE TABLE features.order_stats (customer_id VARCHAR(32) NOT NULL, region VARCHAR(16) NOT NULL, orders_30d INT, avg_basket DECIMAL(10,2), PRIMARY KEY (customer_id, region))',
  );
  const rows = Array.from({ length: CUSTOMERS }, (_, i) => [`c${i + 1}`, 'eu', (i + 1) % 7, i + 1.5]);
  await db.query('INSERT INTO features.order_stats VALUES ?', [rows]);
  await db.query("INSERT INTO features.order_stats VALUES ('c1', 'us', 99, NULL)");
  await db.end();

  stores = parseOnlineStores(
    JSON.stringify({
      stores: {
        customers: { type: 'dynamodb', tableName: 'customer-features' },
        cities: { type: 'dynamodb', tableName: 'city-features' },
        // Customer ids are strings even when they are digits; accounts are numbers.
        'customers-typed': { type: 'dynamodb', tableName: 'customer-features', keyTypes: { id: 'S' } },
        accounts: { type: 'dynamodb', tableName: 'account-features', keyTypes: { account: 'N' } },
        orders: {
          type: 'aurora-mysql',
          clusterArn: CLUSTER,
          secretArn: SECRET,
          database: 'features',
          tableName: 'order_stats',
        },
        'orders-down': {
          type: 'aurora-mysql',
          clusterArn: DOWN_CLUSTER,
          secretArn: SECRET,
          database: 'features',
          tableName: 'order_stats',
        },
      },
    }),
  );
  clients = new StoreClients({
    dynamodb: dynamo.clientConfig,
    rdsData: {
      endpoint: dataApi.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    },
  });
  clients.dynamodb.middlewareStack.add(
    (next) => async (args) => {
      calls.batchGetItem++;
      return next(args);
    },
    { step: 'initialize', name: 'countCalls' },
  );
  clients.rds.middlewareStack.add(
    (next) => async (args) => {
      calls.executeStatement++;
      return next(args);
    },
    { step: 'initialize', name: 'countCalls' },
  );
});

afterAll(async () => {
  clients?.destroy();
  for (const socket of hangingSockets) socket.destroy();
  await new Promise<void>((resolve) => (hanging ? hanging.close(() => resolve()) : resolve()));
  await dataApi?.close();
  await Promise.all([dynamo?.close(), mysql?.close()]);
});

describe('DynamoDB lookups', () => {
  it('joins the features of each row’s key, renamed, with the default for a key the store lacks', async () => {
    const { input, stats } = await lookups(CUSTOMER_SPEC).enrich(
      frame(
        ['customer_id', 'amount'],
        [
          ['c1', 5],
          ['c2', 6],
          ['nobody', 7],
        ],
      ),
    );
    expect(records(input)).toEqual([
      { customer_id: 'c1', amount: 5, age: 21, spend: 10 },
      { customer_id: 'c2', amount: 6, age: 22, spend: 20 },
      { customer_id: 'nobody', amount: 7, age: null, spend: -1 },
    ]);
    expect(stats).toEqual({ keys: 3, misses: 1, cacheHits: 0 });
  });

  it('reads only the spec’s attributes', async () => {
    const { input } = await lookups(CUSTOMER_SPEC).enrich(frame(['customer_id'], [['c3']]));
    expect(input.kind === 'dataframe' && input.columns).toEqual(['customer_id', 'age', 'spend']);
  });

  it('looks up a composite key (partition and sort key)', async () => {
    const spec = 'lookups: [{store: dynamodb, table: cities, keys: [country, city], features: [population]}]';
    const { input } = await lookups(spec).enrich(
      frame(
        ['country', 'city'],
        [
          ['fr', 'paris'],
          ['de', 'paris'],
          ['fr', 'lyon'],
          ['it', 'rome'],
        ],
      ),
    );
    expect(records(input).map((r) => r.population)).toEqual([2_100_000, 1, 520_000, null]);
  });

  it("sends key values as the store's key types say, whatever JSON type the request used", async () => {
    const accounts = 'lookups: [{store: dynamodb, table: accounts, keys: [account], features: [balance]}]';
    const { input } = await lookups(accounts).enrich(frame(['account'], [[1001], ['1002'], [1003]]));
    expect(records(input).map((r) => r.balance)).toEqual([250.5, -3, null]);
    await expect(lookups(accounts).enrich(frame(['account'], [['12a']]))).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/Lookup key column 'account' in row 0 must be a number \(store 'accounts'/),
    });
    const typed = CUSTOMER_SPEC.replace('table: customers', 'table: customers-typed');
    const names = await lookups(typed).enrich(frame(['customer_id'], [['c7']]));
    expect(records(names.input)[0]).toMatchObject({ age: 27 });
  });

  it('reads many rows in calls of at most 100 distinct keys', async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => [`c${(i % 250) + 1}`]);
    const before = calls.batchGetItem;
    const { input, stats } = await lookups(CUSTOMER_SPEC).enrich(frame(['customer_id'], rows));
    expect(calls.batchGetItem - before).toBe(3);
    expect(stats).toMatchObject({ keys: 250, misses: 0 });
    expect(records(input)[999]).toEqual({ customer_id: 'c250', age: 20, spend: 2500 });
  });

  it('keeps a feature value the request sends, and fills only its null cells', async () => {
    const { input } = await lookups(CUSTOMER_SPEC).enrich(
      frame(
        ['customer_id', 'age'],
        [
          ['c1', 99],
          ['c2', null],
        ],
      ),
    );
    expect(records(input)).toEqual([
      { customer_id: 'c1', age: 99, spend: 10 },
      { customer_id: 'c2', age: 22, spend: 20 },
    ]);
  });

  it('retries the keys DynamoDB leaves unprocessed', async () => {
    const own = new StoreClients({ dynamodb: dynamo.clientConfig });
    let first = true;
    // DynamoDB answers part of a batch under throttling; the first call here does the same.
    own.dynamodb.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { RequestItems: Record<string, { Keys: unknown[] }> };
        const request = input.RequestItems['customer-features'];
        if (!first || !request) return next(args);
        first = false;
        const held = request.Keys.slice(2);
        input.RequestItems['customer-features'] = { ...request, Keys: request.Keys.slice(0, 2) };
        const result = await next(args);
        (result.output as { UnprocessedKeys?: unknown }).UnprocessedKeys = {
          'customer-features': { ...request, Keys: held },
        };
        return result;
      },
      { step: 'initialize', name: 'partialAnswer' },
    );
    const { input } = await lookups(CUSTOMER_SPEC, { clients: own }).enrich(
      frame(['customer_id'], [['c1'], ['c2'], ['c3'], ['c4']]),
    );
    own.destroy();
    expect(first).toBe(false);
    expect(records(input).map((r) => r.age)).toEqual([21, 22, 23, 24]);
  });

  it('answers from a lookup’s cache when the spec asks for one', async () => {
    const spec = CUSTOMER_SPEC.replace('features:', 'cache_seconds: 60\n    features:');
    const cached = lookups(spec);
    await cached.enrich(frame(['customer_id'], [['c5'], ['missing']]));
    const before = calls.batchGetItem;
    const { input, stats } = await cached.enrich(frame(['customer_id'], [['c5'], ['missing']]));
    expect(calls.batchGetItem).toBe(before);
    expect(stats).toEqual({ keys: 2, misses: 1, cacheHits: 2 });
    expect(records(input)[0]).toMatchObject({ age: 25, spend: 50 });
  });
});

describe('Aurora MySQL lookups through the RDS Data API', () => {
  it('joins a composite key’s features in one statement, with defaults for missing keys', async () => {
    const before = calls.executeStatement;
    const { input, stats } = await lookups(ORDERS_SPEC).enrich(
      frame(
        ['customer_id', 'region'],
        [
          ['c1', 'eu'],
          ['c1', 'us'],
          ['c8', 'eu'],
          ['c1', 'asia'],
        ],
      ),
    );
    expect(calls.executeStatement - before).toBe(1);
    expect(records(input)).toEqual([
      { customer_id: 'c1', region: 'eu', orders_30d: 1, avg_basket: '1.50' },
      { customer_id: 'c1', region: 'us', orders_30d: 99, avg_basket: 0 },
      { customer_id: 'c8', region: 'eu', orders_30d: 1, avg_basket: '8.50' },
      { customer_id: 'c1', region: 'asia', orders_30d: null, avg_basket: 0 },
    ]);
    expect(stats).toMatchObject({ keys: 4, misses: 1 });
  });

  it('reads many rows, and key values that try SQL injection match nothing and change nothing', async () => {
    const attacks = [
      "x' OR '1'='1",
      "c1'; DROP TABLE order_stats; --",
      "' UNION SELECT customer_id, region, 1, 1 FROM order_stats --",
      'c1\\',
      ':k0_0',
    ];
    const rows: Json[][] = [
      ...Array.from({ length: 600 }, (_, i) => [`c${(i % 300) + 1}`, 'eu']),
      ...attacks.map((a) => [a, 'eu']),
    ];
    const { input, stats } = await lookups(ORDERS_SPEC).enrich(frame(['customer_id', 'region'], rows));
    const out = records(input);
    expect(out[299]).toMatchObject({ customer_id: 'c300', orders_30d: 300 % 7 });
    expect(out.slice(600).map((r) => r.orders_30d)).toEqual(attacks.map(() => null));
    expect(stats).toMatchObject({ keys: 305, misses: 5 });
    const db = await createConnection({
      host: mysql.host,
      port: mysql.port,
      user: mysql.user,
      password: mysql.password,
    });
    const [count] = await db.query('SELECT COUNT(*) AS n FROM features.order_stats');
    await db.end();
    expect(count).toEqual([{ n: CUSTOMERS + 1 }]);
  });

  it('runs both stores’ lookups for one request', async () => {
    const both = `${CUSTOMER_SPEC}${ORDERS_SPEC.replace('lookups:\n', '')}`;
    const { input } = await lookups(both).enrich(frame(['customer_id', 'region'], [['c2', 'eu']]));
    expect(records(input)).toEqual([
      { customer_id: 'c2', region: 'eu', age: 22, spend: 20, orders_30d: 2, avg_basket: '2.50' },
    ]);
  });
});

describe('the caller’s errors', () => {
  it('refuses a null lookup key with a 400 naming the column', async () => {
    await expect(lookups(CUSTOMER_SPEC).enrich(frame(['customer_id'], [['c1'], [null]]))).rejects.toMatchObject({
      status: 400,
      errorCode: 'INVALID_PARAMETER_VALUE',
      message: expect.stringMatching(/Lookup key column 'customer_id' is null in row 1/),
    });
  });

  it('refuses a request without the key column, or without column names', async () => {
    await expect(lookups(CUSTOMER_SPEC).enrich(frame(['id'], [['c1']]))).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/Lookup key column 'customer_id' is missing/),
    });
    await expect(lookups(CUSTOMER_SPEC).enrich({ kind: 'tensor', data: [[1, 2]] })).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/named columns/),
    });
  });

  it('refuses a key that is not a string or number', async () => {
    await expect(lookups(CUSTOMER_SPEC).enrich(frame(['customer_id'], [[{ $ne: null }]]))).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/must be a string or a number/),
    });
  });

  it('reads named inputs (instances as records) as columns', async () => {
    const { input } = await lookups(CUSTOMER_SPEC).enrich({ kind: 'tensors', data: { customer_id: ['c1', 'c2'] } });
    expect(records(input).map((r) => r.age)).toEqual([21, 22]);
  });
});

describe('a store that is down', () => {
  it('fails the request with a 503 naming the MySQL store', async () => {
    const spec = 'lookups: [{store: aurora-mysql, table: orders-down, keys: [customer_id], features: [orders_30d]}]';
    await expect(lookups(spec).enrich(frame(['customer_id'], [['c1']]))).rejects.toMatchObject({
      status: 503,
      errorCode: 'TEMPORARILY_UNAVAILABLE',
      storeName: 'orders-down',
      message: expect.stringMatching(/Online store 'orders-down' \(aurora-mysql\) failed/),
    });
  });

  it('fails the request with a 503 naming the DynamoDB store when it refuses connections', async () => {
    const down = new StoreClients({
      dynamodb: { ...dynamo.clientConfig, endpoint: 'http://127.0.0.1:1', maxAttempts: 1 },
    });
    await expect(
      lookups(CUSTOMER_SPEC, { clients: down }).enrich(frame(['customer_id'], [['c1']])),
    ).rejects.toMatchObject({
      status: 503,
      message: expect.stringMatching(/Online store 'customers' \(dynamodb\) failed/),
    });
    down.destroy();
  });

  it('fails the request with a 503 when the store does not answer in time', async () => {
    const { port } = hanging.address() as { port: number };
    const slow = new StoreClients({ dynamodb: { ...dynamo.clientConfig, endpoint: `http://127.0.0.1:${port}` } });
    const started = Date.now();
    await expect(
      lookups(CUSTOMER_SPEC, { clients: slow, timeoutMs: 300 }).enrich(frame(['customer_id'], [['c1']])),
    ).rejects.toMatchObject({
      status: 503,
      message: expect.stringMatching(/Online store 'customers' \(dynamodb\) did not answer within 300 ms/),
    });
    expect(Date.now() - started).toBeLessThan(5000);
    slow.destroy();
  });
});
