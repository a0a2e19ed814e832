/**
 * The local twin's RDS Data API: `ExecuteStatement` (restJson1, `POST /Execute`) on a loopback
 * port, run against a real MySQL-compatible server, so unmodified `@aws-sdk/client-rds-data`
 * code (an `RDSDataClient` pointed at `endpoint`) works on one machine.
 *
 * Named parameters (`:name`) become the `?` placeholders of a server-side prepared statement;
 * values are never spliced into SQL text. Answers follow the Data API for Aurora MySQL
 * (Serverless v2 and provisioned): typed `records`, `columnMetadata`, `formattedRecords` in
 * place of both for `formatRecordsAs: 'JSON'`, and its error types:
 *
 * | failure | error type (HTTP status) |
 * | --- | --- |
 * | malformed request, unsupported field (`transactionId`, `schema`), missing or array parameter | BadRequestException (400) |
 * | `resourceArn` of no cluster here | HttpEndpointNotEnabledException (400) |
 * | `secretArn` not the cluster's secret | SecretsErrorException (400) |
 * | the engine refused the statement (syntax, unknown table/column, constraint, …) | DatabaseErrorException (400) |
 * | the statement ran longer than the Data API's 45 s | StatementTimeoutException (400) |
 * | the engine is down or unreachable | DatabaseUnavailableException (504) |
 * | anything else | InternalServerErrorException (500) |
 *
 * Column values map as the Data API (Connector/J underneath) maps them: integers → `longValue`
 * (BIGINT UNSIGNED beyond 2^63-1 → `stringValue`), BIT(1) and TINYINT(1)/BOOLEAN →
 * `booleanValue`, FLOAT/DOUBLE → `doubleValue`, DECIMAL → `stringValue` (`DOUBLE_OR_LONG`: a
 * number), DATE/TIME/DATETIME/TIMESTAMP → `stringValue` as MySQL prints them, binary → `blobValue`,
 * text/JSON/ENUM/SET → `stringValue`, NULL → `isNull: true`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { RDSDataClientConfig } from '@aws-sdk/client-rds-data';
import mysql, { type FieldPacket, type Pool, type ResultSetHeader } from 'mysql2/promise';
import { z } from 'zod';
import { schemaProblems } from '../../core/shared/schema-problems';
import { LOCAL_AWS, listenOnLoopback } from '../loopback';

export interface MysqlConnection {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

export interface LocalCluster {
  /** The Secrets Manager secret ARN that callers must name with this cluster. */
  readonly secretArn: string;
  /** Where the cluster's engine listens, and the credentials the secret would hold. */
  readonly connection: MysqlConnection;
}

export interface LocalRdsDataOptions {
  /** @default - a free port */
  readonly port?: number;
  /** The clusters served, by cluster ARN (the Data API's `resourceArn`). */
  readonly clusters: Record<string, LocalCluster>;
}

export interface LocalRdsData {
  readonly endpoint: string;
  /** Client settings that reach this endpoint (dummy credentials, a fixed region). */
  readonly clientConfig: RDSDataClientConfig;
  /** Serves one more cluster (or replaces one; its connections are then reopened). */
  addCluster(clusterArn: string, cluster: LocalCluster): Promise<void>;
  close(): Promise<void>;
}

/** The Data API's limit on one statement's run time. */
const STATEMENT_TIMEOUT_MS = 45_000;
const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Operations of the Data API this endpoint knows but does not implement. */
const UNSUPPORTED_OPERATIONS = [
  '/BatchExecute',
  '/BeginTransaction',
  '/CommitTransaction',
  '/RollbackTransaction',
  '/ExecuteSql',
];

export async function startLocalRdsData(options: LocalRdsDataOptions): Promise<LocalRdsData> {
  const dataApi = new LocalDataApi(options.clusters);
  const server = createServer((req, res) => {
    void dataApi.serve(req, res);
  });
  server.keepAliveTimeout = 5_000;
  const endpoint = await listenOnLoopback(server, options.port);
  return {
    endpoint,
    clientConfig: { endpoint, ...LOCAL_AWS },
    addCluster: (clusterArn, cluster) => dataApi.addCluster(clusterArn, cluster),
    close: async () => {
      await closeServer(server);
      await dataApi.close();
    },
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** An error answered in the Data API's own terms. */
export class DataApiError extends Error {
  constructor(
    readonly type: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

const badRequest = (message: string) => new DataApiError('BadRequestException', 400, message);

// ---------------------------------------------------------------------------------------------
// Request

const FieldSchema = z
  .object({
    isNull: z.boolean().optional(),
    booleanValue: z.boolean().optional(),
    longValue: z.union([z.number().int(), z.bigint()]).optional(),
    doubleValue: z.number().optional(),
    stringValue: z.string().optional(),
    blobValue: z.base64().optional(),
    arrayValue: z.unknown().optional(),
  })
  .strict()
  .refine((field) => Object.keys(field).length === 1, 'a value must have exactly one member');

const ExecuteStatementSchema = z
  .object({
    resourceArn: z.string().min(11).max(100),
    secretArn: z.string().min(11).max(100),
    sql: z.string().max(65_536),
    database: z.string().max(64).optional(),
    schema: z.string().max(64).optional(),
    parameters: z
      .array(
        z
          .object({
            name: z.string().min(1),
            value: FieldSchema,
            typeHint: z.enum(['DATE', 'DECIMAL', 'JSON', 'TIME', 'TIMESTAMP', 'UUID']).optional(),
          })
          .strict(),
      )
      .optional(),
    transactionId: z.string().optional(),
    includeResultMetadata: z.boolean().optional(),
    continueAfterTimeout: z.boolean().optional(),
    resultSetOptions: z
      .object({
        decimalReturnType: z.enum(['STRING', 'DOUBLE_OR_LONG']).optional(),
        longReturnType: z.enum(['LONG', 'STRING']).optional(),
      })
      .strict()
      .optional(),
    formatRecordsAs: z.enum(['NONE', 'JSON']).optional(),
  })
  .strict();

type ExecuteStatementRequest = z.infer<typeof ExecuteStatementSchema>;
type SqlParameter = NonNullable<ExecuteStatementRequest['parameters']>[number];

// ---------------------------------------------------------------------------------------------
// Response

/** A `Field` as it travels on the wire (a blob is base64). */
type WireField =
  | { isNull: true }
  | { booleanValue: boolean }
  | { longValue: number | RawJson }
  | { doubleValue: number }
  | { stringValue: string }
  | { blobValue: string };

interface ColumnMetadata {
  name: string;
  type: number;
  typeName: string;
  label: string;
  schemaName: string;
  tableName: string;
  isAutoIncrement: boolean;
  isSigned: boolean;
  isCurrency: boolean;
  isCaseSensitive: boolean;
  nullable: number;
  precision: number;
  scale: number;
  arrayBaseColumnType: number;
}

interface ExecuteStatementResponse {
  numberOfRecordsUpdated: number;
  generatedFields: WireField[];
  records?: WireField[][];
  columnMetadata?: ColumnMetadata[];
  formattedRecords?: string;
}

/** A JSON number written with exactly these digits (a BIGINT beyond 2^53 keeps every digit). */
type RawJson = { readonly rawJSON: string };
const rawJson = (JSON as unknown as { rawJSON(text: string): RawJson }).rawJSON;

// ---------------------------------------------------------------------------------------------
// The service

class LocalDataApi {
  private readonly clusters = new Map<string, LocalCluster>();
  /** One pool per cluster and database (a statement's `database` is its connection's default). */
  private readonly pools = new Map<string, Pool>();

  constructor(clusters: Record<string, LocalCluster>) {
    for (const [arn, cluster] of Object.entries(clusters)) this.clusters.set(arn, cluster);
  }

  async addCluster(arn: string, cluster: LocalCluster): Promise<void> {
    this.clusters.set(arn, cluster);
    await this.endPools((key) => key.startsWith(`${arn}\0`));
  }

  async close(): Promise<void> {
    await this.endPools(() => true);
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

  async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    try {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (req.method !== 'POST' || path !== '/Execute') {
        req.resume();
        if (req.method === 'POST' && UNSUPPORTED_OPERATIONS.includes(path)) {
          throw badRequest(`${path.slice(1)} is not supported by the local RDS Data API; use ExecuteStatement`);
        }
        throw new DataApiError('UnknownOperationException', 404, `no operation at ${req.method} ${path}`);
      }
      const request = parseRequest(await readBody(req));
      const response = await this.executeStatement(request);
      send(res, 200, requestId, JSON.stringify(response));
    } catch (error) {
      const answer = error instanceof DataApiError ? error : internalError(error);
      send(res, answer.status, requestId, JSON.stringify({ message: answer.message }), answer.type);
    }
  }

  private async executeStatement(request: ExecuteStatementRequest): Promise<ExecuteStatementResponse> {
    const cluster = this.clusters.get(request.resourceArn);
    if (!cluster) {
      throw new DataApiError(
        'HttpEndpointNotEnabledException',
        400,
        `HttpEndpoint is not enabled for resource ${request.resourceArn}`,
      );
    }
    if (request.secretArn !== cluster.secretArn) {
      throw new DataApiError(
        'SecretsErrorException',
        400,
        `Secrets Manager can't find the specified secret ${request.secretArn} for resource ${request.resourceArn}`,
      );
    }
    if (request.transactionId !== undefined) {
      throw badRequest('transactions are not supported by the local RDS Data API: leave out transactionId');
    }
    if (request.schema !== undefined) {
      throw badRequest('The schema parameter isn\u2019t supported for Aurora MySQL');
    }
    const { sql, values } = bindParameters(request.sql, request.parameters ?? []);
    const pool = this.pool(request.resourceArn, cluster, request.database);
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
    return respond(request, result, fields);
  }

  private pool(arn: string, cluster: LocalCluster, database: string | undefined): Pool {
    const key = `${arn}\0${database ?? ''}`;
    let pool = this.pools.get(key);
    if (!pool) {
      const { host, port, user, password } = cluster.connection;
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

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) reject(badRequest(`the request body is larger than ${MAX_BODY_BYTES} bytes`));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

function parseRequest(body: string): ExecuteStatementRequest {
  let json: unknown;
  try {
    // An integer beyond 2^53 keeps its digits (as a bigint) instead of rounding.
    json = JSON.parse(body, ((_key: string, value: unknown, context?: { source?: string }) =>
      typeof value === 'number' && !Number.isSafeInteger(value) && context?.source && /^-?\d+$/.test(context.source)
        ? BigInt(context.source)
        : value) as (key: string, value: unknown) => unknown);
  } catch {
    throw badRequest('the request body is not valid JSON');
  }
  const parsed = ExecuteStatementSchema.safeParse(json);
  if (!parsed.success) {
    const problems = schemaProblems(parsed.error, '(body)');
    throw badRequest(`Invalid request: ${problems}`);
  }
  return parsed.data;
}

function send(res: ServerResponse, status: number, requestId: string, body: string, errorType?: string): void {
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': requestId,
  };
  if (errorType) headers['x-amzn-ErrorType'] = errorType;
  res.writeHead(status, headers);
  res.end(body);
}

function internalError(error: unknown): DataApiError {
  return new DataApiError('InternalServerErrorException', 500, `internal error: ${(error as Error)?.message ?? error}`);
}

// ---------------------------------------------------------------------------------------------
// Parameters

type BoundValue = ReturnType<typeof mysql.TypedParameter.NULL> | string | Buffer;

/**
 * Turns the Data API's `:name` parameters into `?` placeholders, in order of appearance (a
 * name used twice is bound twice). Quoted strings, quoted identifiers and comments are left
 * alone, as are MySQL's `:=` and a `:` inside a word.
 */
export function bindParameters(
  sql: string,
  parameters: readonly SqlParameter[],
): { sql: string; values: BoundValue[] } {
  const byName = new Map<string, SqlParameter>();
  for (const parameter of parameters) {
    if (byName.has(parameter.name)) throw badRequest(`Parameter ${parameter.name} is specified more than once`);
    byName.set(parameter.name, parameter);
  }
  let out = '';
  const values: BoundValue[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql.charAt(i);
    const skipTo = endOfQuotedOrComment(sql, i);
    if (skipTo > i) {
      out += sql.slice(i, skipTo);
      i = skipTo;
      continue;
    }
    if (c === '?') {
      throw badRequest("positional '?' placeholders are not supported: name parameters as :name");
    }
    if (c === ':' && /[A-Za-z_]/.test(sql.charAt(i + 1)) && !/[A-Za-z0-9_:]/.test(sql.charAt(i - 1))) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i + 1))?.[0] ?? '';
      const parameter = byName.get(name);
      if (!parameter) throw badRequest(`No value specified for parameter: ${name}`);
      values.push(toBoundValue(parameter));
      out += '?';
      i += 1 + name.length;
      continue;
    }
    out += c;
    i += 1;
  }
  return { sql: out, values };
}

/** Where the string, quoted identifier or comment starting at `i` ends (`i` if none starts there). */
function endOfQuotedOrComment(sql: string, i: number): number {
  const c = sql.charAt(i);
  if (c === "'" || c === '"' || c === '`') {
    let j = i + 1;
    while (j < sql.length) {
      const d = sql.charAt(j);
      if (d === '\\' && c !== '`') j += 2;
      else if (d === c && sql.charAt(j + 1) === c) j += 2;
      else if (d === c) return j + 1;
      else j += 1;
    }
    return sql.length;
  }
  if (c === '#' || (c === '-' && sql.charAt(i + 1) === '-' && /[\s]|^$/.test(sql.charAt(i + 2)))) {
    const end = sql.indexOf('\n', i);
    return end < 0 ? sql.length : end;
  }
  if (c === '/' && sql.charAt(i + 1) === '*') {
    const end = sql.indexOf('*/', i + 2);
    return end < 0 ? sql.length : end + 2;
  }
  return i;
}

function toBoundValue(parameter: SqlParameter): BoundValue {
  const { name, value } = parameter;
  const T = mysql.TypedParameter;
  if (value.isNull !== undefined) return T.NULL();
  if (value.booleanValue !== undefined) return T.TINY(value.booleanValue);
  if (value.longValue !== undefined) return T.LONGLONG(value.longValue);
  if (value.doubleValue !== undefined) return T.DOUBLE(value.doubleValue);
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.blobValue !== undefined) return Buffer.from(value.blobValue, 'base64');
  throw badRequest(`Parameter ${name}: array values are not supported for Aurora MySQL`);
}

// ---------------------------------------------------------------------------------------------
// Engine errors

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

// ---------------------------------------------------------------------------------------------
// Results

// MySQL protocol column types.
const T = {
  DECIMAL: 0x00,
  TINY: 0x01,
  SHORT: 0x02,
  LONG: 0x03,
  FLOAT: 0x04,
  DOUBLE: 0x05,
  NULL: 0x06,
  TIMESTAMP: 0x07,
  LONGLONG: 0x08,
  INT24: 0x09,
  DATE: 0x0a,
  TIME: 0x0b,
  DATETIME: 0x0c,
  YEAR: 0x0d,
  NEWDATE: 0x0e,
  VARCHAR: 0x0f,
  BIT: 0x10,
  JSON: 0xf5,
  NEWDECIMAL: 0xf6,
  ENUM: 0xf7,
  SET: 0xf8,
  TINY_BLOB: 0xf9,
  MEDIUM_BLOB: 0xfa,
  LONG_BLOB: 0xfb,
  BLOB: 0xfc,
  VAR_STRING: 0xfd,
  STRING: 0xfe,
  GEOMETRY: 0xff,
} as const;
const FLAG = { NOT_NULL: 1, UNSIGNED: 32, BINARY: 128, ENUM: 256, AUTO_INCREMENT: 512, SET: 2048 } as const;
const BINARY_CHARSET = 63;
// java.sql.Types, which the Data API reports as a column's `type`.
const JDBC = {
  BIT: -7,
  TINYINT: -6,
  SMALLINT: 5,
  INTEGER: 4,
  BIGINT: -5,
  REAL: 7,
  DOUBLE: 8,
  DECIMAL: 3,
  CHAR: 1,
  VARCHAR: 12,
  LONGVARCHAR: -1,
  DATE: 91,
  TIME: 92,
  TIMESTAMP: 93,
  BINARY: -2,
  VARBINARY: -3,
  LONGVARBINARY: -4,
  NULL: 0,
} as const;

const MAX_LONG = 2n ** 63n - 1n;

type Options = Pick<ExecuteStatementRequest, 'resultSetOptions'>;

function respond(
  request: ExecuteStatementRequest,
  result: unknown,
  fields: FieldPacket[] | undefined,
): ExecuteStatementResponse {
  if (!Array.isArray(result) || !fields) {
    const header = result as ResultSetHeader;
    return {
      numberOfRecordsUpdated: header.affectedRows ?? 0,
      generatedFields: header.insertId ? [{ longValue: header.insertId }] : [],
    };
  }
  const rows = result as unknown[][];
  if (request.formatRecordsAs === 'JSON') {
    const objects = rows.map((row) =>
      Object.fromEntries(fields.map((field, i) => [field.name, jsonValue(toField(field, row[i], request))])),
    );
    return { numberOfRecordsUpdated: 0, generatedFields: [], formattedRecords: JSON.stringify(objects) };
  }
  return {
    numberOfRecordsUpdated: 0,
    generatedFields: [],
    records: rows.map((row) => fields.map((field, i) => toField(field, row[i], request))),
    ...(request.includeResultMetadata ? { columnMetadata: fields.map(columnMetadata) } : {}),
  };
}

const flagsOf = (field: FieldPacket) => (typeof field.flags === 'number' ? field.flags : 0);
const typeOf = (field: FieldPacket) => field.columnType ?? field.type ?? T.VAR_STRING;
const isBooleanColumn = (field: FieldPacket) =>
  (typeOf(field) === T.BIT || typeOf(field) === T.TINY) && field.columnLength === 1;

function toField(field: FieldPacket, value: unknown, options: Options): WireField {
  if (value === null || value === undefined) return { isNull: true };
  const type = typeOf(field);
  if (isBooleanColumn(field)) {
    return { booleanValue: Buffer.isBuffer(value) ? value.some((b) => b !== 0) : Number(value) !== 0 };
  }
  switch (type) {
    case T.TINY:
    case T.SHORT:
    case T.LONG:
    case T.INT24:
    case T.YEAR:
      return { longValue: Number(value) };
    case T.LONGLONG: {
      const digits = String(value);
      if (options.resultSetOptions?.longReturnType === 'STRING' || BigInt(digits) > MAX_LONG) {
        return { stringValue: digits };
      }
      return { longValue: Number.isSafeInteger(Number(digits)) ? Number(digits) : rawJson(digits) };
    }
    case T.BIT: {
      const bytes = value as Buffer;
      return { longValue: Number(bytes.reduce((n, b) => (n << 8n) | BigInt(b), 0n)) };
    }
    case T.FLOAT:
      return { doubleValue: shortestFloat32(value as number) };
    case T.DOUBLE:
      return { doubleValue: value as number };
    case T.DECIMAL:
    case T.NEWDECIMAL: {
      const digits = String(value);
      if (options.resultSetOptions?.decimalReturnType !== 'DOUBLE_OR_LONG') return { stringValue: digits };
      return /^-?\d+$/.test(digits) ? { longValue: Number(digits) } : { doubleValue: Number(digits) };
    }
    default:
      if (Buffer.isBuffer(value)) return { blobValue: value.toString('base64') };
      return { stringValue: typeof value === 'string' ? value : JSON.stringify(value) };
  }
}

/** A FLOAT column's value with as few digits as make the same float32 (MySQL prints 0.1, not 0.100000001). */
function shortestFloat32(value: number): number {
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}

function jsonValue(field: WireField): unknown {
  if ('isNull' in field) return null;
  if ('booleanValue' in field) return field.booleanValue;
  if ('longValue' in field) return field.longValue;
  if ('doubleValue' in field) return field.doubleValue;
  if ('stringValue' in field) return field.stringValue;
  return field.blobValue;
}

function columnMetadata(field: FieldPacket): ColumnMetadata {
  const flags = flagsOf(field);
  const unsigned = (flags & FLAG.UNSIGNED) !== 0;
  const { type, typeName } = jdbcType(field);
  const numeric = [JDBC.TINYINT, JDBC.SMALLINT, JDBC.INTEGER, JDBC.BIGINT, JDBC.REAL, JDBC.DOUBLE, JDBC.DECIMAL].some(
    (t) => t === type,
  );
  const textual = [JDBC.CHAR, JDBC.VARCHAR, JDBC.LONGVARCHAR].some((t) => t === type);
  const binary = [JDBC.BINARY, JDBC.VARBINARY, JDBC.LONGVARBINARY].some((t) => t === type);
  const length = field.columnLength ?? 0;
  const scale = field.decimals > 30 ? 0 : field.decimals;
  let precision = length;
  if (textual) precision = Math.floor(length / bytesPerChar(field.characterSet));
  if (type === JDBC.DECIMAL) precision = length - (scale > 0 ? 1 : 0) - (unsigned ? 0 : 1);
  return {
    name: field.orgName || field.name,
    type,
    typeName,
    label: field.name,
    schemaName: '',
    tableName: field.orgTable || field.table || '',
    isAutoIncrement: (flags & FLAG.AUTO_INCREMENT) !== 0,
    isSigned: numeric && !unsigned,
    isCurrency: false,
    isCaseSensitive: binary || (textual && (flags & FLAG.BINARY) !== 0),
    nullable: (flags & FLAG.NOT_NULL) !== 0 ? 0 : 1,
    precision,
    scale,
    arrayBaseColumnType: 0,
  };
}

function bytesPerChar(charset: number | undefined): number {
  if (charset === undefined || charset === BINARY_CHARSET) return 1;
  if (charset === 33 || charset === 83 || (charset >= 192 && charset <= 215)) return 3;
  if (charset === 45 || charset === 46 || (charset >= 224 && charset <= 247) || charset >= 255) return 4;
  return 1;
}

function jdbcType(field: FieldPacket): { type: number; typeName: string } {
  const flags = flagsOf(field);
  const unsigned = (flags & FLAG.UNSIGNED) !== 0 ? ' UNSIGNED' : '';
  const binary = field.characterSet === BINARY_CHARSET;
  // TINYTEXT … LONGTEXT by their length in characters (the protocol gives bytes).
  const length = Math.floor((field.columnLength ?? 0) / bytesPerChar(field.characterSet));
  const sized = (base: string) =>
    `${length <= 0xff ? 'TINY' : length <= 0xffff ? '' : length <= 0xffffff ? 'MEDIUM' : 'LONG'}${base}`;
  if (isBooleanColumn(field)) return { type: JDBC.BIT, typeName: 'BIT' };
  switch (typeOf(field)) {
    case T.BIT:
      return { type: JDBC.BIT, typeName: 'BIT' };
    case T.TINY:
      return { type: unsigned ? JDBC.SMALLINT : JDBC.TINYINT, typeName: `TINYINT${unsigned}` };
    case T.SHORT:
      return { type: unsigned ? JDBC.INTEGER : JDBC.SMALLINT, typeName: `SMALLINT${unsigned}` };
    case T.INT24:
      return { type: JDBC.INTEGER, typeName: `MEDIUMINT${unsigned}` };
    case T.LONG:
      return { type: unsigned ? JDBC.BIGINT : JDBC.INTEGER, typeName: `INT${unsigned}` };
    case T.LONGLONG:
      return { type: JDBC.BIGINT, typeName: `BIGINT${unsigned}` };
    case T.FLOAT:
      return { type: JDBC.REAL, typeName: `FLOAT${unsigned}` };
    case T.DOUBLE:
      return { type: JDBC.DOUBLE, typeName: `DOUBLE${unsigned}` };
    case T.DECIMAL:
    case T.NEWDECIMAL:
      return { type: JDBC.DECIMAL, typeName: `DECIMAL${unsigned}` };
    case T.DATE:
    case T.NEWDATE:
      return { type: JDBC.DATE, typeName: 'DATE' };
    case T.YEAR:
      return { type: JDBC.DATE, typeName: 'YEAR' };
    case T.TIME:
      return { type: JDBC.TIME, typeName: 'TIME' };
    case T.DATETIME:
      return { type: JDBC.TIMESTAMP, typeName: 'DATETIME' };
    case T.TIMESTAMP:
      return { type: JDBC.TIMESTAMP, typeName: 'TIMESTAMP' };
    case T.JSON:
      return { type: JDBC.LONGVARCHAR, typeName: 'JSON' };
    case T.NULL:
      return { type: JDBC.NULL, typeName: 'NULL' };
    case T.GEOMETRY:
      return { type: JDBC.BINARY, typeName: 'GEOMETRY' };
    case T.TINY_BLOB:
    case T.MEDIUM_BLOB:
    case T.LONG_BLOB:
    case T.BLOB:
      if (field.extendedFormat === 'json') return { type: JDBC.LONGVARCHAR, typeName: 'JSON' };
      return binary
        ? { type: JDBC.LONGVARBINARY, typeName: sized('BLOB') }
        : { type: JDBC.LONGVARCHAR, typeName: sized('TEXT') };
    case T.STRING:
      if (flags & FLAG.ENUM) return { type: JDBC.CHAR, typeName: 'ENUM' };
      if (flags & FLAG.SET) return { type: JDBC.CHAR, typeName: 'SET' };
      return binary ? { type: JDBC.BINARY, typeName: 'BINARY' } : { type: JDBC.CHAR, typeName: 'CHAR' };
    default:
      return binary ? { type: JDBC.VARBINARY, typeName: 'VARBINARY' } : { type: JDBC.VARCHAR, typeName: 'VARCHAR' };
  }
}
