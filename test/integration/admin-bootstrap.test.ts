/**
 * The deploy-time admin token: the custom resource's handler against a real registry table.
 * (Secrets Manager has no local engine; the handler's sink records what it would store there.)
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessControl } from '../../core/auth/access';
import { AccessTable } from '../../core/auth/access-store';
import { createBootstrap } from '../../lambdas/access/bootstrap-app';
import { type RegistryEnv, startRegistryEnv } from '../helpers/registry-env';

let env: RegistryEnv;
let access: AccessControl;
const stored: string[] = [];

beforeAll(async () => {
  env = await startRegistryEnv();
  access = new AccessControl(new AccessTable(new DynamoDBClient(env.dynamo.clientConfig), env.tableName));
});
afterAll(async () => {
  await env.close();
});

describe('admin token bootstrap', () => {
  const bootstrap = () => createBootstrap(access, { put: async (secret) => void stored.push(secret) });

  it('makes an admin token on create and hands its secret to Secrets Manager', async () => {
    const result = await bootstrap()({ RequestType: 'Create' });
    expect(result.Data.created).toBe('true');
    expect(stored).toHaveLength(1);
    const caller = await access.authenticate(`Bearer ${stored[0]}`);
    expect(caller).toMatchObject({ principal: 'admin', admin: true });
    const listed = await access.listTokens(caller);
    expect(JSON.stringify(listed)).not.toContain(stored[0]);
  });

  it('leaves a live admin token alone on update, and keeps everything on delete', async () => {
    expect((await bootstrap()({ RequestType: 'Update', PhysicalResourceId: 'mlserve-admin-token' })).Data.created).toBe(
      'false',
    );
    expect((await bootstrap()({ RequestType: 'Delete', PhysicalResourceId: 'mlserve-admin-token' })).Data.created).toBe(
      'false',
    );
    expect(stored).toHaveLength(1);
    expect((await access.authenticate(`Bearer ${stored[0]}`)).principal).toBe('admin');
  });
});
