import { symlink } from 'node:fs/promises';
import path from 'node:path';
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

describe('registered models', () => {
  it('creates a model with tags and description and reads it back', async () => {
    const name = fresh();
    const created = await env.registry.createRegisteredModel({
      name,
      description: 'iris LR',
      tags: [{ key: 'team', value: 'peer' }],
    });
    expect(created.creationTimestamp).toBe(created.lastUpdatedTimestamp);
    const read = await env.registry.getRegisteredModel(name);
    expect(read).toMatchObject({ name, description: 'iris LR', tags: { team: 'peer' }, latestVersions: [] });
  });

  it('refuses a second model with the same name', async () => {
    const name = fresh();
    await env.registry.createRegisteredModel({ name });
    await expectMlflowError(
      env.registry.createRegisteredModel({ name }),
      'RESOURCE_ALREADY_EXISTS',
      new RegExp(`Registered Model \\(name=${name}\\) already exists`),
    );
  });

  it('answers RESOURCE_DOES_NOT_EXIST for an unknown model', async () => {
    await expectMlflowError(
      env.registry.getRegisteredModel('no-such-model'),
      'RESOURCE_DOES_NOT_EXIST',
      /Registered Model with name=no-such-model not found/,
    );
  });

  it('renames a model and carries its versions, tags and aliases along', async () => {
    const name = fresh();
    const newName = fresh('renamed');
    await env.registry.createRegisteredModel({ name, tags: [{ key: 'k', value: 'v' }] });
    const source = await env.artifacts.iris(fresh('src'));
    await env.registry.createModelVersion({ name, source });
    await env.ready(name, 1);
    await env.registry.setAlias(name, 'champion', 1);

    const renamed = await env.registry.renameRegisteredModel(name, newName);

    expect(renamed.name).toBe(newName);
    expect(renamed.tags).toEqual({ k: 'v' });
    expect((await env.registry.getVersionByAlias(newName, 'champion')).version).toBe(1);
    expect((await env.registry.getModelVersion(newName, 1)).name).toBe(newName);
    await expectMlflowError(env.registry.getRegisteredModel(name), 'RESOURCE_DOES_NOT_EXIST');
    // The old name is free again.
    await env.registry.createRegisteredModel({ name });
    expect((await env.registry.getRegisteredModel(name)).latestVersions).toEqual([]);
  });

  it('refuses a rename onto an existing name and changes nothing', async () => {
    const a = fresh();
    const b = fresh();
    await env.registry.createRegisteredModel({ name: a, description: 'a' });
    await env.registry.createRegisteredModel({ name: b, description: 'b' });
    await expectMlflowError(env.registry.renameRegisteredModel(a, b), 'RESOURCE_ALREADY_EXISTS');
    expect((await env.registry.getRegisteredModel(a)).description).toBe('a');
    expect((await env.registry.getRegisteredModel(b)).description).toBe('b');
  });

  it('deletes a model with its versions; a new model of that name starts at version 1', async () => {
    const name = fresh();
    await env.registry.createRegisteredModel({ name });
    const source = await env.artifacts.iris(fresh('src'));
    await env.registry.createModelVersion({ name, source });
    await env.registry.createModelVersion({ name, source });
    await env.bus.drained();

    await env.registry.deleteRegisteredModel(name);

    await expectMlflowError(env.registry.getRegisteredModel(name), 'RESOURCE_DOES_NOT_EXIST');
    const search = await env.registry.searchModelVersions({ filter: `name='${name}'` });
    expect(search.items).toEqual([]);
    await env.registry.createRegisteredModel({ name });
    expect((await env.registry.createModelVersion({ name, source })).version).toBe(1);
  });

  it('sets and deletes model tags; deleting an absent tag succeeds', async () => {
    const name = fresh();
    await env.registry.createRegisteredModel({ name });
    await env.registry.setRegisteredModelTag(name, 'owner', 'peer');
    await env.registry.setRegisteredModelTag(name, 'owner', 'ops');
    expect((await env.registry.getRegisteredModel(name)).tags).toEqual({ owner: 'ops' });
    await env.registry.deleteRegisteredModelTag(name, 'owner');
    await env.registry.deleteRegisteredModelTag(name, 'owner');
    expect((await env.registry.getRegisteredModel(name)).tags).toEqual({});
  });
});

describe('model versions', () => {
  it('registers a version: PENDING_REGISTRATION, then READY with what MLmodel says', async () => {
    const name = fresh();
    await env.registry.createRegisteredModel({ name });
    const source = await env.artifacts.iris(fresh('src'));

    const created = await env.registry.createModelVersion({ name, source, runId: 'abc123', description: 'd' });

    expect(created).toMatchObject({ version: 1, status: 'PENDING_REGISTRATION', currentStage: 'None' });
    const ready = await env.ready(name, 1);
    expect(ready.status).toBe('READY');
    expect(ready.artifact?.mlflowVersion).toBe('2.17.2');
    expect(Object.keys(ready.artifact?.flavors ?? {})).toEqual(['python_function', 'sklearn']);
    expect(ready.artifact?.signature?.inputs).toContain('sepal_length');
    expect(ready.artifact?.inputExamplePath).toBe('input_example.json');
    expect(ready.artifact?.servingInputExamplePath).toBe('serving_input_example.json');
    expect(ready.artifact?.featureSpecPath).toBeUndefined();
  });

  it('records a feature spec found beside MLmodel', async () => {
    const name = fresh();
    await env.registry.createRegisteredModel({ name });
    const source = await env.artifacts.model(fresh('fs'), {
      MLmodel: 'flavors:\n  python_function:\n    loader_module: mlflow.sklearn\nmlflow_version: 2.17.2\n',
      'feature_spec.yaml':
        'lookups:\n  - store: dynamodb\n    table: customers\n    keys: [customer_id]\n    features: [age]\n',
    });
    await env.registry.createModelVersion({ name, source });
    expect((await env.ready(name, 1)).artifact?.featureSpecPath).toBe('feature_spec.yaml');
  });

  it('records the raw model of a Databricks feature store model and its spec', async () => {
    const name = fresh();
    await env.registry.createRegisteredModel({ name });
    const source = await env.artifacts.model(fresh('dbx'), {
      MLmodel:
        'flavors:\n  python_function:\n    loader_module: databricks.feature_store.mlflow_model\n    data: data\nmlflow_version: 2.17.2\n',
      'data/feature_store/feature_spec.yaml':
        'input_columns:\n- customer_id:\n    source: training_data\n- age:\n    table_name: ml.features.customers\n    feature_name: age\n    lookup_key: [customer_id]\n    source: feature_store\nserialization_version: 9\n',
      'data/feature_store/raw_model/MLmodel':
        'flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n  sklearn: {}\n',
    });
    await env.registry.createModelVersion({ name, source });
    const ready = await env.ready(name, 1);
    expect(ready.status).toBe('READY');
    expect(ready.artifact).toMatchObject({
      featureSpecPath: 'data/feature_store/feature_spec.yaml',
      rawModelPath: 'data/feature_store/raw_model',
    });
    expect(Object.keys(ready.artifact?.flavors ?? {})).toEqual(['python_function', 'sklearn']);
  });

  it.each([
    ['no MLmodel', { 'model.pkl': 'x' }, /MLmodel not found/],
    ['unparseable MLmodel', { MLmodel: 'flavors: [unclosed' }, /MLmodel is not valid YAML/],
    ['no flavors', { MLmodel: 'mlflow_version: 2.17.2\n' }, /declares no flavors/],
    [
      'no servable flavor',
      { MLmodel: 'flavors:\n  spark:\n    model_data: sparkml\n' },
      /no servable flavor: MLmodel has \[spark\]/,
    ],
    [
      'a feature spec with an unknown store engine',
      {
        MLmodel: 'flavors:\n  onnx: {}\n',
        'feature_spec.yaml': 'lookups:\n  - store: redis\n    table: t\n    keys: [id]\n    features: [f]\n',
      },
      /feature_spec.yaml is invalid: lookups.0.store/,
    ],
    [
      'a feature spec whose feature is not an identifier',
      {
        MLmodel: 'flavors:\n  onnx: {}\n',
        'feature_spec.yaml':
          'lookups:\n  - store: aurora-mysql\n    table: t\n    keys: [id]\n    features: ["x`; DROP TABLE t"]\n',
      },
      /feature_spec.yaml is invalid: lookups.0.features.0/,
    ],
    [
      'a feature spec that is not YAML',
      { MLmodel: 'flavors:\n  onnx: {}\n', 'feature_spec.yaml': 'lookups: [' },
      /feature_spec.yaml is not valid YAML/,
    ],
    [
      'a Databricks spec with an on-demand feature',
      {
        MLmodel: 'flavors:\n  python_function:\n    loader_module: databricks.feature_store.mlflow_model\n',
        'data/feature_store/raw_model/MLmodel': 'flavors:\n  onnx: {}\n',
        'data/feature_store/feature_spec.yaml':
          'input_columns:\n- x:\n    source: training_data\n- y:\n    udf_name: main.default.f\n    source: on_demand_feature\n',
      },
      /on-demand feature/,
    ],
    [
      'a Databricks model without its raw model',
      {
        MLmodel: 'flavors:\n  python_function:\n    loader_module: databricks.feature_store.mlflow_model\n',
        'data/feature_store/feature_spec.yaml': 'input_columns: []\n',
      },
      /data\/feature_store\/raw_model\/MLmodel not found/,
    ],
  ])('marks a version FAILED_REGISTRATION when the artifact has %s', async (_, files, reason) => {
    const name = fresh();
    await env.registry.createRegisteredModel({ name });
    const source = await env.artifacts.model(fresh('bad'), files);
    await env.registry.createModelVersion({ name, source });
    const failed = await env.ready(name, 1);
    expect(failed.status).toBe('FAILED_REGISTRATION');
    expect(failed.statusMessage).toMatch(reason);
    const event = env.events.find((e) => e.type === 'ModelVersionFailed' && e.modelName === name);
    expect(event).toBeDefined();
  });

  it('fails registration when a file in the artifact links outside it', async () => {
    const name = fresh();
    await env.registry.createRegisteredModel({ name });
    const outside = await env.artifacts.model(fresh('outside'), { MLmodel: 'flavors:\n  onnx: {}\n' });
    const source = await env.artifacts.model(fresh('linky'), {});
    const dir = new URL(source).pathname;
    // A link whose target is elsewhere in the root is refused too: MLmodel must be in the model directory.
    await symlink(path.join(new URL(outside).pathname, 'MLmodel'), path.join(dir, 'MLmodel'));
    await env.registry.createModelVersion({ name, source });
    const failed = await env.ready(name, 1);
    expect(failed.status).toBe('FAILED_REGISTRATION');
    expect(failed.statusMessage).toMatch(/link that leads outside the model directory/);
  });

  it('refuses sources outside the allowed roots and writes nothing', async () => {
    const name = fresh();
    await env.registry.createRegisteredModel({ name });
    for (const source of [
      '/data/peer/models/iris-sklearn',
      'file:///data/peer/models/iris-sklearn',
      's3://example-bucket/models/iris-sklearn',
      'mlflow-artifacts:/1/abc/artifacts/model',
      `${env.artifacts.uri}/../etc`,
      'relative/path',
    ]) {
      await expectMlflowError(
        env.registry.createModelVersion({ name, source }),
        'INVALID_PARAMETER_VALUE',
        /Invalid model version source/,
      );
    }
    const model = await env.registry.getRegisteredModel(name);
    expect(model.latestVersionNumber).toBe(0);
  });

  it('refuses a symlink inside the root that points outside it', async () => {
    const name = fresh();
    await env.registry.createRegisteredModel({ name });
    const link = path.join(env.artifacts.dir, fresh('escape'));
    await symlink('/etc', link);
    await expectMlflowError(
      env.registry.createModelVersion({ name, source: `file://${link}` }),
      'INVALID_PARAMETER_VALUE',
      /outside every allowed source root/,
    );
  });

  it('numbers versions 1, 2, 3 and never reuses a deleted number', async () => {
    const name = fresh();
    await env.registry.createRegisteredModel({ name });
    const source = await env.artifacts.iris(fresh('src'));
    for (let i = 0; i < 3; i++) await env.registry.createModelVersion({ name, source });
    await env.bus.drained();
    await env.registry.deleteModelVersion(name, 3);
    expect((await env.registry.createModelVersion({ name, source })).version).toBe(4);
    await expectMlflowError(
      env.registry.getModelVersion(name, 3),
      'RESOURCE_DOES_NOT_EXIST',
      new RegExp(`Model Version \\(name=${name}, version=3\\) not found`),
    );
  });

  it('updates the description and sets and deletes version tags', async () => {
    const name = fresh();
    await env.registry.createRegisteredModel({ name });
    await env.registry.createModelVersion({ name, source: await env.artifacts.iris(fresh('src')) });
    await env.registry.setModelVersionTag(name, 1, 'validated', 'true');
    const updated = await env.registry.updateModelVersion(name, 1, 'champion LR');
    expect(updated).toMatchObject({ description: 'champion LR', tags: { validated: 'true' } });
    await env.registry.deleteModelVersionTag(name, 1, 'validated');
    expect((await env.registry.getModelVersion(name, 1)).tags).toEqual({});
  });
});

describe('stages and aliases', () => {
  async function modelWithVersions(count: number): Promise<string> {
    const name = fresh();
    await env.registry.createRegisteredModel({ name });
    const source = await env.artifacts.iris(fresh('src'));
    for (let i = 0; i < count; i++) await env.registry.createModelVersion({ name, source });
    await env.bus.drained();
    return name;
  }

  it('transitions in any case and answers the canonical stage', async () => {
    const name = await modelWithVersions(1);
    const moved = await env.registry.transitionModelVersionStage(name, 1, 'production', false);
    expect(moved.currentStage).toBe('Production');
  });

  it('refuses an unknown stage', async () => {
    const name = await modelWithVersions(1);
    await expectMlflowError(
      env.registry.transitionModelVersionStage(name, 1, 'Prod', false),
      'INVALID_PARAMETER_VALUE',
      /Invalid Model Version stage: Prod/,
    );
  });

  it('archives the versions already in the target stage when asked', async () => {
    const name = await modelWithVersions(3);
    await env.registry.transitionModelVersionStage(name, 1, 'Production', false);
    await env.registry.transitionModelVersionStage(name, 2, 'Staging', false);
    await env.registry.transitionModelVersionStage(name, 3, 'Production', true);
    const stages = await Promise.all(
      [1, 2, 3].map(async (v) => (await env.registry.getModelVersion(name, v)).currentStage),
    );
    expect(stages).toEqual(['Archived', 'Staging', 'Production']);
    const moves = env.events.filter((e) => e.type === 'ModelVersionStageChanged' && e.modelName === name);
    expect(moves.map((e) => e.type === 'ModelVersionStageChanged' && [e.version, e.toStage])).toContainEqual([
      1,
      'Archived',
    ]);
  });

  it('gives the latest version per stage, in order of first appearance', async () => {
    const name = await modelWithVersions(3);
    await env.registry.transitionModelVersionStage(name, 2, 'Production', false);
    const latest = await env.registry.getLatestVersions(name);
    expect(latest.map((v) => [v.version, v.currentStage])).toEqual([
      [3, 'None'],
      [2, 'Production'],
    ]);
    const production = await env.registry.getLatestVersions(name, ['PRODUCTION']);
    expect(production.map((v) => v.version)).toEqual([2]);
  });

  it('sets, moves, reads and deletes an alias', async () => {
    const name = await modelWithVersions(2);
    await env.registry.setAlias(name, 'champion', 1);
    await env.registry.setAlias(name, 'champion', 2);
    const holder = await env.registry.getVersionByAlias(name, 'champion');
    expect(holder).toMatchObject({ version: 2, aliases: ['champion'] });
    expect((await env.registry.getModelVersion(name, 1)).aliases).toEqual([]);
    await env.registry.deleteAlias(name, 'champion');
    await expectMlflowError(
      env.registry.getVersionByAlias(name, 'champion'),
      'INVALID_PARAMETER_VALUE',
      /Registered model alias champion not found\./,
    );
  });

  it('removes the aliases of a deleted version', async () => {
    const name = await modelWithVersions(2);
    await env.registry.setAlias(name, 'champion', 2);
    await env.registry.deleteModelVersion(name, 2);
    expect((await env.registry.getRegisteredModel(name)).aliases).toEqual({});
  });

  it('refuses an alias on a version that does not exist', async () => {
    const name = await modelWithVersions(1);
    await expectMlflowError(env.registry.setAlias(name, 'champion', 9), 'RESOURCE_DOES_NOT_EXIST');
  });

  it('resolves scoring references: numbers, stages in any case, and @aliases', async () => {
    const name = await modelWithVersions(3);
    await env.registry.transitionModelVersionStage(name, 1, 'Production', false);
    await env.registry.transitionModelVersionStage(name, 2, 'Staging', false);
    await env.registry.setAlias(name, 'challenger', 3);
    expect((await env.registry.resolveRef(name, '3')).version).toBe(3);
    expect((await env.registry.resolveRef(name, 'production')).version).toBe(1);
    expect((await env.registry.resolveRef(name, 'Staging')).version).toBe(2);
    expect((await env.registry.resolveRef(name, '@challenger')).version).toBe(3);
    await expectMlflowError(env.registry.resolveRef(name, 'Archived'), 'INVALID_PARAMETER_VALUE');
  });
});

describe('search', () => {
  const prefix = 'srch';
  beforeAll(async () => {
    for (const [name, team] of [
      [`${prefix}-alpha`, 'a'],
      [`${prefix}-beta`, 'b'],
      [`${prefix}-Gamma`, 'a'],
    ] as const) {
      await env.registry.createRegisteredModel({ name, tags: [{ key: 'team', value: team }] });
    }
  });

  it('filters models by exact name, LIKE (case-sensitive) and ILIKE', async () => {
    const names = async (filter: string) =>
      (await env.registry.searchRegisteredModels({ filter })).items.map((m) => m.name);
    expect(await names(`name = '${prefix}-beta'`)).toEqual([`${prefix}-beta`]);
    expect(await names(`name LIKE '${prefix}-%a'`)).toEqual([`${prefix}-Gamma`, `${prefix}-alpha`, `${prefix}-beta`]);
    expect(await names(`name LIKE '${prefix}-g%'`)).toEqual([]);
    expect(await names(`name ILIKE '${prefix}-g%'`)).toEqual([`${prefix}-Gamma`]);
  });

  it('filters models by tag', async () => {
    const page = await env.registry.searchRegisteredModels({ filter: `name LIKE '${prefix}%' AND tags.team = 'a'` });
    expect(page.items.map((m) => m.name)).toEqual([`${prefix}-Gamma`, `${prefix}-alpha`]);
  });

  it('orders and pages with tokens until the last page', async () => {
    const seen: string[] = [];
    let pageToken: string | undefined;
    do {
      const page = await env.registry.searchRegisteredModels({
        filter: `name LIKE '${prefix}%'`,
        orderBy: ['name DESC'],
        maxResults: 2,
        pageToken,
      });
      seen.push(...page.items.map((m) => m.name));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(seen).toEqual([`${prefix}-beta`, `${prefix}-alpha`, `${prefix}-Gamma`]);
  });

  it('rejects bad filters, order_by clauses, page tokens and max_results', async () => {
    await expectMlflowError(
      env.registry.searchRegisteredModels({ filter: "name = 'a' OR name = 'b'" }),
      'INVALID_PARAMETER_VALUE',
    );
    await expectMlflowError(
      env.registry.searchRegisteredModels({ filter: 'owner = 1' }),
      'INVALID_PARAMETER_VALUE',
      /invalid attribute key 'owner'/,
    );
    await expectMlflowError(
      env.registry.searchRegisteredModels({ filter: 'name = unquoted' }),
      'INVALID_PARAMETER_VALUE',
    );
    await expectMlflowError(env.registry.searchRegisteredModels({ orderBy: ['size DESC'] }), 'INVALID_PARAMETER_VALUE');
    await expectMlflowError(env.registry.searchRegisteredModels({ pageToken: 'garbage' }), 'INVALID_PARAMETER_VALUE');
    await expectMlflowError(env.registry.searchRegisteredModels({ maxResults: 1001 }), 'INVALID_PARAMETER_VALUE');
  });

  it('finds versions by name, run_id, tag and version number', async () => {
    const name = fresh();
    await env.registry.createRegisteredModel({ name });
    const source = await env.artifacts.iris(fresh('src'));
    await env.registry.createModelVersion({ name, source, runId: 'run1', tags: [{ key: 'k', value: 'x' }] });
    await env.registry.createModelVersion({ name, source, runId: 'run2' });
    await env.registry.createModelVersion({ name, source, runId: 'run1' });
    await env.bus.drained();
    const versions = async (filter: string) =>
      (await env.registry.searchModelVersions({ filter })).items.map((v) => `${v.name}:${v.version}`);
    expect(await versions(`name='${name}'`)).toEqual([`${name}:3`, `${name}:2`, `${name}:1`]);
    expect(await versions("run_id = 'run1'")).toEqual([`${name}:3`, `${name}:1`]);
    expect(await versions("run_id IN ('run2', 'nope')")).toEqual([`${name}:2`]);
    expect(await versions(`name = '${name}' AND tags.k = 'x'`)).toEqual([`${name}:1`]);
    expect(await versions(`name = '${name}' AND version_number >= 2`)).toEqual([`${name}:3`, `${name}:2`]);
  });
});

describe('domain events', () => {
  it('publishes one event per change, in order, with the schema fields', async () => {
    const name = fresh();
    const start = env.events.length;
    await env.registry.createRegisteredModel({ name });
    await env.registry.createModelVersion({ name, source: await env.artifacts.iris(fresh('src')) });
    await env.ready(name, 1);
    await env.registry.transitionModelVersionStage(name, 1, 'Staging', false);
    await env.registry.setAlias(name, 'champion', 1);
    await env.registry.deleteAlias(name, 'champion');
    await env.registry.setRegisteredModelTag(name, 't', 'v');
    await env.registry.deleteModelVersion(name, 1);
    await env.registry.deleteRegisteredModel(name);
    await env.bus.drained();
    const mine = env.events.slice(start).filter((e) => e.modelName === name);
    expect(mine.map((e) => e.type)).toEqual([
      'RegisteredModelCreated',
      'ModelVersionCreated',
      'ModelVersionReady',
      'ModelVersionStageChanged',
      'ModelAliasSet',
      'ModelAliasDeleted',
      'RegisteredModelTagsChanged',
      'ModelVersionDeleted',
      'RegisteredModelDeleted',
    ]);
    for (const e of mine) {
      expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(e.time).toBeGreaterThan(0);
    }
  });
});
