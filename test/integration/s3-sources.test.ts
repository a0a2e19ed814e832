/** Registering versions whose source is in S3, against a real local S3-API server. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessBus } from '../../core/events/in-process-bus';
import { createRegistry } from '../../core/registry';
import type { ModelRegistry } from '../../core/registry/registry';
import { ensureRegistryTable, type LocalDynamo, startLocalDynamo } from '../../twin/local-dynamodb';
import { type LocalS3, startLocalS3 } from '../helpers/local-s3';
import { IRIS_MODEL } from '../helpers/paths';

let s3: LocalS3;
let dynamo: LocalDynamo;
let registry: ModelRegistry;
const bus = new InProcessBus();

beforeAll(async () => {
  s3 = await startLocalS3();
  await s3.upload(IRIS_MODEL, 'models/iris');
  dynamo = await startLocalDynamo();
  const tableName = `registry-${randomUUID()}`;
  await ensureRegistryTable(dynamo.clientConfig, tableName);
  registry = createRegistry({
    tableName,
    sourceRoots: `s3://${s3.bucket}/models`,
    events: bus,
    dynamodb: dynamo.clientConfig,
    s3: s3.client,
  });
  bus.subscribe(
    async (e) => {
      if (e.type === 'ModelVersionCreated') await registry.completeRegistration(e.modelName, e.version);
    },
    ['ModelVersionCreated'],
  );
  await registry.createRegisteredModel({ name: 'iris' });
});
afterAll(async () => {
  await bus.drained();
  await dynamo?.close();
  await s3?.close();
});

describe('s3:// sources', () => {
  it('reads MLmodel from S3 and marks the version READY', async () => {
    const created = await registry.createModelVersion({ name: 'iris', source: `s3://${s3.bucket}/models/iris` });
    await bus.drained();
    const ready = await registry.getModelVersion('iris', created.version);
    expect(ready.status).toBe('READY');
    expect(ready.artifact?.mlflowVersion).toBe('2.17.2');
  });

  it('marks a version FAILED_REGISTRATION when the S3 prefix holds no MLmodel', async () => {
    const created = await registry.createModelVersion({ name: 'iris', source: `s3://${s3.bucket}/models/absent` });
    await bus.drained();
    const failed = await registry.getModelVersion('iris', created.version);
    expect(failed.status).toBe('FAILED_REGISTRATION');
    expect(failed.statusMessage).toMatch(/MLmodel not found/);
  });

  it('refuses keys outside the allowed prefix', async () => {
    await expect(registry.createModelVersion({ name: 'iris', source: `s3://${s3.bucket}/other/iris` })).rejects.toThrow(
      /outside every allowed source root/,
    );
  });
});
