import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  BadRequestException,
  DatabaseErrorException,
  DatabaseUnavailableException,
  ExecuteStatementCommand,
  type ExecuteStatementCommandInput,
  type Field,
  HttpEndpointNotEnabledException,
  RDSDataClient,
  RDSDataServiceException,
  SecretsErrorException,
  type SqlParameter,
} from '@aws-sdk/client-rds-data';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalMysql } from '../../twin/local-mysql';
import { CLUSTER_ARN, type RdsDataEnv, SECRET_ARN, startRdsDataEnv } from '../helpers/local-mysql';

let env: RdsDataEnv;

beforeAll(async () => {
  env = await startRdsDataEnv({
    database: 'features',
    schema: [
      `CREATE TABLE customers (
         customer_id VARCHAR(32) NOT NULL PRIMARY KEY,
         visits BIGINT NOT NULL,
         score DOUBLE,
         rating FLOAT,
         spend DECIMAL(10,2),
         segment VARCHAR(16),
         active BOOLEAN,
         updated_at DATETIME
       )`,
      `INSERT INTO customers VALUES
         ('c1', 12, 0.25, 0.1, 1234.50, 'gold', TRUE, '2024-05-01 10:00:00'),
         ('c2', 9007199254740993, 1.5, 2.5, 0.05, NULL, FALSE, NULL),
         ('c3', 0, NULL, NULL, NULL, 'silver', NULL, '2024-06-02 11:30:00')`,
      `CREATE TABLE store_items (
         store_id INT NOT NULL,
         item_id VARCHAR(16) NOT NULL,
         stock INT NOT NULL,
         PRIMARY KEY (store_id, item_id)
       )`,
      `INSERT INTO store_items VALUES (1, 'apple', 10), (1, 'pear', 4), (2, 'apple', 7), (2, 'plum', 0)`,
      'CREATE TABLE visits (id INT AUTO_INCREMENT PRIMARY KEY, customer_id VARCHAR(32) NOT NULL)',
    ],
  });
});
afterAll(async () => {
  await env?.close();
});

const execute = (input: Omit<ExecuteStatementCommandInput, 'resourceArn' | 'secretArn'>, client = env.client) =>
  client.send(
    new ExecuteStatementCommand({ resourceArn: CLUSTER_ARN, secretArn: SECRET_ARN, database: 'features', ...input }),
  );

const text = (name: string, value: string): SqlParameter => ({ name, value: { stringValue: value } });
const long = (name: string, value: number): SqlParameter => ({ name, value: { longValue: value } });

async function failure(promise: Promise<unknown>): Promise<RDSDataServiceException> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RDSDataServiceException);
  return error as RDSDataServiceException;
}

describe('ExecuteStatement against MariaDB', () => {
  it('selects rows by a single key with IN (:k0, :k1, ...)', async () => {
    const keys = ['c3', 'c1', 'nobody'];
    const placeholders = keys.map((_, i) => `:k${i}`).join(', ');

    const out = await execute({
      sql: `SELECT customer_id, segment FROM customers WHERE customer_id IN (${placeholders}) ORDER BY customer_id`,
      parameters: keys.map((k, i) => text(`k${i}`, k)),
    });

    expect(out.records).toEqual([
      [{ stringValue: 'c1' }, { stringValue: 'gold' }],
      [{ stringValue: 'c3' }, { stringValue: 'silver' }],
    ]);
    expect(out.numberOfRecordsUpdated).toBe(0);
  });

  it('selects rows by a composite key with (a, b) IN ((:a0, :b0), ...)', async () => {
    const keys: [number, string][] = [
      [2, 'apple'],
      [1, 'pear'],
      [2, 'pear'],
    ];
    const tuples = keys.map((_, i) => `(:a${i}, :b${i})`).join(', ');

    const out = await execute({
      sql: `SELECT store_id, item_id, stock FROM store_items WHERE (store_id, item_id) IN (${tuples}) ORDER BY store_id, item_id`,
      parameters: keys.flatMap(([a, b], i) => [long(`a${i}`, a), text(`b${i}`, b)]),
    });

    expect(out.records).toEqual([
      [{ longValue: 1 }, { stringValue: 'pear' }, { longValue: 4 }],
      [{ longValue: 2 }, { stringValue: 'apple' }, { longValue: 7 }],
    ]);
  });

  it('types each field as the Data API does: long, double, decimal as string, boolean, null, date as string', async () => {
    const out = await execute({
      sql: 'SELECT * FROM customers WHERE customer_id IN (:a, :b) ORDER BY customer_id',
      parameters: [text('a', 'c1'), text('b', 'c2')],
    });

    const [c1, c2] = out.records as Field[][];
    expect(c1).toEqual([
      { stringValue: 'c1' },
      { longValue: 12 },
      { doubleValue: 0.25 },
      { doubleValue: 0.1 }, // a FLOAT as MySQL prints it, not 0.10000000149011612
      { stringValue: '1234.50' },
      { stringValue: 'gold' },
      { booleanValue: true }, // BOOLEAN is TINYINT(1); the Data API (Connector/J) answers a boolean
      { stringValue: '2024-05-01 10:00:00' },
    ]);
    expect(c2?.[1]).toEqual({ longValue: 9007199254740992 }); // the SDK parses JSON numbers: 2^53 + 1 rounds
    expect(c2?.slice(5)).toEqual([{ isNull: true }, { booleanValue: false }, { isNull: true }]);
  });

  it('keeps every digit of a BIGINT as a string with longReturnType STRING', async () => {
    const out = await execute({
      sql: 'SELECT visits FROM customers WHERE customer_id = :id',
      parameters: [text('id', 'c2')],
      resultSetOptions: { longReturnType: 'STRING' },
    });

    expect(out.records).toEqual([[{ stringValue: '9007199254740993' }]]);
  });

  it('binds long, double, boolean, null and blob parameters with their types', async () => {
    const out = await execute({
      sql: 'SELECT :l + 1 AS l, :d * 2 AS d, :b AS b, :n IS NULL AS n, HEX(:blob) AS h',
      parameters: [
        long('l', 41),
        { name: 'd', value: { doubleValue: 1.25 } },
        { name: 'b', value: { booleanValue: true } },
        { name: 'n', value: { isNull: true } },
        { name: 'blob', value: { blobValue: Uint8Array.from([0xca, 0xfe]) } },
      ],
    });

    expect(out.records).toEqual([
      [{ longValue: 42 }, { doubleValue: 2.5 }, { longValue: 1 }, { longValue: 1 }, { stringValue: 'CAFE' }],
    ]);
  });

  it('answers formattedRecords instead of records and columnMetadata for formatRecordsAs JSON', async () => {
    const out = await execute({
      sql: 'SELECT customer_id AS id, visits, score, spend, segment, active FROM customers WHERE customer_id = :id',
      parameters: [text('id', 'c1')],
      formatRecordsAs: 'JSON',
      includeResultMetadata: true,
    });

    expect(out.records).toBeUndefined();
    expect(out.columnMetadata).toBeUndefined();
    expect(JSON.parse(out.formattedRecords ?? '')).toEqual([
      { id: 'c1', visits: 12, score: 0.25, spend: '1234.50', segment: 'gold', active: true },
    ]);
  });

  it('describes the result columns when includeResultMetadata is set', async () => {
    const out = await execute({
      sql: 'SELECT customer_id, visits AS n, spend, active FROM customers WHERE customer_id = :id',
      parameters: [text('id', 'c1')],
      includeResultMetadata: true,
    });

    expect(out.columnMetadata).toEqual([
      expect.objectContaining({ name: 'customer_id', label: 'customer_id', typeName: 'VARCHAR', type: 12 }),
      expect.objectContaining({ name: 'visits', label: 'n', typeName: 'BIGINT', type: -5, isSigned: true }),
      expect.objectContaining({ name: 'spend', typeName: 'DECIMAL', type: 3, precision: 10, scale: 2, nullable: 1 }),
      expect.objectContaining({ name: 'active', typeName: 'BIT', type: -7 }),
    ]);
    expect(out.columnMetadata?.[0]).toMatchObject({ tableName: 'customers', nullable: 0, precision: 32 });
  });

  it('leaves :name inside quoted strings and comments alone', async () => {
    const out = await execute({
      sql: "SELECT ':id' AS quoted, customer_id /* :id */ FROM customers WHERE customer_id = :id -- :id\n",
      parameters: [text('id', 'c3')],
    });

    expect(out.records).toEqual([[{ stringValue: ':id' }, { stringValue: 'c3' }]]);
  });

  it.each(["x' OR '1'='1", '1; DROP TABLE customers', "c1' -- "])(
    'binds %j as a value: no rows, and the table stays intact',
    async (attack) => {
      const out = await execute({
        sql: 'SELECT customer_id FROM customers WHERE customer_id IN (:k0, :k1)',
        parameters: [text('k0', attack), text('k1', attack)],
      });

      expect(out.records).toEqual([]);
      const [rows] = await env.admin.query('SELECT COUNT(*) AS n FROM customers');
      expect(rows).toEqual([{ n: 3 }]);
    },
  );

  it('counts the records a statement changed and reports an insert’s generated key', async () => {
    const inserted = await execute({
      sql: 'INSERT INTO visits (customer_id) VALUES (:c)',
      parameters: [text('c', 'c1')],
    });
    const updated = await execute({
      sql: 'UPDATE store_items SET stock = stock + 1 WHERE store_id = :s',
      parameters: [long('s', 2)],
    });

    expect(inserted).toMatchObject({ numberOfRecordsUpdated: 1, generatedFields: [{ longValue: 1 }] });
    expect(inserted.records).toBeUndefined();
    expect(updated.numberOfRecordsUpdated).toBe(2);
  });

  it('refuses a secret that is not the cluster’s with SecretsErrorException', async () => {
    const error = await failure(
      env.client.send(
        new ExecuteStatementCommand({
          resourceArn: CLUSTER_ARN,
          secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:someone-else-XyZ123',
          sql: 'SELECT 1',
        }),
      ),
    );

    expect(error).toBeInstanceOf(SecretsErrorException);
    expect(error.$metadata.httpStatusCode).toBe(400);
  });

  it('refuses an unknown cluster with HttpEndpointNotEnabledException', async () => {
    const error = await failure(
      env.client.send(
        new ExecuteStatementCommand({
          resourceArn: 'arn:aws:rds:us-east-1:123456789012:cluster:no-such-cluster',
          secretArn: SECRET_ARN,
          sql: 'SELECT 1',
        }),
      ),
    );

    expect(error).toBeInstanceOf(HttpEndpointNotEnabledException);
    expect(error.message).toMatch(/no-such-cluster/);
  });

  it.each([
    ['an unknown column', 'SELECT nope FROM customers', /Unknown column 'nope' in '/],
    ['an unknown table', 'SELECT * FROM nowhere', /Table 'features.nowhere' doesn't exist/],
    ['a syntax error', 'SELEKT 1', /You have an error in your SQL syntax/],
    ['two statements', 'SELECT 1; DROP TABLE customers', /You have an error in your SQL syntax/],
  ])('answers %s with DatabaseErrorException carrying MySQL’s message', async (_, sql, message) => {
    const error = await failure(execute({ sql }));

    expect(error).toBeInstanceOf(DatabaseErrorException);
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toMatch(message);
  });

  it('refuses a parameter named in the SQL but not given with BadRequestException', async () => {
    const error = await failure(
      execute({
        sql: 'SELECT * FROM customers WHERE customer_id = :id AND segment = :seg',
        parameters: [text('id', 'c1')],
      }),
    );

    expect(error).toBeInstanceOf(BadRequestException);
    expect(error.message).toMatch(/seg/);
  });

  it('refuses a transactionId with BadRequestException: transactions are not served locally', async () => {
    const error = await failure(execute({ sql: 'SELECT 1', transactionId: 'tx-1' }));

    expect(error).toBeInstanceOf(BadRequestException);
  });
});

describe('when the database is down', () => {
  it('answers DatabaseUnavailableException promptly, for pooled and new connections alike', async () => {
    const mysql = await startLocalMysql();
    const arn = 'arn:aws:rds:us-east-1:123456789012:cluster:doomed';
    const connection = { host: mysql.host, port: mysql.port, user: mysql.user, password: mysql.password };
    await env.dataApi.addCluster(arn, { secretArn: SECRET_ARN, connection });
    const client = new RDSDataClient({ ...env.dataApi.clientConfig, maxAttempts: 1 });
    const run = () =>
      client.send(new ExecuteStatementCommand({ resourceArn: arn, secretArn: SECRET_ARN, sql: 'SELECT 1' }));
    try {
      expect((await run()).records).toEqual([[{ longValue: 1 }]]);

      await mysql.close();
      const started = Date.now();
      const first = await failure(run());
      const second = await failure(run());

      expect(first).toBeInstanceOf(DatabaseUnavailableException);
      expect(second).toBeInstanceOf(DatabaseUnavailableException);
      expect(second.$metadata.httpStatusCode).toBe(504);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      client.destroy();
      await mysql.close();
    }
  });
});

describe('startLocalMysql', () => {
  it('keeps its databases when restarted on the same dataDir, with a fresh password', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'mlserve-mysql-kept-'));
    try {
      const first = await startLocalMysql({ dataDir });
      const c1 = await createConnection({
        host: first.host,
        port: first.port,
        user: first.user,
        password: first.password,
      });
      await c1.query('CREATE DATABASE kept');
      await c1.query('CREATE TABLE kept.t (v INT)');
      await c1.query('INSERT INTO kept.t VALUES (7)');
      await c1.end();
      await first.close();

      const second = await startLocalMysql({ dataDir });
      const c2 = await createConnection({
        host: second.host,
        port: second.port,
        user: second.user,
        password: second.password,
      });
      const [rows] = await c2.query('SELECT v FROM kept.t');
      await c2.end();
      await second.close();

      expect(rows).toEqual([{ v: 7 }]);
      expect(second.password).not.toBe(first.password);
      expect(() => process.kill(second.pid, 0)).toThrow();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
