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
  while ((await twin.registry.modelServingStatus('iris')).state !== 'READY' && Date.now() < deadline) {
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
