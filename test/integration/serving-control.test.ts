/** The serving control plane over a real DynamoDB-API server: settings, version states, serving events. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectMlflowError } from '../helpers/mlflow-errors';
import { type RegistryEnv, startRegistryEnv } from '../helpers/registry-env';

let env: RegistryEnv;
let counter = 0;
/** A fresh model name per test, so tests share one server without sharing state. */
const fresh = (base = 'model') => `${base}-${++counter}`;

beforeAll(async () => {
  env = await startRegistryEnv();
});
afterAll(async () => {
  await env.close();
});

describe('serving state and events', () => {
  it('keeps the latest serving state per version and lists events newest first', async () => {
    const name = fresh();
    await env.registry.createRegisteredModel({ name });
    await env.serving.recordServingStatus({ name, version: 1, state: 'LOADING', message: 'loading', updatedAt: 1 });
    await env.serving.recordServingStatus({
      name,
      version: 1,
      state: 'READY',
      message: '',
      flavor: 'python_function',
      loadedAt: 2,
      updatedAt: 2,
    });
    await env.serving.recordServingStatus({ name, version: 2, state: 'FAILED', message: 'bad pickle', updatedAt: 3 });
    expect(await env.serving.servingStatuses(name)).toEqual([
      { name, version: 1, state: 'READY', message: '', flavor: 'python_function', loadedAt: 2, updatedAt: 2 },
      { name, version: 2, state: 'FAILED', message: 'bad pickle', updatedAt: 3 },
    ]);
    for (let i = 0; i < 30; i++) {
      await env.serving.recordServingEvent({
        name,
        version: (i % 2) + 1,
        type: 'VERSION_LOADED',
        message: `e${i}`,
        time: 1000 + i,
      });
    }
    const latest = await env.serving.servingEvents(name, { limit: 3 });
    expect(latest.map((e) => e.message)).toEqual(['e29', 'e28', 'e27']);
    const v1 = await env.serving.servingEvents(name, { version: 1, limit: 20 });
    expect(v1).toHaveLength(15);
    expect(v1.every((e) => e.version === 1)).toBe(true);
  });

  it('deletes serving state and events with the model', async () => {
    const name = fresh();
    await env.registry.createRegisteredModel({ name });
    await env.serving.recordServingEvent({ name, type: 'HOST_STARTED', message: 'up' });
    await env.registry.deleteRegisteredModel(name);
    await env.registry.createRegisteredModel({ name });
    expect(await env.serving.servingEvents(name)).toEqual([]);
  });
});

describe('batching and workers per version', () => {
  /** A model whose serving is enabled; answers its serving revision. */
  async function served(): Promise<{ name: string; revision: number }> {
    const name = fresh('batching');
    await env.registry.createRegisteredModel({ name });
    const config = await env.serving.enableServing(name);
    return { name, revision: config.revision };
  }

  it('stores them on the model without a new serving revision, and the snapshot carries them', async () => {
    const { name, revision } = await served();
    const start = env.events.length;
    const config = await env.serving.updateServingConfig(name, {
      batching: { enabled: true, maxBatchRows: 64, maxWaitMs: 5 },
      workersPerVersion: 4,
    });
    expect(config).toMatchObject({
      enabled: true,
      computeSize: 'Small',
      revision,
      batching: { enabled: true, maxBatchRows: 64, maxWaitMs: 5 },
      workersPerVersion: 4,
    });
    const snapshot = await env.serving.servingSnapshot(name);
    expect(snapshot.serving).toEqual(config);
    expect(snapshot.serving).toEqual(snapshot.model.serving);
    expect(snapshot.model).not.toHaveProperty('servingWrites');
    expect((await env.serving.modelServingStatus(name)).config).toEqual(config);
    await env.bus.drained();
    expect(env.events.slice(start).map((e) => [e.type, e.modelName])).toEqual([['ServingReconfigured', name]]);
    const [event] = await env.serving.servingEvents(name, { limit: 1 });
    expect(event).toMatchObject({
      type: 'SERVING_RECONFIGURED',
      message:
        'compute Small, tags {}, batching {"enabled":true,"max_batch_rows":64,"max_wait_ms":5}, workers per version 4 (applied by the running task; no new task)',
    });
  });

  it('changes only the fields given, clears a field given as null, and clears all batching with null', async () => {
    const { name } = await served();
    await env.serving.updateServingConfig(name, {
      batching: { enabled: true, maxBatchRows: 64 },
      workersPerVersion: 2,
    });
    expect(await env.serving.updateServingConfig(name, { batching: { maxWaitMs: 0 } })).toMatchObject({
      batching: { enabled: true, maxBatchRows: 64, maxWaitMs: 0 },
      workersPerVersion: 2,
    });
    const cleared = await env.serving.updateServingConfig(name, {
      batching: { maxBatchRows: null },
      workersPerVersion: null,
    });
    expect(cleared.batching).toEqual({ enabled: true, maxWaitMs: 0 });
    expect(cleared).not.toHaveProperty('workersPerVersion');
    const none = await env.serving.updateServingConfig(name, { batching: null });
    expect(none).not.toHaveProperty('batching');
    expect((await env.serving.servingSnapshot(name)).serving).not.toHaveProperty('batching');
  });

  it('keeps them through a new compute size (a new revision), disable and enable', async () => {
    const { name, revision } = await served();
    await env.serving.updateServingConfig(name, { batching: { maxWaitMs: 10 }, workersPerVersion: 3 });
    const resized = await env.serving.updateServingConfig(name, { computeSize: 'Medium' });
    expect(resized).toMatchObject({ revision: revision + 1, batching: { maxWaitMs: 10 }, workersPerVersion: 3 });
    await env.serving.disableServing(name);
    const again = await env.serving.enableServing(name);
    expect(again).toMatchObject({ enabled: true, batching: { maxWaitMs: 10 }, workersPerVersion: 3 });
    const reconfigured = (await env.serving.servingEvents(name)).filter((e) => e.type === 'SERVING_RECONFIGURED');
    expect(reconfigured[0]?.message).toBe(
      'compute Medium, tags {}, batching {"max_wait_ms":10}, workers per version 3',
    );
  });

  it('records no event for a change to what is already set', async () => {
    const { name } = await served();
    await env.serving.updateServingConfig(name, { batching: { enabled: false }, workersPerVersion: 1 });
    await env.bus.drained();
    const start = env.events.length;
    const before = await env.serving.servingEvents(name);
    await env.serving.updateServingConfig(name, { batching: { enabled: false }, workersPerVersion: 1 });
    await env.serving.updateServingConfig(name, { batching: { maxBatchRows: null } });
    await env.bus.drained();
    expect(env.events.slice(start).filter((e) => e.modelName === name)).toEqual([]);
    expect(await env.serving.servingEvents(name)).toEqual(before);
  });

  it.each([
    [{ batching: { maxBatchRows: 0 } }, /'batching\.max_batch_rows'.*from 1 to 10000/],
    [{ batching: { maxBatchRows: 10_001 } }, /from 1 to 10000/],
    [{ batching: { maxWaitMs: 101 } }, /'batching\.max_wait_ms'.*from 0 to 100/],
    [{ workersPerVersion: 17 }, /'workers_per_version'.*from 1 to 16/],
    [{ workersPerVersion: 0.5 }, /'workers_per_version'.*from 1 to 16/],
  ])('refuses %j and writes nothing', async (change, message) => {
    const { name } = await served();
    const before = await env.serving.servingSnapshot(name);
    await expectMlflowError(env.serving.updateServingConfig(name, change), 'INVALID_PARAMETER_VALUE', message);
    expect((await env.serving.servingSnapshot(name)).serving).toEqual(before.serving);
  });

  it('loses no change when changes that need no new revision race each other and a disable', async () => {
    const { name } = await served();
    await Promise.all([
      env.serving.updateServingConfig(name, { batching: { enabled: true } }),
      env.serving.updateServingConfig(name, { batching: { maxBatchRows: 32 } }),
      env.serving.updateServingConfig(name, { batching: { maxWaitMs: 7 } }),
      env.serving.updateServingConfig(name, { workersPerVersion: 5 }),
      env.serving.updateServingConfig(name, { computeSize: 'Large' }),
      env.serving.updateServingConfig(name, { tagsToSet: [{ key: 'team', value: 'risk' }] }),
      env.serving.disableServing(name),
    ]);
    expect((await env.serving.servingSnapshot(name)).serving).toMatchObject({
      enabled: false,
      computeSize: 'Large',
      tags: { team: 'risk' },
      batching: { enabled: true, maxBatchRows: 32, maxWaitMs: 7 },
      workersPerVersion: 5,
    });
  });
});
