/** A version's input example read from an s3:// source, against a real local S3-API server. */
import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessBus } from '../../core/events/in-process-bus';
import { createRegistry } from '../../core/registry';
import type { ModelRegistry } from '../../core/registry/registry';
import { ensureRegistryTable, type LocalDynamo, startLocalDynamo } from '../../twin/local-dynamodb';
import { type LocalS3, startLocalS3 } from '../helpers/local-s3';
import { IRIS_MODEL } from '../helpers/paths';
import { checkRegistrations } from '../helpers/registry-env';

let s3: LocalS3;
let dynamo: LocalDynamo;
let registry: ModelRegistry;
let tmp: string;
/** Every object the registry fetched, and how many bytes of it it read. */
const fetched: { key: string; bytesRead: number }[] = [];
const bus = new InProcessBus();

/** An S3 client that notes each GetObject and how much of the body was read. */
function countingClient(): S3Client {
  const client = s3.client();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      if (context.commandName === 'GetObjectCommand') {
        const entry = { key: String((args.input as { Key?: string }).Key), bytesRead: 0 };
        fetched.push(entry);
        const body = (out.output as { Body?: { transformToByteArray(): Promise<Uint8Array> } }).Body;
        if (body) {
          const original = body.transformToByteArray.bind(body);
          body.transformToByteArray = async () => {
            const bytes = await original();
            entry.bytesRead = bytes.length;
            return bytes;
          };
        }
      }
      return out;
    },
    { step: 'initialize', name: 'countGetObject' },
  );
  return client;
}

async function register(name: string, key: string, files: Record<string, string> = {}): Promise<number> {
  const dir = path.join(tmp, key);
  await cp(IRIS_MODEL, dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) await writeFile(path.join(dir, file), content);
  await s3.upload(dir, `models/${key}`);
  await registry.createRegisteredModel({ name }).catch(() => undefined);
  const v = await registry.createModelVersion({ name, source: `s3://${s3.bucket}/models/${key}` });
  await bus.drained();
  const got = await registry.getModelVersion(name, v.version);
  expect(got.status, got.statusMessage).toBe('READY');
  return v.version;
}

beforeAll(async () => {
  s3 = await startLocalS3();
  tmp = await mkdtemp(path.join(tmpdir(), 'mlserve-example-s3-'));
  dynamo = await startLocalDynamo();
  const tableName = `registry-${randomUUID()}`;
  await ensureRegistryTable(dynamo.clientConfig, tableName);
  registry = createRegistry({
    tableName,
    sourceRoots: `s3://${s3.bucket}/models`,
    events: bus,
    dynamodb: dynamo.clientConfig,
    s3: countingClient,
  });
  checkRegistrations(bus, registry);
});
afterAll(async () => {
  await bus.drained();
  await dynamo?.close();
  await s3?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('input examples in S3', () => {
  it('reads serving_input_example.json from the version’s prefix', async () => {
    const version = await register('iris', 'iris');
    expect(await registry.inputExample('iris', version)).toEqual(
      JSON.parse(await readFile(path.join(IRIS_MODEL, 'serving_input_example.json'), 'utf8')),
    );
    expect(fetched.at(-1)?.key).toBe('models/iris/serving_input_example.json');
  });

  it('converts input_example.json as MLmodel describes it when there is no serving input', async () => {
    const mlmodel = (await readFile(path.join(IRIS_MODEL, 'MLmodel'), 'utf8')).replace(
      /\n {2}serving_input_path: [^\n]+/,
      '',
    );
    const version = await register('iris', 'iris-old', { MLmodel: mlmodel });
    expect(await registry.inputExample('iris', version)).toEqual({
      dataframe_split: JSON.parse(await readFile(path.join(IRIS_MODEL, 'input_example.json'), 'utf8')),
    });
  });

  it('refuses an example over 1 MiB without reading its body', async () => {
    const big = JSON.stringify({ dataframe_split: { data: Array.from({ length: 200_000 }, (_, i) => [i]) } });
    const version = await register('iris', 'iris-big', { 'serving_input_example.json': big });
    await expect(registry.inputExample('iris', version)).rejects.toMatchObject({
      errorCode: 'INVALID_STATE',
      status: 400,
      message: expect.stringContaining(`(serving_input_example.json, ${big.length} bytes) is larger than the 1 MiB`),
    });
    const read = fetched.filter((f) => f.key === 'models/iris-big/serving_input_example.json');
    expect(read.length).toBe(1);
    expect(read[0]?.bytesRead).toBe(0);
    // The object is there in full: it was the limit that kept it from being read.
    const out = await s3
      .client()
      .send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'models/iris-big/serving_input_example.json' }));
    expect(out.ContentLength).toBe(big.length);
  });
});
