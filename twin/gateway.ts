/**
 * The local twin's API gateway: a loopback HTTP server that turns each request into the
 * API Gateway proxy event the Lambda handlers receive on AWS, and their results back into
 * HTTP responses. Routes are path prefixes, as the REST API's resources are.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';

export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** Which paths a route answers, and whether the authorizer decides first. */
interface RouteMatch {
  /** Path prefix, e.g. `/api/2.0/mlflow/`; with `exact`, the whole path. */
  readonly prefix: string;
  /** Answer only the path `prefix` itself (an API Gateway resource without `{proxy+}`, such as `/`). */
  readonly exact?: boolean;
  /**
   * Answered without the guard: no token, no per-token limit (API Gateway's methods with no
   * authorizer and no API key: the console's page and static files). Every other route is guarded.
   */
  readonly public?: boolean;
}

/** A path prefix answered by a Lambda handler (API Gateway's Lambda proxy integration). */
export interface LambdaRoute extends RouteMatch {
  readonly functionName: string;
  readonly handler: ProxyHandler;
}

/** What the gateway holds every request to, and an HttpRoute's forward must too. */
export interface ForwardLimits {
  /**
   * The body's limit in bytes. A request declaring a larger Content-Length is refused before
   * its route runs; a forward streaming a body without one counts it, and past the limit
   * aborts what it forwards and answers 413 (`payloadTooLarge`).
   */
  readonly maxBodyBytes: number;
}

/** A path prefix passed on as HTTP (API Gateway's VPC link to the load balancer). */
export interface HttpRoute extends RouteMatch {
  readonly forward: (req: IncomingMessage, res: ServerResponse, limits: ForwardLimits) => Promise<void>;
}

export type GatewayRoute = LambdaRoute | HttpRoute;

const routeFor = (routes: readonly GatewayRoute[], path: string) =>
  routes.find((r) => (r.exact ? path === r.prefix : path.startsWith(r.prefix)));

/** What API Gateway's authorizer hands the integration: the caller, as `requestContext.authorizer`. */
export interface AuthorizerContext {
  readonly principalId: string;
  readonly [key: string]: string;
}

/**
 * Decides each request to a route that is not `public` before it is routed, as the API Gateway
 * authorizer does; throws an error carrying an HTTP `status` and a JSON body (`toJSON`) to refuse it.
 */
export type Guard = (req: IncomingMessage, path: string) => Promise<AuthorizerContext>;

/** API Gateway's own payload limit. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** The 413 API Gateway answers for a body over its limit. */
export function payloadTooLarge(res: ServerResponse, limit = MAX_BODY_BYTES): void {
  sendJson(res, 413, { error_code: 'BAD_REQUEST', message: `Request body exceeds the ${limit} byte limit.` });
}

/**
 * How much of a refused request's body is still read (and dropped) after the answer, so that a
 * client still sending it gets to read the answer; past this the connection is closed.
 */
const DISCARD_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Reads and drops the rest of a request answered before its body arrived (closing the
 * connection instead would reset it under a client still sending, which then never reads the
 * answer). Bounded by DISCARD_MAX_BYTES, and by the server's request timeout.
 */
export function discardBody(req: IncomingMessage): void {
  let dropped = 0;
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DISCARD_MAX_BYTES) req.socket.destroy();
  });
  req.resume();
}

/** Whether the request declares a body over the limit (Content-Length). */
function declaresTooLarge(req: IncomingMessage, limit: number): boolean {
  const declared = Number(req.headers['content-length']);
  return Number.isFinite(declared) && declared > limit;
}

class PayloadTooLarge extends Error {}

/** The whole body, or PayloadTooLarge once it passes the limit (the rest is left flowing to be dropped). */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      chunks.length = 0;
      reject(new PayloadTooLarge());
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

export function toProxyEvent(
  req: IncomingMessage,
  body: Buffer,
  requestId: string,
  authorizer?: AuthorizerContext,
): APIGatewayProxyEvent {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const key = req.rawHeaders[i] as string;
    const value = req.rawHeaders[i + 1] as string;
    headers[key] = headers[key] === undefined ? value : `${headers[key]},${value}`;
    multiValueHeaders[key] = [...(multiValueHeaders[key] ?? []), value];
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [key, value] of url.searchParams) {
    query[key] = value;
    multiQuery[key] = [...(multiQuery[key] ?? []), value];
  }
  const hasQuery = Object.keys(query).length > 0;
  return {
    resource: url.pathname,
    path: url.pathname,
    httpMethod: (req.method ?? 'GET').toUpperCase(),
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: null,
    stageVariables: null,
    body: body.length > 0 ? body.toString('utf8') : null,
    isBase64Encoded: false,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      authorizer: authorizer ?? undefined,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: (req.method ?? 'GET').toUpperCase(),
      identity: {
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: req.headers['user-agent'] ?? null,
      } as APIGatewayProxyEvent['requestContext']['identity'],
      path: url.pathname,
      stage: 'local',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: url.pathname,
    },
  };
}

function lambdaContext(functionName: string, requestId: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export interface Gateway {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

export async function startGateway(
  routes: readonly GatewayRoute[],
  port: number,
  host = '127.0.0.1',
  guard?: Guard,
): Promise<Gateway> {
  const server = createServer(async (req, res) => {
    const requestId = randomUUID();
    try {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const route = routeFor(routes, path);
      if (!route) {
        sendJson(res, 404, { error_code: 'ENDPOINT_NOT_FOUND', message: `No API endpoint at ${path}` });
        return;
      }
      // API Gateway refuses a payload over its limit before anything else runs.
      if (declaresTooLarge(req, MAX_BODY_BYTES)) {
        payloadTooLarge(res);
        discardBody(req);
        return;
      }
      let authorizer: AuthorizerContext | undefined;
      if (guard && !route.public) {
        try {
          authorizer = await guard(req, path);
        } catch (error) {
          const refusal = error as { status?: number; toJSON?: () => unknown };
          if (typeof refusal.status !== 'number' || !refusal.toJSON) throw error;
          req.resume();
          sendJson(res, refusal.status, refusal.toJSON());
          return;
        }
      }
      if ('forward' in route) {
        await route.forward(req, res, { maxBodyBytes: MAX_BODY_BYTES });
        return;
      }
      const body = await readBody(req);
      const result = await route.handler(
        toProxyEvent(req, body, requestId, authorizer),
        lambdaContext(route.functionName, requestId),
      );
      const headers: Record<string, string | string[]> = { ...(result.headers as Record<string, string>) };
      for (const [k, v] of Object.entries(result.multiValueHeaders ?? {})) headers[k] = v.map(String);
      res.writeHead(result.statusCode, headers);
      res.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
    } catch (error) {
      if (error instanceof PayloadTooLarge) {
        payloadTooLarge(res);
        discardBody(req);
        return;
      }
      process.stderr.write(`gateway: ${(error as Error).stack ?? String(error)}\n`);
      if (!res.headersSent) {
        sendJson(res, 502, {
          error_code: 'INTERNAL_ERROR',
          message: `Internal server error (request id ${requestId}).`,
        });
      } else {
        res.destroy();
      }
    }
  });
  // `Expect: 100-continue` (curl sends it for large bodies): no go-ahead for a body over the limit,
  // so the client reads the 413 without sending it.
  server.on('checkContinue', (req, res) => {
    if (!declaresTooLarge(req, MAX_BODY_BYTES)) res.writeContinue();
    server.emit('request', req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
