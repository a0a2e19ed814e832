import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RegistryEnv, startRegistryEnv } from '../helpers/registry-env';

let env: RegistryEnv;
let source: string;

beforeAll(async () => {
  env = await startRegistryEnv();
  source = await env.artifacts.iris('shared-source');
});
afterAll(async () => {
  await env.close();
});

describe('concurrent writes', () => {
  it('gives 20 parallel version creates the numbers 1..20, each exactly once', async () => {
    await env.registry.createRegisteredModel({ name: 'burst' });
    const created = await Promise.all(
      Array.from({ length: 20 }, () => env.registry.createModelVersion({ name: 'burst', source })),
    );
    const numbers = created.map((v) => v.version).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const stored = await env.registry.searchModelVersions({ filter: "name = 'burst'" });
    expect(stored.items.map((v) => v.version).sort((a, b) => a - b)).toEqual(numbers);
    expect((await env.registry.getRegisteredModel('burst')).latestVersionNumber).toBe(20);
  });

  it('loses no stage transition when many run at once', async () => {
    await env.registry.createRegisteredModel({ name: 'stages' });
    for (let i = 0; i < 12; i++) await env.registry.createModelVersion({ name: 'stages', source });
    await env.bus.drained();
    const target = (v: number) => (['Staging', 'Production', 'Archived'] as const)[v % 3] as string;
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        env.registry.transitionModelVersionStage('stages', i + 1, target(i + 1), false),
      ),
    );
    for (let v = 1; v <= 12; v++) {
      expect((await env.registry.getModelVersion('stages', v)).currentStage).toBe(target(v));
    }
  });

  it('loses no alias when many are set at once, and a contested alias ends on one of its writers', async () => {
    await env.registry.createRegisteredModel({ name: 'aliases' });
    for (let i = 0; i < 5; i++) await env.registry.createModelVersion({ name: 'aliases', source });
    await env.bus.drained();
    await Promise.all([
      ...Array.from({ length: 15 }, (_, i) => env.registry.setAlias('aliases', `a${i}`, (i % 5) + 1)),
      ...Array.from({ length: 5 }, (_, i) => env.registry.setAlias('aliases', 'contested', i + 1)),
    ]);
    const model = await env.registry.getRegisteredModel('aliases');
    for (let i = 0; i < 15; i++) expect(model.aliases[`a${i}`]).toBe((i % 5) + 1);
    expect([1, 2, 3, 4, 5]).toContain(model.aliases.contested);
  });

  it('loses no tag when many are set on one model and one version at once', async () => {
    await env.registry.createRegisteredModel({ name: 'tags' });
    await env.registry.createModelVersion({ name: 'tags', source });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => [
        env.registry.setRegisteredModelTag('tags', `k${i}`, `v${i}`),
        env.registry.setModelVersionTag('tags', 1, `k${i}`, `v${i}`),
      ]).flat(),
    );
    const expected = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, `v${i}`]));
    expect((await env.registry.getRegisteredModel('tags')).tags).toEqual(expected);
    expect((await env.registry.getModelVersion('tags', 1)).tags).toEqual(expected);
  });

  it('lets exactly one of many parallel creates of one model name win', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => env.registry.createRegisteredModel({ name: 'race', description: `${i}` })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(9);
  });

  it('lets exactly one of two parallel renames onto the same name win', async () => {
    await env.registry.createRegisteredModel({ name: 'r1' });
    await env.registry.createRegisteredModel({ name: 'r2' });
    const results = await Promise.allSettled([
      env.registry.renameRegisteredModel('r1', 'target'),
      env.registry.renameRegisteredModel('r2', 'target'),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const page = await env.registry.searchRegisteredModels({ filter: "name LIKE 'r%'" });
    expect(page.items.map((m) => m.name).filter((n) => ['r1', 'r2'].includes(n))).toHaveLength(1);
  });
});

describe('concurrent archiving transitions', () => {
  it('leaves exactly one version in Production when ten move there at once, archiving the rest', async () => {
    await env.registry.createRegisteredModel({ name: 'promote' });
    for (let i = 0; i < 10; i++) await env.registry.createModelVersion({ name: 'promote', source });
    await env.bus.drained();
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        env.registry.transitionModelVersionStage('promote', i + 1, 'Production', true),
      ),
    );
    const stages = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => (await env.registry.getModelVersion('promote', i + 1)).currentStage),
    );
    expect(stages.filter((s) => s === 'Production')).toHaveLength(1);
    expect(stages.filter((s) => s === 'Archived')).toHaveLength(9);
  });
});
