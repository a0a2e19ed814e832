/** Registering versions whose source is in S3, against a real local S3-API server. */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessBus } from '../../core/events/in-process-bus';
import { createRegistry, localArtifactDir } from '../../core/registry';
import type { ModelRegistry } from '../../core/registry/registry';
import { ensureRegistryTable, type LocalDynamo, startLocalDynamo } from '../../twin/local-dynamodb';
import { type LocalS3, startLocalS3 } from '../helpers/local-s3';
import { IRIS_MODEL } from '../helpers/paths';
import { checkRegistrations } from '../helpers/registry-env';

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
  checkRegistrations(bus, registry);
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

describe('downloading an S3 artifact for serving', () => {
  it('copies every object under the prefix into the cache once, and reuses it', async () => {
    const cache = await mkdtemp(path.join(tmpdir(), 'mlserve-s3-cache-'));
    try {
      const source = { kind: 's3' as const, bucket: s3.bucket, prefix: 'models/iris' };
      const dir = await localArtifactDir(source, cache, 'iris/1', s3.client);
      expect(dir).toBe(path.join(cache, 'iris/1'));
      expect((await readdir(dir)).sort()).toEqual((await readdir(IRIS_MODEL)).sort());
      expect(await readFile(path.join(dir, 'model.pkl'))).toEqual(await readFile(path.join(IRIS_MODEL, 'model.pkl')));
      const unreachable = () => {
        throw new Error('the cache should have been used');
      };
      expect(await localArtifactDir(source, cache, 'iris/1', unreachable)).toBe(dir);
    } finally {
      await rm(cache, { recursive: true, force: true });
    }
  });

  it('refuses an object whose bytes do not match its listed size, and caches nothing', async () => {
    const cache = await mkdtemp(path.join(tmpdir(), 'mlserve-s3-cache-'));
    /** The local server, with a listing that says model.pkl is one byte longer than it is. */
    const misreporting = () => {
      const client = s3.client();
      const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
      client.send = (async (command: unknown) => {
        const out = (await send(command)) as { Contents?: { Key?: string; Size?: number }[] };
        if (command instanceof ListObjectsV2Command)
          for (const object of out.Contents ?? [])
            if (object.Key?.endsWith('model.pkl')) object.Size = (object.Size ?? 0) + 1;
        return out;
      }) as typeof client.send;
      return client;
    };
    try {
      const source = { kind: 's3' as const, bucket: s3.bucket, prefix: 'models/iris' };
      await expect(localArtifactDir(source, cache, 'iris/1', misreporting)).rejects.toThrow(
        /model\.pkl read \d+ bytes, listed/,
      );
      const left = await readdir(cache, { recursive: true, withFileTypes: true });
      expect(left.filter((entry) => !entry.isDirectory() || entry.name !== 'iris')).toEqual([]);
    } finally {
      await rm(cache, { recursive: true, force: true });
    }
  });

  it('refuses an empty prefix and leaves nothing behind', async () => {
    const cache = await mkdtemp(path.join(tmpdir(), 'mlserve-s3-cache-'));
    try {
      const source = { kind: 's3' as const, bucket: s3.bucket, prefix: 'models/absent' };
      await expect(localArtifactDir(source, cache, 'x/1', s3.client)).rejects.toThrow(/no objects under/);
      expect(await readdir(cache)).toEqual([]);
    } finally {
      await rm(cache, { recursive: true, force: true });
    }
  });
});
