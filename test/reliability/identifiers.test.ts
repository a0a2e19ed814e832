/**
 * Hostile identifiers at every route of the registry, serving, permissions and token APIs, and
 * at scoring, through the twin's gateway and the real handlers: a name too long for any
 * DynamoDB key (2,100 characters), one just past the limit (300), one holding a lone UTF-16
 * surrogate, one holding control characters. Every answer is a JSON error, never a 5xx; every
 * identifier refuses them with a 4xx, model names with a 400 naming the parameter; no model
 * with such a name is stored. The routes come from the route tables, so one added later is covered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isModelName } from '../../core/registry/validation';
import { DEFAULT_MAX_JSON_DEPTH, tooDeepMessage } from '../../core/shared/json-limits';
import { PERMISSION_ROUTES, PERMISSIONS_PREFIX, TOKEN_ROUTES, TOKENS_PREFIX } from '../../lambdas/access/routes';
import { API_PREFIX, ROUTES } from '../../lambdas/registry/routes';
import { SERVING_PREFIX, SERVING_ROUTES } from '../../lambdas/serving/routes';
import { type ApiResponse, call, startTestTwin, type TestTwin } from '../helpers/twin';

const HOSTILE: readonly (readonly [label: string, value: string])[] = [
  ['2,100 characters', 'x'.repeat(2100)],
  ['300 characters', 'y'.repeat(300)],
  ['a lone surrogate', 'fz-\udc00x'],
  ['control characters', 'fz-\u0001\u001f\nx'],
];

/** Parameters that carry a registered model's name. */
const MODEL_NAME_FIELDS = new Set(['name', 'new_name', 'registered_model_name']);
/** Other identifiers: none of the values above passes them either. */
const IDENTIFIER_FIELDS = new Set([
  'alias',
  'key',
  'version',
  'endpoint_version_name',
  'stage',
  'principal',
  'token_id',
]);

/** A valid value for each parameter, so that a request differs from a valid one in one field. */
const VALID: Record<string, unknown> = {
  name: 'absent-model',
  new_name: 'renamed-model',
  registered_model_name: 'absent-model',
  version: '1',
  endpoint_version_name: '1',
  alias: 'champion',
  key: 'team',
  value: 'a',
  stage: 'Staging',
  stages: ['Staging'],
  source: 'file:///nowhere/model',
  description: 'd',
  principal: 'someone',
  token_id: '0123456789abcdef',
  admin: false,
  access_control_list: [{ principal: 'someone', permission_level: 'CAN_READ' }],
};

interface TableRoute {
  readonly method: string;
  readonly path: string;
  readonly params: z.ZodType;
}

const TABLES: readonly (readonly [api: string, prefix: string, routes: readonly TableRoute[]])[] = [
  ['registry', API_PREFIX, ROUTES],
  ['serving', SERVING_PREFIX, SERVING_ROUTES],
  ['permissions', PERMISSIONS_PREFIX, PERMISSION_ROUTES],
  ['tokens', TOKENS_PREFIX, TOKEN_ROUTES],
];

function fieldsOf(params: z.ZodType): string[] {
  if (!(params instanceof z.ZodObject)) throw new Error('a route whose parameters are not an object');
  return Object.keys(params.shape);
}

/**
 * One case per parameter of each route. A route without parameters still gets a `name` (which
 * it does not take, so ignores); a search's name rides in its filter.
 */
const CASES = TABLES.flatMap(([api, prefix, routes]) =>
  routes.flatMap((route) => {
    const fields = fieldsOf(route.params);
    return (fields.length > 0 ? fields : ['name']).map((field) => ({
      label: `${api} ${route.method} ${route.path}: ${field}`,
      method: route.method,
      path: `${prefix}${route.path}`,
      fields,
      field,
      takes: fields.includes(field),
    }));
  }),
);

let twin: TestTwin;
let readerAuth: Record<string, string>;

beforeAll(async () => {
  twin = await startTestTwin();
  const reader = await twin.call('POST', `${TOKENS_PREFIX}create`, { principal: 'reader' });
  expect(reader.status).toBe(200);
  readerAuth = { Authorization: `Bearer ${reader.json.token_value}` };
});
afterAll(async () => {
  await twin?.close();
});

function expectJsonError(res: ApiResponse, label: string): void {
  expect(res.headers.get('content-type'), label).toContain('application/json');
  expect(res.json, label).toMatchObject({ error_code: expect.any(String), message: expect.any(String) });
}

describe('a hostile value in each parameter of every route', () => {
  it('covers the registry, serving, permissions and token routes', () => {
    expect(CASES.filter((c) => c.path.startsWith(API_PREFIX)).length).toBeGreaterThanOrEqual(25);
    expect(new Set(CASES.map((c) => c.path)).size).toBe(
      TABLES.reduce((n, [, , routes]) => n + new Set(routes.map((r) => r.path)).size, 0),
    );
  });

  it.each(CASES)('$label', async ({ method, path, fields, field, takes }) => {
    for (const [label, value] of HOSTILE) {
      const params: Record<string, unknown> = {};
      for (const f of fields) if (f in VALID) params[f] = VALID[f];
      params[field] = field === 'filter' ? `name = '${value}'` : value;
      const res = await twin.call(method, path, params);
      const what = `${label}: ${res.status} ${res.text.slice(0, 200)}`;
      expect(res.status, what).toBeLessThan(500);
      if (res.status >= 400) expectJsonError(res, what);
      if (method !== 'GET' && !value.isWellFormed()) {
        // Any string of any body, taken or not: refused before the route sees it.
        expect([res.status, res.json.error_code], what).toEqual([400, 'INVALID_PARAMETER_VALUE']);
        expect(res.json.message, what).toContain(`'${field}'`);
        continue;
      }
      if (!takes) continue;
      if (MODEL_NAME_FIELDS.has(field) || IDENTIFIER_FIELDS.has(field)) {
        expect(res.status, what).toBeGreaterThanOrEqual(400);
      }
      if (!MODEL_NAME_FIELDS.has(field)) continue;
      if (method === 'GET' && !value.isWellFormed()) {
        // A query string cannot carry a lone surrogate: it arrives as U+FFFD, a name no model has.
        expect([res.status, res.json.error_code], what).toEqual([404, 'RESOURCE_DOES_NOT_EXIST']);
      } else {
        expect([res.status, res.json.error_code], what).toEqual([400, 'INVALID_PARAMETER_VALUE']);
        expect(res.json.message, what).toContain(`'${field}'`);
      }
    }
  });

  it('refuses, before parsing it, a body nested past the limit on every route that takes one', async () => {
    const deep = `{"name": ${'['.repeat(5000)}${']'.repeat(5000)}}`;
    for (const { method, path } of CASES.filter((c) => c.method !== 'GET')) {
      const res = await twin.call(method, path, deep);
      expect([res.status, res.json], `${method} ${path}`).toEqual([
        400,
        { error_code: 'BAD_REQUEST', message: tooDeepMessage(DEFAULT_MAX_JSON_DEPTH) },
      ]);
    }
  });

  it('answers a percent-encoded lone surrogate in a query string as U+FFFD, a name no model has', async () => {
    const res = await call(
      twin.url,
      'GET',
      `${API_PREFIX}registered-models/get?name=fz-%ED%B0%80x`,
      undefined,
      twin.adminAuth,
    );
    expect([res.status, res.json.error_code]).toEqual([404, 'RESOURCE_DOES_NOT_EXIST']);
    expect(res.json.message).toContain('fz-\ufffd\ufffd\ufffdx');
  });

  it('stores no model with a name that breaks the rules', async () => {
    const res = await twin.call('GET', `${API_PREFIX}registered-models/search`, { max_results: 1000 });
    const names = ((res.json.registered_models ?? []) as { name: string }[]).map((m) => m.name);
    expect(names.filter((n) => !isModelName(n))).toEqual([]);
  });
});

describe('a hostile model name in a scoring path', () => {
  const score = (segment: string, auth: Record<string, string>) =>
    call(twin.url, 'POST', `/model/${segment}/1/invocations`, { inputs: [[1, 2, 3, 4]] }, auth);

  it.each([
    ['2,100 characters', 'x'.repeat(2100), 'INVALID_PARAMETER_VALUE', /is 2100 characters long; the limit is 256/],
    ['300 characters', 'y'.repeat(300), 'INVALID_PARAMETER_VALUE', /the limit is 256/],
    ['control characters', 'fz-%01x', 'INVALID_PARAMETER_VALUE', /control characters/],
    ['a slash', 'a%2Fb', 'INVALID_PARAMETER_VALUE', /may not contain '\/'/],
    ['an encoded lone surrogate', '%ED%B0%80x', 'BAD_REQUEST', /Malformed model name/],
  ])('%s: 400 for an admin and for a reader, never a table lookup', async (_label, segment, code, message) => {
    for (const auth of [twin.adminAuth, readerAuth]) {
      const res = await score(segment, auth);
      expect(res.status, res.text.slice(0, 200)).toBe(400);
      expectJsonError(res, segment);
      expect(res.json.error_code).toBe(code);
      expect(res.json.message).toMatch(message);
    }
  });

  it('still asks for a token first', async () => {
    const res = await score('x'.repeat(2100), {});
    expect([res.status, res.json.error_code]).toEqual([401, 'UNAUTHENTICATED']);
  });
});

describe('valid names keep working', () => {
  it('creates, reads, renames and deletes (and shows the permissions and serving status of) a model whose name is at the limit in three-byte characters', async () => {
    const name = '€'.repeat(256);
    const renamed = `${'€'.repeat(255)}x`;
    const api = (method: string, path: string, params: unknown) => twin.call(method, `${API_PREFIX}${path}`, params);
    expect((await api('POST', 'registered-models/create', { name, description: 'at the limit' })).status).toBe(200);
    const got = await api('GET', 'registered-models/get', { name });
    expect([got.status, (got.json.registered_model as { name: string }).name]).toEqual([200, name]);
    const acl = await twin.call('GET', `${PERMISSIONS_PREFIX}get`, { name });
    expect([acl.status, acl.json.registered_model_name]).toEqual([200, name]);
    const status = await twin.call('GET', `${SERVING_PREFIX}get-status`, { registered_model_name: name });
    expect(status.status).toBe(200);
    const moved = await api('POST', 'registered-models/rename', { name, new_name: renamed });
    expect([moved.status, (moved.json.registered_model as { name: string }).name]).toEqual([200, renamed]);
    expect((await api('GET', 'registered-models/get', { name })).status).toBe(404);
    expect((await api('DELETE', 'registered-models/delete', { name: renamed })).status).toBe(200);
    expect((await api('GET', 'registered-models/get', { name: renamed })).status).toBe(404);
  });
});
