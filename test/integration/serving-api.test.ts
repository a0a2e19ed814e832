/**
 * The serving API's answers and errors, through the twin's gateway and the real Lambda handler,
 * for a model whose serving the twin deploys.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTokenSecret } from '../../core/auth/secrets';
import { startTwin, type Twin } from '../../twin/twin';
import { IRIS_MODEL } from '../helpers/paths';
import { call } from '../helpers/twin';

const API = '/api/2.0/preview/mlflow/endpoints';
let twin: Twin;
let home: string;
const ADMIN = newTokenSecret();
const auth = { Authorization: `Bearer ${ADMIN}` };
const api = (method: string, endpoint: string, params?: unknown) =>
  call(twin.url, method, `${API}/${endpoint}`, params, auth);

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'mlserve-serving-api-'));
  twin = await startTwin({ home, port: 0, deployWaitMs: 20, reconcileMs: 0, adminToken: ADMIN });
  await twin.registry.createRegisteredModel({ name: 'iris' });
  await twin.registry.createRegisteredModel({ name: 'idle' });
  const dir = path.join(twin.artifactDir, 'iris');
  await cp(IRIS_MODEL, dir, { recursive: true });
  await twin.registry.createModelVersion({ name: 'iris', source: pathToFileURL(dir).href });
  await twin.bus.drained();
  await twin.registry.transitionModelVersionStage('iris', 1, 'Production', false);
  await twin.registry.setAlias('iris', 'champion', 1);
  expect((await api('POST', 'enable', { registered_model_name: 'iris' })).status).toBe(200);
  const deadline = Date.now() + 60_000;
  while ((await twin.serving.modelServingStatus('iris')).state !== 'READY' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await fetch(`${twin.url}/model/iris/1/invocations`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...auth },
    body: JSON.stringify({
      inputs: { sepal_length: [5.1], sepal_width: [3.5], petal_length: [1.4], petal_width: [0.2] },
    }),
  });
}, 90_000);

afterAll(async () => {
  await twin?.close();
  await rm(home, { recursive: true, force: true });
});

describe('serving API answers', () => {
  it('get-status: the model state, compute size and tags', async () => {
    const res = await api('GET', 'get-status', { registered_model_name: 'iris' });
    expect(res.json).toEqual({
      endpoint_status: {
        registered_model_name: 'iris',
        state: 'ENDPOINT_STATE_READY',
        message: 'serving 1 live version(s)',
        enabled: true,
        compute_size: 'Small',
        tags: [],
      },
    });
    const idle = await api('GET', 'get-status', { registered_model_name: 'idle' });
    expect(idle.json).toMatchObject({ endpoint_status: { state: 'ENDPOINT_STATE_STOPPED', enabled: false } });
  });

  it('list: every model whose serving was enabled', async () => {
    expect((await api('GET', 'list')).json).toEqual({
      endpoints: [
        { registered_model_name: 'iris', state: 'ENDPOINT_STATE_READY', message: 'serving 1 live version(s)' },
      ],
    });
  });

  it('list-versions: each live version with its state and scoring URIs', async () => {
    expect((await api('GET', 'list-versions', { registered_model_name: 'iris' })).json).toEqual({
      endpoint_versions: [
        {
          endpoint_version_name: '1',
          state: 'VERSION_STATE_READY',
          message: '',
          scoring_uris: [
            '/model/iris/1/invocations',
            '/model/iris/Production/invocations',
            '/model/iris/@champion/invocations',
          ],
        },
      ],
    });
  });

  it('list-version-aliases: stages and aliases with the versions holding them', async () => {
    expect((await api('GET', 'list-version-aliases', { registered_model_name: 'iris' })).json).toEqual({
      aliases: [
        { alias: 'Production', endpoint_version_name: '1' },
        { alias: '@champion', endpoint_version_name: '1' },
      ],
    });
  });

  it('get-event-history: model and version events, newest first, with timestamps', async () => {
    const events = (await api('GET', 'get-event-history', { registered_model_name: 'iris' })).json.events as {
      timestamp: number;
      event_type: string;
      endpoint_version_name?: string;
    }[];
    const types = events.map((e) => e.event_type);
    expect(types).toEqual(expect.arrayContaining(['SERVING_ENABLED', 'MODEL_READY', 'VERSION_LOADED']));
    const times = events.map((e) => e.timestamp);
    expect(times).toEqual([...times].sort((a, b) => b - a));
    const v1 = (await api('GET', 'get-event-history', { registered_model_name: 'iris', endpoint_version_name: '1' }))
      .json.events as { endpoint_version_name: string }[];
    expect(v1.length).toBeGreaterThan(0);
    expect(v1.every((e) => e.endpoint_version_name === '1')).toBe(true);
  });

  it('get-version-logs: the version’s log lines from its serving task', async () => {
    const res = await api('GET', 'get-version-logs', { registered_model_name: 'iris', endpoint_version_name: '1' });
    expect(res.status).toBe(200);
    expect(typeof res.json.logs).toBe('string');
  });

  it('get-metric-history: request counts and latency per version', async () => {
    const res = await api('GET', 'get-metric-history', { registered_model_name: 'iris' });
    const metrics = res.json.metrics as { endpoint_version_name: string; requests: number }[];
    expect(metrics[0]).toMatchObject({ endpoint_version_name: '1' });
    expect(metrics[0]?.requests).toBeGreaterThanOrEqual(1);
  });
});

describe('serving API errors', () => {
  it.each([
    ['enable an unknown model', 'POST', 'enable', { registered_model_name: 'nope' }, 404, 'RESOURCE_DOES_NOT_EXIST'],
    ['enable without a name', 'POST', 'enable', {}, 400, 'INVALID_PARAMETER_VALUE'],
    ['enable with a number for a name', 'POST', 'enable', { registered_model_name: 7 }, 400, 'INVALID_PARAMETER_VALUE'],
    [
      'status of an unknown model',
      'GET',
      'get-status',
      { registered_model_name: 'nope' },
      404,
      'RESOURCE_DOES_NOT_EXIST',
    ],
    [
      'logs of an unknown version',
      'GET',
      'get-version-logs',
      { registered_model_name: 'iris', endpoint_version_name: '9' },
      404,
      'RESOURCE_DOES_NOT_EXIST',
    ],
    [
      'logs with a bad version',
      'GET',
      'get-version-logs',
      { registered_model_name: 'iris', endpoint_version_name: 'x' },
      400,
      'INVALID_PARAMETER_VALUE',
    ],
    [
      'an unknown compute size',
      'POST',
      'update-cluster-config',
      { registered_model_name: 'iris', compute_size: 'Huge' },
      400,
      'INVALID_PARAMETER_VALUE',
    ],
    [
      'a bad tag key',
      'POST',
      'update-cluster-config',
      { registered_model_name: 'iris', tags_to_set: [{ key: '../x', value: 'v' }] },
      400,
      'INVALID_PARAMETER_VALUE',
    ],
    ['a wrong method', 'GET', 'enable', { registered_model_name: 'iris' }, 405, 'BAD_REQUEST'],
    ['an unknown endpoint', 'GET', 'nope', {}, 404, 'ENDPOINT_NOT_FOUND'],
  ])('%s', async (_label, method, endpoint, params, status, code) => {
    const res = await api(method, endpoint, params);
    expect(res.status).toBe(status);
    expect(res.json.error_code).toBe(code);
    expect(typeof res.json.message).toBe('string');
  });

  it('refuses to delete or rename a model while it is served', async () => {
    const del = await call(twin.url, 'DELETE', '/api/2.0/mlflow/registered-models/delete', { name: 'iris' }, auth);
    expect([del.status, del.json.error_code]).toEqual([400, 'INVALID_STATE']);
    const rename = await call(
      twin.url,
      'POST',
      '/api/2.0/mlflow/registered-models/rename',
      { name: 'iris', new_name: 'x' },
      auth,
    );
    expect([rename.status, rename.json.error_code]).toEqual([400, 'INVALID_STATE']);
  });
});

describe('batching and workers per version (update-cluster-config, get-status)', () => {
  const status = async () =>
    (await api('GET', 'get-status', { registered_model_name: 'iris' })).json.endpoint_status as Record<string, unknown>;
  const taskIds = () => twin.ecs.tasksForModel('iris').map((t) => t.id);
  /** Waits until the deploy runs the change triggered have finished, and the tasks settled. */
  const converged = async () => {
    await twin.bus.drained();
    await twin.deployments.idle();
    await twin.ecs.settled();
  };

  it('sets them for the running task: same revision, same task, READY throughout; get-status shows them', async () => {
    await converged();
    const revision = (await twin.serving.modelServingStatus('iris')).config?.revision;
    const tasks = taskIds();
    expect(tasks).toHaveLength(1);
    const res = await api('POST', 'update-cluster-config', {
      registered_model_name: 'iris',
      batching: { enabled: true, max_batch_rows: 64, max_wait_ms: 5 },
      workers_per_version: 4,
    });
    expect([res.status, res.json]).toEqual([200, {}]);
    expect(await status()).toMatchObject({
      state: 'ENDPOINT_STATE_READY',
      compute_size: 'Small',
      batching: { enabled: true, max_batch_rows: 64, max_wait_ms: 5 },
      workers_per_version: 4,
    });
    await converged();
    expect((await twin.serving.modelServingStatus('iris')).config?.revision).toBe(revision);
    expect(taskIds()).toEqual(tasks);
    expect((await status()).state).toBe('ENDPOINT_STATE_READY');
    expect((await twin.serving.servingSnapshot('iris')).serving).toMatchObject({
      batching: { enabled: true, maxBatchRows: 64, maxWaitMs: 5 },
      workersPerVersion: 4,
    });
    const events = (await api('GET', 'get-event-history', { registered_model_name: 'iris' })).json.events as {
      event_type: string;
      message: string;
    }[];
    expect(events.find((e) => e.event_type === 'SERVING_RECONFIGURED')?.message).toMatch(
      /batching \{"enabled":true,"max_batch_rows":64,"max_wait_ms":5\}, workers per version 4 \(applied by the running task; no new task\)$/,
    );
  }, 60_000);

  it('changes only the fields sent; null sends a field back to the default', async () => {
    await api('POST', 'update-cluster-config', { registered_model_name: 'iris', batching: { max_wait_ms: 0 } });
    expect(await status()).toMatchObject({
      batching: { enabled: true, max_batch_rows: 64, max_wait_ms: 0 },
      workers_per_version: 4,
    });
    const res = await api('POST', 'update-cluster-config', {
      registered_model_name: 'iris',
      batching: { enabled: null, max_batch_rows: null },
      workers_per_version: null,
    });
    expect(res.status).toBe(200);
    const now = await status();
    expect(now.batching).toEqual({ max_wait_ms: 0 });
    expect(now).not.toHaveProperty('workers_per_version');
    await api('POST', 'update-cluster-config', { registered_model_name: 'iris', batching: null });
    expect(await status()).not.toHaveProperty('batching');
  });

  it.each([
    [{ batching: { max_batch_rows: 0 } }, "'batching.max_batch_rows': use a whole number of rows from 1 to 10000"],
    [{ batching: { max_batch_rows: 10_001 } }, 'Invalid value 10001'],
    [{ batching: { max_wait_ms: 101 } }, "'batching.max_wait_ms': use a whole number of milliseconds from 0 to 100"],
    [{ batching: { max_wait_ms: 2.5 } }, 'Invalid value 2.5'],
    [{ batching: { enabled: 'yes' } }, "'batching.enabled': use true or false"],
    [{ batching: { max_batch_size: 8 } }, "Unknown field 'max_batch_size' in parameter 'batching'"],
    [{ batching: 'on' }, 'Invalid value "on" for parameter \'batching\': use an object'],
    [{ workers_per_version: 17 }, "'workers_per_version': use a whole number of workers from 1 to 16"],
    [{ workers_per_version: 0 }, 'Invalid value 0'],
    [{ workers_per_version: '4' }, 'Invalid value "4"'],
  ])('refuses %j with a 400 naming the field and its range, changing nothing', async (body, message) => {
    await api('POST', 'update-cluster-config', { registered_model_name: 'iris', workers_per_version: 2 });
    const res = await api('POST', 'update-cluster-config', {
      registered_model_name: 'iris',
      compute_size: 'Medium',
      ...body,
    });
    expect([res.status, res.json.error_code]).toEqual([400, 'INVALID_PARAMETER_VALUE']);
    expect(res.json.message).toContain(message);
    expect(await status()).toMatchObject({ compute_size: 'Small', workers_per_version: 2 });
  });

  it('needs CAN_MANAGE on the model', async () => {
    const tokenOf = async (principal: string, level: string) => {
      const acl = { name: 'iris', access_control_list: [{ principal, permission_level: level }] };
      expect((await call(twin.url, 'POST', '/api/2.0/permissions/registered-models/update', acl, auth)).status).toBe(
        200,
      );
      const created = await call(twin.url, 'POST', '/api/2.0/tokens/create', { principal }, auth);
      return { Authorization: `Bearer ${created.json.token_value as string}` };
    };
    const change = { registered_model_name: 'iris', batching: { max_batch_rows: 8 }, workers_per_version: 3 };
    const editor = await call(
      twin.url,
      'POST',
      `${API}/update-cluster-config`,
      change,
      await tokenOf('ed', 'CAN_EDIT'),
    );
    expect([editor.status, editor.json.error_code]).toEqual([403, 'PERMISSION_DENIED']);
    expect(await status()).not.toMatchObject({ workers_per_version: 3 });
    const owner = await call(
      twin.url,
      'POST',
      `${API}/update-cluster-config`,
      change,
      await tokenOf('own', 'CAN_MANAGE'),
    );
    expect(owner.status).toBe(200);
    expect(await status()).toMatchObject({ batching: { max_batch_rows: 8 }, workers_per_version: 3 });
  });
});
