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
 *
 * This file is the HTTP front; `rds-data/` holds the request and response shapes and errors
 * (wire.ts), parameter binding (parameters.ts), result mapping (results.ts) and the engines'
 * connection pools (engine.ts).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { RDSDataClientConfig } from '@aws-sdk/client-rds-data';
import { LOCAL_AWS, listenOnLoopback } from '../loopback';
import { EnginePools, type MysqlConnection } from './rds-data/engine';
import { bindParameters } from './rds-data/parameters';
import { respond } from './rds-data/results';
import {
  badRequest,
  DataApiError,
  type ExecuteStatementRequest,
  type ExecuteStatementResponse,
  internalError,
  parseRequest,
} from './rds-data/wire';

export type { MysqlConnection } from './rds-data/engine';
export { bindParameters } from './rds-data/parameters';
export { DataApiError } from './rds-data/wire';

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

class LocalDataApi {
  private readonly clusters = new Map<string, LocalCluster>();
  private readonly engines = new EnginePools();

  constructor(clusters: Record<string, LocalCluster>) {
    for (const [arn, cluster] of Object.entries(clusters)) this.clusters.set(arn, cluster);
  }

  async addCluster(arn: string, cluster: LocalCluster): Promise<void> {
    this.clusters.set(arn, cluster);
    await this.engines.endCluster(arn);
  }

  async close(): Promise<void> {
    await this.engines.close();
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
    const { result, fields } = await this.engines.execute(
      request.resourceArn,
      cluster.connection,
      request.database,
      sql,
      values,
    );
    return respond(request, result, fields);
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
