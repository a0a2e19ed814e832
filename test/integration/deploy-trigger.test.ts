/** The AWS deploy trigger's decisions, against a real registry (dynalite). */
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeployModelInput } from '../../core/deploy/triggers';
import { domainEvent } from '../../core/events/domain-events';
import { createTrigger } from '../../lambdas/deploy/trigger-app';
import { type RegistryEnv, startRegistryEnv } from '../helpers/registry-env';

let env: RegistryEnv;
const starts: { name: string; input: DeployModelInput }[] = [];
let trigger: ReturnType<typeof createTrigger>;
let modelId: string;

beforeAll(async () => {
  env = await startRegistryEnv();
  trigger = createTrigger({
    serving: env.serving,
    logger: new Logger({ logLevel: 'SILENT' }),
    starter: { start: async (name, input) => void starts.push({ name, input }) },
  });
  await env.registry.createRegisteredModel({ name: 'served' });
  await env.registry.createRegisteredModel({ name: 'never-served' });
  await env.serving.enableServing('served');
  const { DynamoDBClient, GetItemCommand } = await import('@aws-sdk/client-dynamodb');
  const client = new DynamoDBClient(env.dynamo.clientConfig);
  const pointer = await client.send(
    new GetItemCommand({ TableName: env.tableName, Key: { PK: { S: 'NAME#served' }, SK: { S: 'NAME' } } }),
  );
  modelId = pointer.Item?.modelId?.S as string;
  client.destroy();
});
afterAll(async () => {
  await env.close();
});

const registryEvent = (type: 'ModelAliasSet' | 'ServingEnabled', modelName: string) => ({
  source: 'mlserve.registry',
  'detail-type': type,
  detail: domainEvent(type === 'ModelAliasSet' ? { type, modelName, version: 1, alias: 'a' } : { type, modelName }),
});

describe('deploy trigger', () => {
  it('starts one execution for a serving-relevant event of a served model, with a valid name and input', async () => {
    starts.length = 0;
    expect(await trigger(registryEvent('ModelAliasSet', 'served'))).toEqual({ started: ['served'] });
    expect(starts).toHaveLength(1);
    expect(starts[0]?.name).toMatch(/^served-[0-9a-f-]{36}$/);
    expect(starts[0]?.input).toMatchObject({ modelName: 'served', reason: 'ModelAliasSet' });
    expect(Date.parse(starts[0]?.input.staleBefore ?? '')).toBeLessThan(Date.now());
  });

  it('starts nothing for a model that was never served', async () => {
    starts.length = 0;
    expect(await trigger(registryEvent('ModelAliasSet', 'never-served'))).toEqual({ started: [] });
    expect(starts).toHaveLength(0);
  });

  it('restarts on an unexpected ECS task stop, records it, and ignores planned stops', async () => {
    starts.length = 0;
    const ecs = (stopCode: string) => ({
      source: 'aws.ecs',
      'detail-type': 'ECS Task State Change',
      detail: {
        lastStatus: 'STOPPED',
        stopCode,
        group: `service:mlserve-${modelId}`,
        stoppedReason: 'Essential container exited',
      },
    });
    expect(await trigger(ecs('ServiceSchedulerInitiated'))).toEqual({ started: [] });
    expect(await trigger(ecs('EssentialContainerExited'))).toEqual({ started: ['served'] });
    const events = await env.serving.servingEvents('served');
    expect(events[0]).toMatchObject({ type: 'TASK_STOPPED' });
  });

  it('reconciles every model whose serving was ever enabled', async () => {
    starts.length = 0;
    expect(await trigger({ reconcile: true })).toEqual({ started: ['served'] });
  });

  it('ignores events from elsewhere', async () => {
    expect(await trigger({ source: 'aws.s3', 'detail-type': 'Object Created', detail: {} })).toEqual({ started: [] });
  });
});
