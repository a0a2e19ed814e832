/**
 * Per-token API keys: the tokens API makes one key per token in the per-token usage plan and
 * deletes it on revocation. Tokens live in a real registry table; API Gateway has no local
 * engine, so its client's transport records the REST calls the SDK makes and answers as API
 * Gateway documents (ids, names, values).
 */
import { Readable } from 'node:stream';
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessControl, type Caller } from '../../core/auth/access';
import { AccessTable } from '../../core/auth/access-store';
import { UsagePlanKeys } from '../../lambdas/access/usage-plan-keys';
import { type RegistryEnv, startRegistryEnv } from '../helpers/registry-env';

interface Call {
  method: string;
  path: string;
  query: Record<string, unknown>;
  body: Record<string, unknown>;
}

/** An API Gateway stand-in at the transport: plans, keys, and the calls made to it. */
function apiGateway(plans: { id: string; name: string }[]) {
  const calls: Call[] = [];
  const keys = new Map<string, { id: string; name: string; value: string }>();
  let failCreate = false;
  const reply = (statusCode: number, body: unknown) => ({
    response: {
      statusCode,
      headers: { 'content-type': 'application/json' },
      body: Readable.from([Buffer.from(JSON.stringify(body))]),
    },
  });
  const requestHandler = {
    async handle(request: {
      method: string;
      path: string;
      query?: Record<string, unknown>;
      body?: string | Uint8Array;
    }) {
      const text = typeof request.body === 'string' ? request.body : new TextDecoder().decode(request.body);
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      calls.push({ method: request.method, path: request.path, query: request.query ?? {}, body });
      if (request.method === 'GET' && request.path === '/usageplans') return reply(200, { item: plans });
      if (request.method === 'POST' && request.path === '/apikeys') {
        if (failCreate) return reply(429, { message: 'Too Many Requests' });
        const key = { id: `k${keys.size + 1}`, name: String(body.name), value: String(body.value) };
        keys.set(key.id, key);
        return reply(201, { id: key.id, name: key.name, enabled: true });
      }
      if (request.method === 'POST' && /^\/usageplans\/[^/]+\/keys$/.test(request.path))
        return reply(201, { id: body.keyId, type: 'API_KEY' });
      if (request.method === 'GET' && request.path === '/apikeys') {
        const q = String(request.query?.name ?? '');
        return reply(200, { item: [...keys.values()].filter((k) => k.name.startsWith(q)) });
      }
      const deleted = /^\/apikeys\/([^/]+)$/.exec(request.path);
      if (request.method === 'DELETE' && deleted?.[1]) {
        keys.delete(decodeURIComponent(deleted[1]));
        return reply(202, {});
      }
      return reply(404, { message: `no route ${request.method} ${request.path}` });
    },
  };
  const client = new APIGatewayClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler,
    maxAttempts: 1,
  });
  return {
    client,
    calls,
    keys,
    failCreates: (fail: boolean) => {
      failCreate = fail;
    },
  };
}

let env: RegistryEnv;
let table: AccessTable;
beforeAll(async () => {
  env = await startRegistryEnv();
  table = new AccessTable(new DynamoDBClient(env.dynamo.clientConfig), env.tableName);
});
afterAll(async () => {
  await env.close();
});

describe('per-token API keys', () => {
  const admin: Caller = { principal: 'admin', admin: true, tokenId: 'admin-token' };

  it('makes a key valued as the authorizer names it, in the plan found by name, and deletes it on revoke', async () => {
    const gateway = apiGateway([
      { id: 'other', name: 'OtherStack-per-token' },
      { id: 'plan1', name: 'MlservePlatform-per-token' },
    ]);
    const access = new AccessControl(table, { keys: new UsagePlanKeys('MlservePlatform-per-token', gateway.client) });
    const { info } = await access.createToken(admin, { principal: 'alice', description: 'scoring' });
    const id = info.token_id;

    expect(gateway.calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'GET /usageplans',
      'POST /apikeys',
      'POST /usageplans/plan1/keys',
    ]);
    expect(gateway.calls[1]?.body).toMatchObject({
      name: `mlserve-token-${id}`,
      value: `mlserve-token-${id}`,
      enabled: true,
    });
    expect(gateway.calls[2]?.body).toEqual({ keyId: 'k1', keyType: 'API_KEY' });
    expect([...gateway.keys.values()].map((k) => k.value)).toEqual([`mlserve-token-${id}`]);

    // A second token reuses the plan id it found.
    const second = await access.createToken(admin, { principal: 'bob', description: 'batch' });
    expect(gateway.calls.filter((c) => c.path === '/usageplans')).toHaveLength(1);

    await access.revokeToken(admin, id);
    expect(gateway.calls.at(-2)).toMatchObject({ method: 'GET', path: '/apikeys' });
    expect(gateway.calls.at(-1)).toMatchObject({ method: 'DELETE', path: '/apikeys/k1' });
    expect([...gateway.keys.values()].map((k) => k.name)).toEqual([`mlserve-token-${second.info.token_id}`]);
  });

  it('stores no token whose key could not be made, and says why', async () => {
    const gateway = apiGateway([{ id: 'plan1', name: 'MlservePlatform-per-token' }]);
    const access = new AccessControl(table, { keys: new UsagePlanKeys('MlservePlatform-per-token', gateway.client) });
    gateway.failCreates(true);
    const before = (await access.listTokens(admin, 'carol')).length;
    await expect(access.createToken(admin, { principal: 'carol', description: 'scoring' })).rejects.toThrow(
      /Too Many Requests/,
    );
    expect(await access.listTokens(admin, 'carol')).toHaveLength(before);
  });

  it('fails clearly when the usage plan is missing, then finds it once it exists', async () => {
    const plans: { id: string; name: string }[] = [];
    const gateway = apiGateway(plans);
    const access = new AccessControl(table, { keys: new UsagePlanKeys('MlservePlatform-per-token', gateway.client) });
    await expect(access.createToken(admin, { principal: 'dave', description: 'scoring' })).rejects.toThrow(
      'No API Gateway usage plan named MlservePlatform-per-token',
    );
    plans.push({ id: 'plan9', name: 'MlservePlatform-per-token' });
    await access.createToken(admin, { principal: 'dave', description: 'scoring' });
    expect(gateway.calls.at(-1)).toMatchObject({ method: 'POST', path: '/usageplans/plan9/keys' });
  });
});
