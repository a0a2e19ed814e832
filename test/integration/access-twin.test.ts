/**
 * Tokens and permissions through the local twin's gateway, as users meet them: every
 * permission level against every kind of route, scoring across models, the seeds' curl forms,
 * revocation, listings that show only readable models, and the per-token rate limit.
 */
import { cp } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSION_LEVELS, type PermissionLevel } from '../../core/auth/levels';
import { eventually } from '../helpers/eventually';
import { score } from '../helpers/model-host';
import { IRIS_MODEL } from '../helpers/paths';
import { startTestTwin, type TestTwin } from '../helpers/twin';

const LEVELS = PERMISSION_LEVELS;
type Level = PermissionLevel;
const PRINCIPALS: Record<string, Level | undefined> = {
  reader: 'CAN_READ',
  editor: 'CAN_EDIT',
  stager: 'CAN_MANAGE_STAGING_VERSIONS',
  producer: 'CAN_MANAGE_PRODUCTION_VERSIONS',
  manager: 'CAN_MANAGE',
  stranger: undefined,
};
const ROWS = { inputs: { sepal_length: [5.1], sepal_width: [3.5], petal_length: [1.4], petal_width: [0.2] } };

let twin: TestTwin;
const tokens: Record<string, string> = {};
const bearer = (principal: string) => ({ Authorization: `Bearer ${tokens[principal]}` });
const as = (principal: string, method: string, path: string, params?: unknown) =>
  twin.call(method, path, params, bearer(principal));

beforeAll(async () => {
  twin = await startTestTwin();
  for (const model of ['m', 'other']) {
    expect((await twin.call('POST', '/api/2.0/mlflow/registered-models/create', { name: model })).status).toBe(200);
  }
  await cp(IRIS_MODEL, `${twin.artifactDir}/iris`, { recursive: true });
  for (let i = 0; i < 2; i++) {
    await twin.call('POST', '/api/2.0/mlflow/model-versions/create', {
      name: 'm',
      source: pathToFileURL(`${twin.artifactDir}/iris`).href,
    });
  }
  await twin.bus.drained();
  await twin.call('POST', '/api/2.0/mlflow/model-versions/transition-stage', {
    name: 'm',
    version: '1',
    stage: 'Staging',
  });
  await twin.call('POST', '/api/2.0/mlflow/model-versions/transition-stage', {
    name: 'm',
    version: '2',
    stage: 'Production',
  });
  for (const [principal, level] of Object.entries(PRINCIPALS)) {
    const created = await twin.call('POST', '/api/2.0/tokens/create', {
      principal,
      description: `${principal}'s token`,
    });
    expect(created.status).toBe(200);
    tokens[principal] = created.json.token_value as string;
    if (level) {
      const set = await twin.call('POST', '/api/2.0/permissions/registered-models/update', {
        name: 'm',
        access_control_list: [{ principal, permission_level: level }],
      });
      expect(set.status).toBe(200);
    }
  }
  expect(
    (await twin.call('POST', '/api/2.0/preview/mlflow/endpoints/enable', { registered_model_name: 'm' })).status,
  ).toBe(200);
  await eventually(async () => expect((await twin.serving.modelServingStatus('m')).state).toBe('READY'), 60_000);
}, 120_000);

afterAll(async () => {
  await twin?.close();
});

/** A request of each kind, with the level it needs. All are idempotent, so every principal can try each. */
const MATRIX: [string, Level, string, string, unknown][] = [
  ['read a model', 'CAN_READ', 'GET', '/api/2.0/mlflow/registered-models/get', { name: 'm' }],
  ['read a version', 'CAN_READ', 'GET', '/api/2.0/mlflow/model-versions/get', { name: 'm', version: '1' }],
  [
    'read serving status',
    'CAN_READ',
    'GET',
    '/api/2.0/preview/mlflow/endpoints/get-status',
    { registered_model_name: 'm' },
  ],
  [
    'set a model tag',
    'CAN_EDIT',
    'POST',
    '/api/2.0/mlflow/registered-models/set-tag',
    { name: 'm', key: 'k', value: 'v' },
  ],
  [
    'tag a version',
    'CAN_EDIT',
    'POST',
    '/api/2.0/mlflow/model-versions/set-tag',
    { name: 'm', version: '1', key: 'k', value: 'v' },
  ],
  [
    'move a version to Staging',
    'CAN_MANAGE_STAGING_VERSIONS',
    'POST',
    '/api/2.0/mlflow/model-versions/transition-stage',
    { name: 'm', version: '1', stage: 'Staging' },
  ],
  [
    'move a version to Production',
    'CAN_MANAGE_PRODUCTION_VERSIONS',
    'POST',
    '/api/2.0/mlflow/model-versions/transition-stage',
    { name: 'm', version: '2', stage: 'Production' },
  ],
  [
    'set an alias',
    'CAN_MANAGE_PRODUCTION_VERSIONS',
    'POST',
    '/api/2.0/mlflow/registered-models/alias',
    { name: 'm', alias: 'champion', version: '2' },
  ],
  [
    'change compute and tags',
    'CAN_MANAGE',
    'POST',
    '/api/2.0/preview/mlflow/endpoints/update-cluster-config',
    { registered_model_name: 'm', compute_size: 'Small' },
  ],
  ['enable serving', 'CAN_MANAGE', 'POST', '/api/2.0/preview/mlflow/endpoints/enable', { registered_model_name: 'm' }],
  ['read the permissions', 'CAN_MANAGE', 'GET', '/api/2.0/permissions/registered-models/get', { name: 'm' }],
];

describe('every level on every route class', () => {
  for (const [principal, level] of Object.entries(PRINCIPALS)) {
    it(`${principal} (${level ?? 'no permission'})`, async () => {
      for (const [what, needed, method, path, params] of MATRIX) {
        const allowed = level !== undefined && LEVELS.indexOf(level) >= LEVELS.indexOf(needed);
        const res = await as(principal, method, path, params);
        expect([what, res.status], res.text).toEqual([what, allowed ? 200 : 403]);
        if (!allowed) expect(res.json.error_code).toBe('PERMISSION_DENIED');
      }
    });
  }
});

describe('scoring', () => {
  it("lets anyone who may read the model score it, with the seeds' curl -u token:… and with Bearer", async () => {
    const basic = `Basic ${Buffer.from(`token:${tokens.reader}`).toString('base64')}`;
    const viaBasic = await score(`${twin.url}/model/m/Production/invocations`, ROWS, 'application/json', {
      Authorization: basic,
    });
    expect([viaBasic.status, viaBasic.json]).toEqual([200, { predictions: [0] }]);
    const viaBearer = await score(`${twin.url}/model/m/1/invocations`, ROWS, 'application/json', bearer('reader'));
    expect(viaBearer.status).toBe(200);
  });

  it('refuses a reader of model m on model other (403), and strangers on m', async () => {
    await score(`${twin.url}/model/m/1/invocations`, ROWS, 'application/json', bearer('reader'));
    const other = await score(`${twin.url}/model/other/1/invocations`, ROWS, 'application/json', bearer('reader'));
    expect([other.status, (other.json as { error_code: string }).error_code]).toEqual([403, 'PERMISSION_DENIED']);
    const stranger = await score(`${twin.url}/model/m/1/invocations`, ROWS, 'application/json', bearer('stranger'));
    expect(stranger.status).toBe(403);
  });

  it('answers 401 JSON without a valid token', async () => {
    const refused: Record<string, string>[] = [{}, { Authorization: 'Bearer nope' }, { Authorization: 'Basic !!!' }];
    for (const headers of refused) {
      const res = await score(`${twin.url}/model/m/1/invocations`, ROWS, 'application/json', headers);
      expect([res.status, (res.json as { error_code: string }).error_code]).toEqual([401, 'UNAUTHENTICATED']);
    }
    const api = await twin.call('GET', '/api/2.0/mlflow/registered-models/get', { name: 'm' }, { Authorization: '' });
    expect(api.status).toBe(401);
  });
});

describe('listings and tokens', () => {
  it('shows only the models a principal may read', async () => {
    const names = async (principal: string) =>
      (
        ((await as(principal, 'GET', '/api/2.0/mlflow/registered-models/search', {})).json.registered_models ?? []) as {
          name: string;
        }[]
      ).map((m) => m.name);
    expect(await names('reader')).toEqual(['m']);
    expect(await names('stranger')).toEqual([]);
    expect(
      (await twin.call('GET', '/api/2.0/mlflow/registered-models/search', {})).json.registered_models,
    ).toHaveLength(2);
    const versions = await as('stranger', 'GET', '/api/2.0/mlflow/model-versions/search', {});
    expect(versions.json).toEqual({});
  });

  it('gives the creator of a model CAN_MANAGE on it', async () => {
    expect((await as('stranger', 'POST', '/api/2.0/mlflow/registered-models/create', { name: 'mine' })).status).toBe(
      200,
    );
    const acl = await as('stranger', 'GET', '/api/2.0/permissions/registered-models/get', { name: 'mine' });
    expect(acl.json.access_control_list).toEqual([{ principal: 'stranger', permission_level: 'CAN_MANAGE' }]);
  });

  it('lists tokens without their secrets; a principal sees only its own', async () => {
    const mine = await as('reader', 'GET', '/api/2.0/tokens/list');
    const infos = mine.json.token_infos as { principal: string }[];
    expect(infos.every((t) => t.principal === 'reader')).toBe(true);
    expect(mine.text).not.toContain(tokens.reader);
    expect(mine.text).not.toContain('token_value');
    expect((await as('reader', 'GET', '/api/2.0/tokens/list', { principal: 'manager' })).status).toBe(403);
    expect((await as('reader', 'POST', '/api/2.0/tokens/create', { principal: 'manager' })).status).toBe(403);
  });

  it('stops a revoked token at once', async () => {
    const created = await as('editor', 'POST', '/api/2.0/tokens/create', { description: 'short-lived' });
    const secret = created.json.token_value as string;
    const auth = { Authorization: `Bearer ${secret}` };
    expect((await twin.call('GET', '/api/2.0/mlflow/registered-models/get', { name: 'm' }, auth)).status).toBe(200);
    const id = (created.json.token_info as { token_id: string }).token_id;
    expect((await as('editor', 'POST', '/api/2.0/tokens/revoke', { token_id: id })).status).toBe(200);
    const after = await twin.call('GET', '/api/2.0/mlflow/registered-models/get', { name: 'm' }, auth);
    expect([after.status, after.json.error_code]).toEqual([401, 'UNAUTHENTICATED']);
  });
});

describe('rate limit', () => {
  it('answers 429 JSON past the stage’s limit, whichever token calls', async () => {
    const limited = await startTestTwin({ stageRateLimit: { perSecond: 1, burst: 3 } });
    try {
      const other = await limited.call('POST', '/api/2.0/tokens/create', { description: 'second caller' });
      expect(other.status).toBe(200);
      const secondAuth = { Authorization: `Bearer ${other.json.token_value as string}` };
      const statuses: number[] = [];
      for (let i = 0; i < 2; i++) {
        statuses.push((await limited.call('GET', '/api/2.0/mlflow/registered-models/search', {})).status);
        statuses.push((await limited.call('GET', '/api/2.0/mlflow/registered-models/search', {}, secondAuth)).status);
      }
      // The token creation took one of the burst's 3 requests.
      expect(statuses).toEqual([200, 200, 429, 429]);
      const res = await limited.call('GET', '/api/2.0/mlflow/registered-models/search', {}, secondAuth);
      expect(res.json.error_code).toBe('REQUEST_LIMIT_EXCEEDED');
      expect(res.json.message).toMatch(/Too many requests for this API \(limit 1\/s, burst 3\)/);
    } finally {
      await limited.close();
    }
  });

  it('answers 429 JSON past a token’s limit, and not for another token', async () => {
    const limited = await startTestTwin({ rateLimit: { perSecond: 1, burst: 3 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++)
        statuses.push((await limited.call('GET', '/api/2.0/mlflow/registered-models/search', {})).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      const res = await limited.call('GET', '/api/2.0/mlflow/registered-models/search', {});
      expect(res.json.error_code).toBe('REQUEST_LIMIT_EXCEEDED');
    } finally {
      await limited.close();
    }
  });
});
