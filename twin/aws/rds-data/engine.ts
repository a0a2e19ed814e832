/**
 * The MySQL-compatible engines behind the local Data API: one connection pool per cluster and
 * database, each statement run as a server-side prepared statement, and the engine's failures
 * told as the Data API's errors.
 */
import mysql, { type FieldPacket, type Pool } from 'mysql2/promise';
import type { BoundValue } from './parameters';
import { DataApiError, internalError } from './wire';

export interface MysqlConnection {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

/** The Data API's limit on one statement's run time. */
const STATEMENT_TIMEOUT_MS = 45_000;

export interface StatementResult {
  readonly result: unknown;
  readonly fields: FieldPacket[] | undefined;
}

/** The clusters' connection pools, by cluster ARN and database. */
export class EnginePools {
  /** One pool per cluster and database (a statement's `database` is its connection's default). */
  private readonly pools = new Map<string, Pool>();

  /** Runs `sql` with its `values` on cluster `arn`'s engine, with `database` as the default one. */
  async execute(
    arn: string,
    connection: MysqlConnection,
    database: string | undefined,
    sql: string,
    values: BoundValue[],
  ): Promise<StatementResult> {
    const pool = this.pool(arn, connection, database);
    let result: unknown;
    let fields: FieldPacket[] | undefined;
    try {
      [result, fields] = await pool.execute({ sql, values, timeout: STATEMENT_TIMEOUT_MS });
    } catch (error) {
      // A few statements cannot be prepared; without parameters they run as plain text.
      if ((error as { errno?: number }).errno !== ER_UNSUPPORTED_PS || values.length > 0) throw engineError(error);
      try {
        [result, fields] = await pool.query({ sql, timeout: STATEMENT_TIMEOUT_MS });
      } catch (textError) {
        throw engineError(textError);
      }
    }
    return { result, fields };
  }

  /** Ends the pools of cluster `arn` (its connections are reopened on its next statement). */
  endCluster(arn: string): Promise<void> {
    return this.endPools((key) => key.startsWith(`${arn}\0`));
  }

  close(): Promise<void> {
    return this.endPools(() => true);
  }

  private async endPools(which: (key: string) => boolean): Promise<void> {
    const ending: Promise<void>[] = [];
    for (const [key, pool] of this.pools) {
      if (!which(key)) continue;
      this.pools.delete(key);
      ending.push(pool.end().catch(() => undefined));
    }
    await Promise.all(ending);
  }

  private pool(arn: string, connection: MysqlConnection, database: string | undefined): Pool {
    const key = `${arn}\0${database ?? ''}`;
    let pool = this.pools.get(key);
    if (!pool) {
      const { host, port, user, password } = connection;
      pool = mysql.createPool({
        host,
        port,
        user,
        password,
        database: database || undefined,
        connectionLimit: 8,
        maxIdle: 2,
        idleTimeout: 30_000,
        connectTimeout: 5_000,
        maxPreparedStatements: 256,
        charset: 'utf8mb4_general_ci',
        timezone: 'Z',
        dateStrings: true,
        supportBigNumbers: true,
        bigNumberStrings: true,
        decimalNumbers: false,
        jsonStrings: true,
        rowsAsArray: true,
        multipleStatements: false,
      });
      this.pools.set(key, pool);
    }
    return pool;
  }
}

const ER_UNSUPPORTED_PS = 1295;
/** Server errors that mean the server is going away rather than refusing the statement. */
const UNAVAILABLE_ERRNOS = new Set([1040 /* too many connections */, 1053 /* shutdown in progress */, 1077, 1152]);
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_QUIT',
]);

function engineError(error: unknown): DataApiError {
  const e = error as { code?: string; errno?: number; sqlState?: string; sqlMessage?: string; fatal?: boolean };
  if (e.code === 'PROTOCOL_SEQUENCE_TIMEOUT') {
    return new DataApiError(
      'StatementTimeoutException',
      400,
      'The statement ran longer than the Data API allows (45 s)',
    );
  }
  if (e.sqlMessage !== undefined && e.errno !== undefined && !UNAVAILABLE_ERRNOS.has(e.errno)) {
    return new DataApiError('DatabaseErrorException', 400, `${e.sqlMessage}; SQLState: ${e.sqlState ?? 'HY000'}`);
  }
  if (
    (e.code !== undefined && UNAVAILABLE_CODES.has(e.code)) ||
    (e.errno !== undefined && UNAVAILABLE_ERRNOS.has(e.errno)) ||
    e.fatal ||
    /closed state/.test((error as Error)?.message ?? '')
  ) {
    return new DataApiError(
      'DatabaseUnavailableException',
      504,
      `The database is unavailable: ${e.code ?? e.sqlMessage}`,
    );
  }
  return internalError(error);
}
