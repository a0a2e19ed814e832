/** SIGTERM: the host stops accepting, finishes the requests in flight, and exits 0. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningHost, request, score, startModelHost } from '../helpers/model-host';
import { trainSklearn } from '../helpers/models';
import { type RegistryEnv, startRegistryEnv } from '../helpers/registry-env';

let env: RegistryEnv;
let host: RunningHost;
let cache: string;

beforeAll(async () => {
  env = await startRegistryEnv();
  cache = await mkdtemp(path.join(tmpdir(), 'mlserve-cache-'));
  await env.registry.createRegisteredModel({ name: 'drain' });
  const dir = path.join(env.artifacts.dir, 'slow');
  trainSklearn('slow', dir);
  await env.registry.createModelVersion({ name: 'drain', source: pathToFileURL(dir).href });
  expect((await env.ready('drain', 1)).status).toBe('READY');
  host = await startModelHost({
    modelName: 'drain',
    tableName: env.tableName,
    dynamoEndpoint: env.dynamo.endpoint,
    sourceRoots: env.artifacts.uri,
    artifactCache: cache,
    env: { MLSERVE_TEST_SLOW_SECONDS: '1.5' },
  });
  await host.healthy();
}, 120_000);

afterAll(async () => {
  await host?.stop('SIGKILL');
  await env?.close();
  await rm(cache, { recursive: true, force: true });
});

describe('SIGTERM', () => {
  it('drains the requests in flight, refuses new ones, unloads and exits 0', async () => {
    const rows = {
      dataframe_split: {
        columns: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
        data: [[5.1, 3.5, 1.4, 0.2]],
      },
    };
    const inFlight = score(`${host.url}/model/drain/1/invocations`, rows);
    await new Promise((r) => setTimeout(r, 300));
    const exit = host.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    await expect(request(`${host.url}/ping`, { method: 'GET' })).rejects.toThrow();
    const answered = await inFlight;
    expect([answered.status, answered.json]).toEqual([200, { predictions: [0] }]);
    expect(await exit).toBe(0);
    const events = await env.serving.servingEvents('drain');
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['VERSION_UNLOADED', 'HOST_STOPPED']));
    expect((await env.serving.servingStatuses('drain'))[0]?.state).toBe('UNLOADED');
  });
});
