/**
 * The REQUEST authorizer and its access decisions against a real registry table (dynalite):
 * header shapes, a fuzz of headers, expiry and revocation, per-model policies, and a token
 * that may read model A refused on model B while every cache is warm.
 */
import { randomBytes } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessControl, type Caller } from '../../core/auth/access';
import { AccessTable } from '../../core/auth/access-store';
import { createAuthorizer } from '../../lambdas/authorizer/app';
import { authorizeRequest } from '../../lambdas/authorizer/decide';
import { type RegistryEnv, startRegistryEnv } from '../helpers/registry-env';

let env: RegistryEnv;
let table: AccessTable;
let clock = Date.now();
let access: AccessControl;
let admin: Caller;
const silent = new Logger({ logLevel: 'SILENT' });
const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/POST/model/iris/1/invocations';

function authorizerEvent(
  path: string,
  authorization?: string,
  methodArn = METHOD_ARN,
): APIGatewayRequestAuthorizerEvent {
  return {
    type: 'REQUEST',
    methodArn,
    resource: path,
    path,
    httpMethod: 'POST',
    headers: authorization === undefined ? {} : { Authorization: authorization },
    multiValueHeaders: {},
    pathParameters: {},
    queryStringParameters: {},
    multiValueQueryStringParameters: {},
    stageVariables: {},
    requestContext: {} as APIGatewayRequestAuthorizerEvent['requestContext'],
  };
}

const basic = (user: string, secret: string) => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;

beforeAll(async () => {
  env = await startRegistryEnv();
  table = new AccessTable(new DynamoDBClient(env.dynamo.clientConfig), env.tableName);
  access = new AccessControl(table, { cacheTtlMs: 60_000, now: () => clock });
  const boot = await access.bootstrapAdmin('admin');
  admin = await access.authenticate(`Bearer ${boot.secret}`);
  await env.registry.createRegisteredModel({ name: 'model-a', creator: 'owner' });
  await env.registry.createRegisteredModel({ name: 'model-b', creator: 'owner' });
  await env.access.updatePermissions(
    'model-a',
    [{ principal: 'reader', level: 'CAN_READ' }],
    ['CAN_READ', 'CAN_EDIT', 'CAN_MANAGE_STAGING_VERSIONS', 'CAN_MANAGE_PRODUCTION_VERSIONS', 'CAN_MANAGE'],
  );
});
afterAll(async () => {
  await env.close();
});

async function tokenFor(principal: string, lifetimeSeconds?: number): Promise<string> {
  return (await access.createToken(admin, { principal, lifetimeSeconds })).secret;
}

describe('authentication', () => {
  it('accepts Bearer and Basic with user "token"', async () => {
    const secret = await tokenFor('reader');
    expect((await access.authenticate(`Bearer ${secret}`)).principal).toBe('reader');
    expect((await access.authenticate(basic('token', secret))).principal).toBe('reader');
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['another scheme', 'Digest abc'],
    ['Basic with another user', basic('alice', 'mlsv_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')],
    ['malformed base64', 'Basic !!!notbase64'],
    ['Basic without a colon', `Basic ${Buffer.from('tokenonly').toString('base64')}`],
    ['Bearer without a token', 'Bearer'],
    ['a token of the wrong shape', 'Bearer abc'],
    ['an unknown token', `Bearer mlsv_${randomBytes(32).toString('base64url')}`],
  ])('refuses %s with 401', async (_label, header) => {
    await expect(access.authenticate(header)).rejects.toMatchObject({ errorCode: 'UNAUTHENTICATED', status: 401 });
    await expect(
      createAuthorizer(access, silent)(authorizerEvent('/api/2.0/mlflow/registered-models/get', header)),
    ).rejects.toThrow(/^Unauthorized$/);
  });

  it('refuses an expired token', async () => {
    const secret = await tokenFor('reader', 60);
    await access.authenticate(`Bearer ${secret}`);
    clock += 61_000;
    await expect(access.authenticate(`Bearer ${secret}`)).rejects.toMatchObject({ status: 401 });
  });

  it('refuses a revoked token within the cache TTL, and not before it (the documented delay)', async () => {
    const secret = await tokenFor('reader');
    const caller = await access.authenticate(`Bearer ${secret}`);
    // Another process revokes it: this one's cache still holds the token until the TTL passes.
    const elsewhere = new AccessControl(table, { now: () => clock });
    await elsewhere.revokeToken(admin, caller.tokenId);
    expect((await access.authenticate(`Bearer ${secret}`)).principal).toBe('reader');
    clock += access.cacheTtlMs + 1;
    await expect(access.authenticate(`Bearer ${secret}`)).rejects.toMatchObject({ status: 401 });
  });

  it('refuses a token revoked through the same process at once', async () => {
    const secret = await tokenFor('reader');
    const caller = await access.authenticate(`Bearer ${secret}`);
    await access.revokeToken(admin, caller.tokenId);
    await expect(access.authenticate(`Bearer ${secret}`)).rejects.toMatchObject({ status: 401 });
  });

  it('answers 401 and nothing else to 500 random and truncated headers', async () => {
    const authorize = createAuthorizer(access, silent);
    const valid = `Bearer ${await tokenFor('reader')}`;
    const outcomes = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const kind = i % 4;
      const header =
        kind === 0
          ? randomBytes(i % 64).toString('latin1')
          : kind === 1
            ? valid.slice(0, i % valid.length)
            : kind === 2
              ? `Basic ${randomBytes(i % 48).toString('base64')}`
              : `${['Bearer', 'Basic', 'bearer', 'Token'][i % 4]} ${randomBytes(i % 40).toString('base64url')}`;
      try {
        await authorize(authorizerEvent('/model/model-a/1/invocations', header));
        outcomes.add('allowed');
      } catch (error) {
        outcomes.add((error as Error).message);
      }
    }
    expect([...outcomes]).toEqual(['Unauthorized']);
  });
});

describe('policies and the per-model decision', () => {
  it('allows a reader to score its model, with a policy for that model only', async () => {
    const secret = await tokenFor('reader');
    const result = await createAuthorizer(
      access,
      silent,
    )(authorizerEvent('/model/model-a/1/invocations', `Bearer ${secret}`));
    expect(result.principalId).toBe('reader');
    expect(result.policyDocument.Statement).toEqual([
      {
        Action: 'execute-api:Invoke',
        Effect: 'Allow',
        Resource: ['arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*/model/model-a/*'],
      },
    ]);
    expect(result.context).toMatchObject({ admin: 'false' });
    expect(result.usageIdentifierKey).toMatch(/^mlserve-token-[0-9a-f]{16}$/);
  });

  it('refuses the same token on model B while every cache is warm, and still allows A', async () => {
    const secret = await tokenFor('reader');
    const authorize = createAuthorizer(access, silent);
    const header = `Bearer ${secret}`;
    await authorize(authorizerEvent('/model/model-a/1/invocations', header));
    await authorizeRequest(access, { path: '/model/model-a/Production/invocations', authorization: header });
    const onB = await authorize(
      authorizerEvent('/model/model-b/1/invocations', header, METHOD_ARN.replace('model/iris', 'model/model-b')),
    );
    expect(onB.policyDocument.Statement[0]).toMatchObject({ Effect: 'Deny' });
    await expect(
      authorizeRequest(access, { path: '/model/model-b/1/invocations', authorization: header }),
    ).rejects.toMatchObject({
      status: 403,
      errorCode: 'PERMISSION_DENIED',
    });
    const onA = await authorize(authorizerEvent('/model/model-a/2/invocations', header));
    expect(onA.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
  });

  it('denies (403, not 401) a valid token whose scoring path names no possible model', async () => {
    const secret = await tokenFor('reader');
    const authorize = createAuthorizer(access, silent);
    for (const name of ['x'.repeat(2100), '%ED%B0%80x', '%E0%A4%A', 'a%00b']) {
      const result = await authorize(authorizerEvent(`/model/${name}/1/invocations`, `Bearer ${secret}`));
      expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Deny' });
    }
    await expect(authorize(authorizerEvent(`/model/${'x'.repeat(2100)}/1/invocations`, 'Bearer nope'))).rejects.toThrow(
      /^Unauthorized$/,
    );
  });

  it('allows any valid token onto the API paths (the handlers decide per model)', async () => {
    const secret = await tokenFor('nobody');
    const result = await createAuthorizer(
      access,
      silent,
    )(authorizerEvent('/api/2.0/mlflow/registered-models/search', `Bearer ${secret}`));
    expect(result.policyDocument.Statement[0]).toMatchObject({
      Effect: 'Allow',
      Resource: ['arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*/api/*'],
    });
  });

  it('gives admins every model', async () => {
    await expect(
      access.require(admin, { kind: 'model', model: 'model-b', level: 'CAN_MANAGE' }),
    ).resolves.toBeUndefined();
  });

  it('never logs secrets, hashes or tokens', async () => {
    const lines: string[] = [];
    const logger = new Logger({ logLevel: 'INFO', logRecordOrder: ['message'] });
    const write = process.stdout.write.bind(process.stdout);
    const secret = await tokenFor('reader');
    process.stdout.write = ((chunk: string) => {
      lines.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      const authorize = createAuthorizer(access, logger);
      await authorize(authorizerEvent('/model/model-a/1/invocations', `Bearer ${secret}`));
      await authorize(authorizerEvent('/model/model-b/1/invocations', basic('token', secret))).catch(() => undefined);
      await authorize(authorizerEvent('/model/model-a/1/invocations', 'Bearer nope')).catch(() => undefined);
    } finally {
      process.stdout.write = write;
    }
    const text = lines.join('');
    expect(text).toContain('allowed');
    expect(text).not.toContain(secret);
    expect(text).not.toContain(secret.slice(5, 25));
    expect(text).not.toMatch(/[0-9a-f]{64}/);
  });
});
