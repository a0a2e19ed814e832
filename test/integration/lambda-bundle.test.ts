/**
 * The registry Lambda as it ships: bundled by esbuild into one ES module, configured only
 * through its environment, answering API Gateway events against a real DynamoDB-API server.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaBundleOptions } from '../../infra/build/lambda-bundle';
import { ensureRegistryTable, type LocalDynamo, startLocalDynamo } from '../../twin/local-dynamodb';
import { ArtifactRoot } from '../helpers/artifacts';
import { REPO_ROOT } from '../helpers/paths';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

let dir: string;
let dynamo: LocalDynamo;
let artifacts: ArtifactRoot;
let eventBridge: Server;
const published: string[] = [];
const saved = { ...process.env };
let handler: Handler;
let bundleBytes = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mlserve-bundle-'));
  const outfile = path.join(dir, 'registry.mjs');
  await build(lambdaBundleOptions(path.join(REPO_ROOT, 'lambdas/registry/handler.ts'), outfile));
  bundleBytes = (await stat(outfile)).size;

  dynamo = await startLocalDynamo();
  await ensureRegistryTable(dynamo.clientConfig, 'bundle-registry');
  artifacts = await ArtifactRoot.create();
  // No local EventBridge engine exists: a loopback endpoint accepts PutEvents and records the detail types.
  eventBridge = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const entries = (JSON.parse(body) as { Entries: { DetailType: string }[] }).Entries;
    published.push(...entries.map((e) => e.DetailType));
    res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify({ FailedEntryCount: 0, Entries: entries.map((_, i) => ({ EventId: String(i) })) }));
  });
  await new Promise<void>((resolve) => eventBridge.listen(0, '127.0.0.1', () => resolve()));

  Object.assign(process.env, {
    REGISTRY_TABLE: 'bundle-registry',
    MLSERVE_SOURCE_ROOTS: artifacts.uri,
    EVENT_BUS_NAME: 'mlserve-bus',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: `http://127.0.0.1:${(eventBridge.address() as AddressInfo).port}`,
  });
  handler = ((await import(pathToFileURL(outfile).href)) as { handler: Handler }).handler;
}, 120_000);

afterAll(async () => {
  process.env = saved;
  await new Promise<void>((resolve) => eventBridge?.close(() => resolve()));
  await dynamo?.close();
  await artifacts?.remove();
  await rm(dir, { recursive: true, force: true });
});

function event(method: string, apiPath: string, body?: unknown, query?: Record<string, string>): APIGatewayProxyEvent {
  return {
    httpMethod: method,
    path: apiPath,
    resource: '/api/2.0/mlflow/{proxy+}',
    headers: { 'Content-Type': 'application/json' },
    multiValueHeaders: {},
    queryStringParameters: query ?? null,
    multiValueQueryStringParameters: query ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])) : null,
    pathParameters: null,
    stageVariables: null,
    body: body === undefined ? null : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {
      requestId: 'r',
      authorizer: { principalId: 'admin', admin: 'true', tokenId: 'test' },
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

const context = { awsRequestId: 'req-1', functionName: 'registry', getRemainingTimeInMillis: () => 10_000 } as Context;

describe('registry Lambda bundle', () => {
  it('is one ES module file', () => {
    expect(bundleBytes).toBeGreaterThan(10_000);
  });

  it('creates and reads a model through API Gateway events, publishing to EventBridge', async () => {
    const created = await handler(
      event('POST', '/api/2.0/mlflow/registered-models/create', { name: 'lambda-model' }),
      context,
    );
    expect(created.statusCode).toBe(200);
    const read = await handler(
      event('GET', '/api/2.0/mlflow/registered-models/get', undefined, { name: 'lambda-model' }),
      context,
    );
    expect(JSON.parse(read.body).registered_model.name).toBe('lambda-model');
    const source = await artifacts.iris();
    const version = await handler(
      event('POST', '/api/2.0/mlflow/model-versions/create', { name: 'lambda-model', source }),
      context,
    );
    expect(JSON.parse(version.body).model_version.status).toBe('PENDING_REGISTRATION');
    expect(published).toEqual(['RegisteredModelCreated', 'ModelVersionCreated']);
  });

  it('maps errors to MLflow JSON with the right status', async () => {
    const missing = await handler(
      event('GET', '/api/2.0/mlflow/registered-models/get', undefined, { name: 'absent' }),
      context,
    );
    expect(missing.statusCode).toBe(404);
    expect(JSON.parse(missing.body).error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });
});
