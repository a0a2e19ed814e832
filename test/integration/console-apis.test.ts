/**
 * The APIs the web console reads, through the local twin's gateway and the real handlers: who
 * the caller is and its level on a model, compute sizes with prices, what a version's artifact
 * holds (flavors, signature) and its input example as a scoring request — which, sent to the
 * served version, scores.
 */
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSION_LEVELS, type PermissionLevel } from '../../core/auth/levels';
import { COMPUTE_SIZES } from '../../core/registry/model';
import { perModelCost, total } from '../../infra/cost/estimate';
import { PRICES } from '../../infra/cost/prices';
import type { MyPermissionResponse, WhoAmIResponse } from '../../lambdas/access/responses';
import type { InputExampleResponse, ModelInfoResponse } from '../../lambdas/registry/responses';
import type { ComputeSizesResponse } from '../../lambdas/serving/responses';
import { computeSizes } from '../../lambdas/serving/routes';
import { eventually } from '../helpers/eventually';
import { IRIS_MODEL, REPO_ROOT } from '../helpers/paths';
import { startTestTwin, type TestTwin } from '../helpers/twin';

const MLFLOW = '/api/2.0/mlflow';
const ONNX_DEMO = path.join(REPO_ROOT, 'twin/demo/iris-onnx');
const PRINCIPALS: Record<string, PermissionLevel | undefined> = {
  reader: 'CAN_READ',
  editor: 'CAN_EDIT',
  stager: 'CAN_MANAGE_STAGING_VERSIONS',
  producer: 'CAN_MANAGE_PRODUCTION_VERSIONS',
  manager: 'CAN_MANAGE',
  stranger: undefined,
};

let twin: TestTwin;
const tokens: Record<string, { secret: string; id: string }> = {};
const as = (principal: string, method: string, apiPath: string, params?: unknown) =>
  twin.call(method, apiPath, params, { Authorization: `Bearer ${tokens[principal]?.secret}` });

/** Copies a model directory into the twin's artifact store, changing or adding files; returns its source URI. */
async function artifact(name: string, from: string, files: Record<string, string> = {}): Promise<string> {
  const dir = path.join(twin.artifactDir, name);
  await cp(from, dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) await writeFile(path.join(dir, file), content);
  return pathToFileURL(dir).href;
}

/** Registers a version of `model` (made if needed) from `source`; waits for its registration check. */
async function register(model: string, source: string): Promise<number> {
  await twin.registry.createRegisteredModel({ name: model }).catch(() => undefined);
  const v = await twin.registry.createModelVersion({ name: model, source });
  await twin.bus.drained();
  return v.version;
}

const ONNX_MLMODEL = () => readFile(path.join(ONNX_DEMO, 'MLmodel'), 'utf8');
const IRIS_MLMODEL = () => readFile(path.join(IRIS_MODEL, 'MLmodel'), 'utf8');
/** The iris MLmodel as an MLflow that wrote no serving_input_example.json would have it. */
const withoutServingInput = (mlmodel: string) => mlmodel.replace(/\n {2}serving_input_path: [^\n]+/, '');

beforeAll(async () => {
  twin = await startTestTwin();
  await twin.registry.createRegisteredModel({ name: 'iris' });
  for (const [principal, level] of Object.entries(PRINCIPALS)) {
    const created = await twin.call('POST', '/api/2.0/tokens/create', { principal });
    expect(created.status).toBe(200);
    const info = created.json.token_info as { token_id: string };
    tokens[principal] = { secret: created.json.token_value as string, id: info.token_id };
    if (level) await twin.access.updatePermissions('iris', [{ principal, level }], PERMISSION_LEVELS);
  }
  // 1: MLflow 2.17.2's iris model as saved (serving_input_example.json and input_example.json).
  await register('iris', await artifact('iris-1', IRIS_MODEL));
  // 2: the ONNX demo (tensors, no input example).
  await register('iris', await artifact('iris-2', ONNX_DEMO));
}, 60_000);

afterAll(async () => {
  await twin?.close();
});

describe('whoami', () => {
  it('names the caller, whether it is an admin, and its token', async () => {
    const admin = await twin.call('GET', '/api/2.0/tokens/whoami');
    expect(admin.status).toBe(200);
    const me = admin.json as unknown as WhoAmIResponse;
    expect(me).toMatchObject({ principal: 'admin', admin: true });
    expect(me.token_id).toMatch(/^[0-9a-f]{16}$/);
    expect((await as('reader', 'GET', '/api/2.0/tokens/whoami')).json).toEqual({
      principal: 'reader',
      admin: false,
      token_id: tokens.reader?.id,
    });
  });

  it('answers 401 without a valid token', async () => {
    const res = await twin.call('GET', '/api/2.0/tokens/whoami', undefined, { Authorization: 'Bearer nope' });
    expect(res.status).toBe(401);
    expect(res.json.error_code).toBe('UNAUTHENTICATED');
  });
});

describe('get-my-permission', () => {
  const mine = (principal: string, name: string) =>
    as(principal, 'GET', '/api/2.0/permissions/registered-models/get-my-permission', { name });

  it.each(Object.entries(PRINCIPALS))('%s gets its own level on the model (%s)', async (principal, level) => {
    const res = await mine(principal, 'iris');
    expect(res.status).toBe(200);
    expect(res.json as unknown as MyPermissionResponse).toEqual({ permission_level: level ?? null });
  });

  it('gives an admin CAN_MANAGE on every model, and 404 for a model that does not exist', async () => {
    const path = '/api/2.0/permissions/registered-models/get-my-permission';
    expect((await twin.call('GET', path, { name: 'iris' })).json).toEqual({ permission_level: 'CAN_MANAGE' });
    const missing = await twin.call('GET', path, { name: 'nope' });
    expect(missing.status).toBe(404);
    expect(missing.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('tells others no more about a model that does not exist than a 403 would: null', async () => {
    expect((await mine('reader', 'nope')).json).toEqual({ permission_level: null });
  });

  it('checks the name as every route does', async () => {
    const res = await mine('reader', 'a/b');
    expect(res.status).toBe(400);
    expect(res.json.error_code).toBe('INVALID_PARAMETER_VALUE');
  });
});

describe('list-compute-sizes', () => {
  it('lists every preset with its monthly price from the same table and function as npm run cost (lean in the twin)', async () => {
    const res = await as('stranger', 'GET', '/api/2.0/preview/mlflow/endpoints/list-compute-sizes');
    expect(res.status).toBe(200);
    const body = res.json as unknown as ComputeSizesResponse;
    expect(body.prices).toEqual({ region: PRICES.region, recorded: PRICES.recorded });
    expect(body.network_profile).toBe('lean');
    expect(body.compute_sizes.map((s) => s.name)).toEqual(Object.keys(COMPUTE_SIZES));
    expect(body.compute_sizes[0]).toEqual({ name: 'Small', vcpu: 0.5, memory_mib: 1024, estimated_monthly_usd: 25.87 });
    for (const size of body.compute_sizes) {
      expect(size.estimated_monthly_usd).toBe(total(perModelCost(size.name, true)));
      expect(size.vcpu * 1024).toBe(COMPUTE_SIZES[size.name].cpu);
    }
  });

  it('leaves the public IPv4 address out of a hardened deployment’s prices', () => {
    const hardened = computeSizes('hardened');
    const lean = computeSizes('lean');
    expect(hardened[0]?.estimated_monthly_usd).toBe(22.22);
    for (const [i, size] of hardened.entries()) {
      expect(size.estimated_monthly_usd).toBeCloseTo((lean[i]?.estimated_monthly_usd ?? 0) - 3.65, 2);
    }
  });
});

describe('get-model-info', () => {
  const info = (name: string, version: string | number, principal?: string) =>
    principal
      ? as(principal, 'GET', `${MLFLOW}/model-versions/get-model-info`, { name, version })
      : twin.call('GET', `${MLFLOW}/model-versions/get-model-info`, { name, version });

  it("reads MLflow 2.17.2's iris model: flavors, version, a column signature, an example", async () => {
    const res = await info('iris', 1, 'reader');
    expect(res.status).toBe(200);
    const column = (name: string) => ({ name, type: 'double', required: true });
    expect(res.json as unknown as ModelInfoResponse).toEqual({
      model_info: {
        flavors: ['python_function', 'sklearn'],
        mlflow_version: '2.17.2',
        signature: {
          inputs: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].map(column),
          outputs: [{ type: 'tensor', dtype: 'int64', shape: [-1] }],
          params: [],
        },
        has_input_example: true,
      },
    });
  });

  it('reads a tensor signature with named outputs, and a version logged without an example', async () => {
    const res = await info('iris', 2);
    expect(res.json).toEqual({
      model_info: {
        flavors: ['onnx', 'python_function'],
        mlflow_version: '2.17.2',
        signature: {
          inputs: [{ type: 'tensor', dtype: 'float32', shape: [-1, 4] }],
          outputs: [
            { name: 'label', type: 'tensor', dtype: 'int64', shape: [-1] },
            { name: 'probabilities', type: 'tensor', dtype: 'float32', shape: [-1, 3] },
          ],
          params: [],
        },
        has_input_example: false,
      },
    });
  });

  it('spells out nested column types, optional columns and inference params', async () => {
    const signature = [
      'signature:',
      `  inputs: '[{"type": "string", "name": "text", "required": true}, {"type": "array", "items": {"type": "double"}, "name": "scores", "required": false}, {"type": "object", "properties": {"a": {"type": "long", "required": true}, "b": {"type": "string", "required": false}}, "name": "meta", "required": true}, {"type": "map", "values": {"type": "double"}, "name": "weights"}]'`,
      `  outputs: '[{"type": "string", "required": true}]'`,
      `  params: '[{"name": "temperature", "type": "float", "default": 0.5, "shape": null}, {"name": "stop", "type": "string", "default": ["x"], "shape": [-1]}]'`,
    ].join('\n');
    const mlmodel = (await IRIS_MLMODEL()).replace(/signature:[\s\S]*?(?=utc_time_created)/, `${signature}\n`);
    const version = await register('nested', await artifact('nested', IRIS_MODEL, { MLmodel: mlmodel }));
    const res = await info('nested', version);
    expect(res.status).toBe(200);
    expect((res.json as unknown as ModelInfoResponse).model_info.signature).toEqual({
      inputs: [
        { name: 'text', type: 'string', required: true },
        { name: 'scores', type: 'array<double>', required: false },
        { name: 'meta', type: 'object<a: long, b?: string>', required: true },
        { name: 'weights', type: 'map<string, double>', required: true },
      ],
      outputs: [{ type: 'string', required: true }],
      params: [
        { name: 'temperature', type: 'float', default: 0.5 },
        { name: 'stop', type: 'string', default: ['x'], shape: [-1] },
      ],
    });
  });

  it('answers INVALID_STATE for a version that is not READY, 404 for none, 403 without CAN_READ', async () => {
    const failed = await register(
      'broken',
      await artifact('broken', IRIS_MODEL, { MLmodel: 'flavors:\n  spark: {}\n' }),
    );
    expect((await twin.registry.getModelVersion('broken', failed)).status).toBe('FAILED_REGISTRATION');
    const res = await info('broken', failed);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      error_code: 'INVALID_STATE',
      message: `Version ${failed} of model 'broken' is FAILED_REGISTRATION, not READY: its artifact did not pass the registration check.`,
    });
    expect((await info('iris', 9)).status).toBe(404);
    const denied = await info('iris', 1, 'stranger');
    expect(denied.status).toBe(403);
    expect(denied.json.error_code).toBe('PERMISSION_DENIED');
  });
});

describe('get-input-example', () => {
  const example = (name: string, version: string | number, principal?: string) =>
    principal
      ? as(principal, 'GET', `${MLFLOW}/model-versions/get-input-example`, { name, version })
      : twin.call('GET', `${MLFLOW}/model-versions/get-input-example`, { name, version });

  it("answers MLflow's serving_input_example.json as it was saved", async () => {
    const res = await example('iris', 1, 'reader');
    expect(res.status).toBe(200);
    expect(res.json as unknown as InputExampleResponse).toEqual({
      input_example: JSON.parse(await readFile(path.join(IRIS_MODEL, 'serving_input_example.json'), 'utf8')),
    });
  });

  it('prefers serving_input_example.json to converting input_example.json', async () => {
    const serving = { dataframe_records: [{ sepal_length: 1 }], params: { marker: 'serving file' } };
    const version = await register(
      'prefer',
      await artifact('prefer', IRIS_MODEL, { 'serving_input_example.json': JSON.stringify(serving) }),
    );
    expect((await example('prefer', version)).json).toEqual({ input_example: serving });
  });

  it.each([
    [
      'a split DataFrame (as MLflow before 2.16 saved it)',
      { type: 'dataframe', pandas_orient: 'split' },
      { columns: ['a', 'b'], data: [[1, 2]] },
      { dataframe_split: { columns: ['a', 'b'], data: [[1, 2]] } },
    ],
    [
      'a DataFrame in records orient',
      { type: 'dataframe', pandas_orient: 'records' },
      [{ a: 1, b: 2 }],
      { dataframe_records: [{ a: 1, b: 2 }] },
    ],
    [
      'a DataFrame without column names (values)',
      { type: 'dataframe', pandas_orient: 'values' },
      { data: [[1, 2]] },
      { dataframe_split: { data: [[1, 2]] } },
    ],
    [
      'a tensor with params',
      { type: 'ndarray', format: 'tf-serving', params: 'true' },
      { inputs: { inputs: [[1, 2]] }, params: { top_k: 3 } },
      { inputs: [[1, 2]], params: { top_k: 3 } },
    ],
    [
      'named tensors',
      { type: 'ndarray', format: 'tf-serving' },
      { inputs: { x: [1], y: [2] } },
      { inputs: { x: [1], y: [2] } },
    ],
    ['a JSON object', { type: 'json_object' }, { question: 'why?' }, { inputs: { question: 'why?' } }],
    [
      'a chat request with params',
      { type: 'json_object', params: 'true' },
      { inputs: { messages: [{ role: 'user', content: 'hi' }] }, params: { temperature: 0.1 } },
      { messages: [{ role: 'user', content: 'hi' }], temperature: 0.1 },
    ],
  ])('converts input_example.json holding %s', async (_what, info, saved, expected) => {
    const lines = Object.entries({ artifact_path: 'input_example.json', ...info }).map(([k, v]) => `  ${k}: ${v}`);
    const mlmodel = (await IRIS_MLMODEL()).replace(
      /saved_input_example_info:\n(?: {2}[^\n]+\n)+/,
      `saved_input_example_info:\n${lines.join('\n')}\n`,
    );
    const name = `convert-${Math.random().toString(36).slice(2, 8)}`;
    // MLmodel names no serving input: the fixture's serving_input_example.json, still in the folder, is not read.
    const version = await register(
      name,
      await artifact(name, IRIS_MODEL, { MLmodel: mlmodel, 'input_example.json': JSON.stringify(saved) }),
    );
    const res = await example(name, version);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ input_example: expected });
  });

  it('says a version was logged without an input example (404)', async () => {
    const res = await example('iris', 2);
    expect(res.status).toBe(404);
    expect(res.json).toEqual({
      error_code: 'RESOURCE_DOES_NOT_EXIST',
      message: "Version 2 of model 'iris' was logged without an input example.",
    });
  });

  it('says why a sparse-matrix example is no request (404), and model info agrees', async () => {
    const mlmodel = (await IRIS_MLMODEL()).replace(
      /saved_input_example_info:\n(?: {2}[^\n]+\n)+/,
      'saved_input_example_info:\n  artifact_path: input_example.json\n  type: sparse_matrix_csr\n',
    );
    const version = await register(
      'sparse',
      await artifact('sparse', IRIS_MODEL, {
        MLmodel: mlmodel,
        'input_example.json': '{"data": [1.0], "indices": [0], "indptr": [0, 1], "shape": [1, 4]}',
      }),
    );
    const res = await example('sparse', version);
    expect(res.status).toBe(404);
    expect(res.json.message).toBe(
      `Version ${version} of model 'sparse' has no input example a scoring request can carry: it is a CSR sparse matrix.`,
    );
    const modelInfo = await twin.call('GET', `${MLFLOW}/model-versions/get-model-info`, { name: 'sparse', version });
    expect((modelInfo.json as unknown as ModelInfoResponse).model_info.has_input_example).toBe(false);
  });

  it('refuses an example over 1 MiB with a clear 400, in either file', async () => {
    const big = JSON.stringify({ columns: ['a'], data: Array.from({ length: 200_000 }, (_, i) => [i]) });
    expect(big.length).toBeGreaterThan(1024 * 1024);
    const converted = await register(
      'big',
      await artifact('big', IRIS_MODEL, {
        MLmodel: withoutServingInput(await IRIS_MLMODEL()),
        'input_example.json': big,
      }),
    );
    const res = await example('big', converted);
    expect(res.status).toBe(400);
    expect(res.json.error_code).toBe('INVALID_STATE');
    expect(res.json.message).toBe(
      `The input example of version ${converted} of model 'big' (input_example.json, ${big.length} bytes) is larger than the 1 MiB this API returns; read it from the version's artifact (model-versions/get-download-uri).`,
    );
    const serving = await register(
      'big',
      await artifact('big-2', IRIS_MODEL, { 'serving_input_example.json': `{"dataframe_split": ${big}}` }),
    );
    const res2 = await example('big', serving);
    expect(res2.status).toBe(400);
    expect(res2.json.message).toMatch(/\(serving_input_example\.json, \d+ bytes\) is larger than the 1 MiB/);
  });

  it('answers 403 without CAN_READ and INVALID_STATE for a version that is not READY', async () => {
    expect((await example('iris', 1, 'stranger')).status).toBe(403);
    const failed = await register('broken2', await artifact('broken2', IRIS_MODEL, { MLmodel: 'flavors: {}\n' }));
    const res = await example('broken2', failed);
    expect(res.status).toBe(400);
    expect(res.json.error_code).toBe('INVALID_STATE');
  });

  it('gives a body the served version scores (Load Example, then Send Request)', async () => {
    const mlmodel = `${await ONNX_MLMODEL()}saved_input_example_info:\n  artifact_path: input_example.json\n  format: tf-serving\n  type: ndarray\n`;
    const version = await register(
      'served',
      await artifact('served', ONNX_DEMO, {
        MLmodel: mlmodel,
        'input_example.json': JSON.stringify({ inputs: [[5.1, 3.5, 1.4, 0.2]] }),
      }),
    );
    expect(
      (await twin.call('POST', '/api/2.0/preview/mlflow/endpoints/enable', { registered_model_name: 'served' })).status,
    ).toBe(200);
    await eventually(async () => expect((await twin.serving.modelServingStatus('served')).state).toBe('READY'), 60_000);
    const loaded = (await example('served', version)).json as unknown as InputExampleResponse;
    expect(loaded.input_example).toEqual({ inputs: [[5.1, 3.5, 1.4, 0.2]] });
    const scored = await fetch(`${twin.url}/model/served/${version}/invocations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...twin.adminAuth },
      body: JSON.stringify(loaded.input_example),
    });
    expect(scored.status).toBe(200);
    expect(((await scored.json()) as { predictions: { label: number[] } }).predictions.label).toEqual([0]);
  }, 90_000);
});
