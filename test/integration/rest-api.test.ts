/**
 * The registry REST API through the local twin's gateway and the real Lambda handler:
 * bad input on every endpoint gets a clear JSON 4xx with MLflow's error code, and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../twin/gateway';
import { startTestTwin, type TestTwin } from '../helpers/twin';

let twin: TestTwin;
const API = '/api/2.0/mlflow';

beforeAll(async () => {
  twin = await startTestTwin();
  const source = await (async () => {
    const { cp } = await import('node:fs/promises');
    const { IRIS_MODEL } = await import('../helpers/paths');
    await cp(IRIS_MODEL, `${twin.artifactDir}/iris`, { recursive: true });
    return `file://${twin.artifactDir}/iris`;
  })();
  await twin.call('POST', `${API}/registered-models/create`, { name: 'm', tags: [{ key: 'team', value: 'a' }] });
  await twin.call('POST', `${API}/registered-models/create`, { name: 'other' });
  await twin.call('POST', `${API}/model-versions/create`, { name: 'm', source });
  await twin.call('POST', `${API}/registered-models/alias`, { name: 'm', alias: 'champion', version: '1' });
  await twin.bus.drained();
});
afterAll(async () => {
  await twin?.close();
});

/** Everything the registry holds, as the API shows it. */
async function snapshot(): Promise<string> {
  const models = await twin.call('GET', `${API}/registered-models/search`, { max_results: 1000 });
  const versions = await twin.call('GET', `${API}/model-versions/search`, {});
  return JSON.stringify([models.json, versions.json]);
}

type Case = [
  label: string,
  method: string,
  path: string,
  params: unknown,
  status: number,
  code: string,
  message?: RegExp,
];

const long = (n: number) => 'x'.repeat(n);

const CASES: Case[] = [
  // registered-models/create
  [
    'create: no name',
    'POST',
    'registered-models/create',
    {},
    400,
    'INVALID_PARAMETER_VALUE',
    /Missing value for required parameter 'name'/,
  ],
  [
    'create: empty name',
    'POST',
    'registered-models/create',
    { name: '' },
    400,
    'INVALID_PARAMETER_VALUE',
    /Missing value for required parameter 'name'/,
  ],
  [
    'create: name not a string',
    'POST',
    'registered-models/create',
    { name: 123 },
    400,
    'INVALID_PARAMETER_VALUE',
    /Invalid value 123 for parameter 'name' supplied\. Hint: Value was of type 'int'/,
  ],
  [
    'create: name too long',
    'POST',
    'registered-models/create',
    { name: long(257) },
    400,
    'INVALID_PARAMETER_VALUE',
    /limit is 256/,
  ],
  [
    'create: name with a slash',
    'POST',
    'registered-models/create',
    { name: 'a/b' },
    400,
    'INVALID_PARAMETER_VALUE',
    /may not contain '\/'/,
  ],
  [
    'create: tags not a list',
    'POST',
    'registered-models/create',
    { name: 'n1', tags: 'x' },
    400,
    'INVALID_PARAMETER_VALUE',
    /parameter 'tags'/,
  ],
  [
    'create: tag key escapes',
    'POST',
    'registered-models/create',
    { name: 'n2', tags: [{ key: '../k', value: 'v' }] },
    400,
    'INVALID_PARAMETER_VALUE',
    /Invalid tag name: '\.\.\/k'/,
  ],
  [
    'create: tag value too long',
    'POST',
    'registered-models/create',
    { name: 'n3', tags: [{ key: 'k', value: long(5001) }] },
    400,
    'INVALID_PARAMETER_VALUE',
    /limit is 5000/,
  ],
  [
    'create: duplicate',
    'POST',
    'registered-models/create',
    { name: 'm' },
    400,
    'RESOURCE_ALREADY_EXISTS',
    /Registered Model \(name=m\) already exists/,
  ],
  // registered-models/get
  ['get: no name', 'GET', 'registered-models/get', {}, 400, 'INVALID_PARAMETER_VALUE', /'name'/],
  [
    'get: unknown',
    'GET',
    'registered-models/get',
    { name: 'nope' },
    404,
    'RESOURCE_DOES_NOT_EXIST',
    /name=nope not found/,
  ],
  // registered-models/search
  [
    'search: max_results not a number',
    'GET',
    'registered-models/search',
    { max_results: 'ten' },
    400,
    'INVALID_PARAMETER_VALUE',
    /max_results/,
  ],
  [
    'search: max_results too big',
    'GET',
    'registered-models/search',
    { max_results: 1001 },
    400,
    'INVALID_PARAMETER_VALUE',
    /at most 1000/,
  ],
  [
    'search: max_results zero',
    'GET',
    'registered-models/search',
    { max_results: 0 },
    400,
    'INVALID_PARAMETER_VALUE',
    /positive integer/,
  ],
  [
    'search: OR filter',
    'GET',
    'registered-models/search',
    { filter: "name='a' OR name='b'" },
    400,
    'INVALID_PARAMETER_VALUE',
    /Invalid filter/,
  ],
  [
    'search: unknown key',
    'GET',
    'registered-models/search',
    { filter: "size='a'" },
    400,
    'INVALID_PARAMETER_VALUE',
    /invalid attribute key 'size'/,
  ],
  [
    'search: bad order_by',
    'GET',
    'registered-models/search',
    { order_by: 'name SIDEWAYS' },
    400,
    'INVALID_PARAMETER_VALUE',
    /order_by/,
  ],
  [
    'search: bad page token',
    'GET',
    'registered-models/search',
    { page_token: 'nope' },
    400,
    'INVALID_PARAMETER_VALUE',
    /page token/,
  ],
  // registered-models/update, rename, delete
  [
    'update: no name',
    'PATCH',
    'registered-models/update',
    { description: 'd' },
    400,
    'INVALID_PARAMETER_VALUE',
    /'name'/,
  ],
  [
    'update: description not a string',
    'PATCH',
    'registered-models/update',
    { name: 'm', description: ['d'] },
    400,
    'INVALID_PARAMETER_VALUE',
    /parameter 'description'.*'list'/,
  ],
  [
    'update: unknown',
    'PATCH',
    'registered-models/update',
    { name: 'nope', description: 'd' },
    404,
    'RESOURCE_DOES_NOT_EXIST',
  ],
  [
    'rename: no new_name',
    'POST',
    'registered-models/rename',
    { name: 'm' },
    400,
    'INVALID_PARAMETER_VALUE',
    /'new_name'/,
  ],
  [
    'rename: onto an existing model',
    'POST',
    'registered-models/rename',
    { name: 'm', new_name: 'other' },
    400,
    'RESOURCE_ALREADY_EXISTS',
  ],
  [
    'rename: unknown',
    'POST',
    'registered-models/rename',
    { name: 'nope', new_name: 'x' },
    404,
    'RESOURCE_DOES_NOT_EXIST',
  ],
  ['delete: no name', 'DELETE', 'registered-models/delete', {}, 400, 'INVALID_PARAMETER_VALUE', /'name'/],
  ['delete: unknown', 'DELETE', 'registered-models/delete', { name: 'nope' }, 404, 'RESOURCE_DOES_NOT_EXIST'],
  // registered-models tags
  [
    'set-tag: no key',
    'POST',
    'registered-models/set-tag',
    { name: 'm', value: 'v' },
    400,
    'INVALID_PARAMETER_VALUE',
    /'key'/,
  ],
  [
    'set-tag: key with odd characters',
    'POST',
    'registered-models/set-tag',
    { name: 'm', key: 'a*b', value: 'v' },
    400,
    'INVALID_PARAMETER_VALUE',
    /Invalid tag name/,
  ],
  [
    'set-tag: key too long',
    'POST',
    'registered-models/set-tag',
    { name: 'm', key: long(251), value: 'v' },
    400,
    'INVALID_PARAMETER_VALUE',
    /limit is 250/,
  ],
  [
    'set-tag: unknown model',
    'POST',
    'registered-models/set-tag',
    { name: 'nope', key: 'k', value: 'v' },
    404,
    'RESOURCE_DOES_NOT_EXIST',
  ],
  [
    'delete-tag: no key',
    'DELETE',
    'registered-models/delete-tag',
    { name: 'm' },
    400,
    'INVALID_PARAMETER_VALUE',
    /'key'/,
  ],
  [
    'delete-tag: unknown model',
    'DELETE',
    'registered-models/delete-tag',
    { name: 'nope', key: 'k' },
    404,
    'RESOURCE_DOES_NOT_EXIST',
  ],
  // aliases
  [
    'alias set: no version',
    'POST',
    'registered-models/alias',
    { name: 'm', alias: 'a' },
    400,
    'INVALID_PARAMETER_VALUE',
    /'version'/,
  ],
  [
    'alias set: version not a number',
    'POST',
    'registered-models/alias',
    { name: 'm', alias: 'a', version: 'two' },
    400,
    'INVALID_PARAMETER_VALUE',
    /must be a positive integer/,
  ],
  [
    'alias set: reserved latest',
    'POST',
    'registered-models/alias',
    { name: 'm', alias: 'Latest', version: '1' },
    400,
    'INVALID_PARAMETER_VALUE',
    /reserved/,
  ],
  [
    'alias set: reserved v1',
    'POST',
    'registered-models/alias',
    { name: 'm', alias: 'v1', version: '1' },
    400,
    'INVALID_PARAMETER_VALUE',
    /reserved/,
  ],
  [
    'alias set: bad characters',
    'POST',
    'registered-models/alias',
    { name: 'm', alias: 'a b', version: '1' },
    400,
    'INVALID_PARAMETER_VALUE',
    /Invalid alias name/,
  ],
  [
    'alias set: unknown version',
    'POST',
    'registered-models/alias',
    { name: 'm', alias: 'a', version: '9' },
    404,
    'RESOURCE_DOES_NOT_EXIST',
  ],
  [
    'alias delete: no alias',
    'DELETE',
    'registered-models/alias',
    { name: 'm' },
    400,
    'INVALID_PARAMETER_VALUE',
    /'alias'/,
  ],
  [
    'alias get: unknown alias',
    'GET',
    'registered-models/alias',
    { name: 'm', alias: 'nope' },
    400,
    'INVALID_PARAMETER_VALUE',
    /Registered model alias nope not found\./,
  ],
  [
    'alias get: unknown model',
    'GET',
    'registered-models/alias',
    { name: 'nope', alias: 'a' },
    404,
    'RESOURCE_DOES_NOT_EXIST',
  ],
  // get-latest-versions
  [
    'latest: bad stage',
    'POST',
    'registered-models/get-latest-versions',
    { name: 'm', stages: ['Prod'] },
    400,
    'INVALID_PARAMETER_VALUE',
    /Invalid Model Version stage: Prod/,
  ],
  [
    'latest: stages not strings',
    'POST',
    'registered-models/get-latest-versions',
    { name: 'm', stages: [1] },
    400,
    'INVALID_PARAMETER_VALUE',
    /parameter 'stages'/,
  ],
  [
    'latest: unknown model',
    'POST',
    'registered-models/get-latest-versions',
    { name: 'nope' },
    404,
    'RESOURCE_DOES_NOT_EXIST',
  ],
  // model-versions/create
  ['mv create: no source', 'POST', 'model-versions/create', { name: 'm' }, 400, 'INVALID_PARAMETER_VALUE', /'source'/],
  [
    'mv create: source outside the roots',
    'POST',
    'model-versions/create',
    { name: 'm', source: 'file:///etc' },
    400,
    'INVALID_PARAMETER_VALUE',
    /Invalid model version source: 'file:\/\/\/etc'/,
  ],
  [
    'mv create: source with ..',
    'POST',
    'model-versions/create',
    { name: 'm', source: 'file:///tmp/x/../y' },
    400,
    'INVALID_PARAMETER_VALUE',
    /Invalid model version source/,
  ],
  [
    'mv create: s3 source not allowed',
    'POST',
    'model-versions/create',
    { name: 'm', source: 's3://bucket/model' },
    400,
    'INVALID_PARAMETER_VALUE',
    /outside every allowed source root/,
  ],
  [
    'mv create: source not a string',
    'POST',
    'model-versions/create',
    { name: 'm', source: { path: 'x' } },
    400,
    'INVALID_PARAMETER_VALUE',
    /parameter 'source'.*'dict'/,
  ],
  [
    'mv create: odd run_id',
    'POST',
    'model-versions/create',
    { name: 'm', source: 'file:///x', run_id: 'a b;' },
    400,
    'INVALID_PARAMETER_VALUE',
    /run_id/,
  ],
  [
    'mv create: unknown model',
    'POST',
    'model-versions/create',
    { name: 'nope', source: 's3://b/k' },
    400,
    'INVALID_PARAMETER_VALUE',
    /source/,
  ],
  // model-versions get/update/delete/download
  [
    'mv get: version not a number',
    'GET',
    'model-versions/get',
    { name: 'm', version: 'x' },
    400,
    'INVALID_PARAMETER_VALUE',
    /'version' must be a positive integer/,
  ],
  [
    'mv get: version zero',
    'GET',
    'model-versions/get',
    { name: 'm', version: '0' },
    400,
    'INVALID_PARAMETER_VALUE',
    /positive integer/,
  ],
  [
    'mv get: unknown version',
    'GET',
    'model-versions/get',
    { name: 'm', version: '7' },
    404,
    'RESOURCE_DOES_NOT_EXIST',
    /Model Version \(name=m, version=7\) not found/,
  ],
  [
    'mv update: no version',
    'PATCH',
    'model-versions/update',
    { name: 'm', description: 'd' },
    400,
    'INVALID_PARAMETER_VALUE',
    /'version'/,
  ],
  [
    'mv delete: unknown version',
    'DELETE',
    'model-versions/delete',
    { name: 'm', version: '7' },
    404,
    'RESOURCE_DOES_NOT_EXIST',
  ],
  [
    'mv download: no version',
    'GET',
    'model-versions/get-download-uri',
    { name: 'm' },
    400,
    'INVALID_PARAMETER_VALUE',
    /'version'/,
  ],
  // model-versions search
  [
    'mv search: bad filter',
    'GET',
    'model-versions/search',
    { filter: "name = 'm' AND" },
    400,
    'INVALID_PARAMETER_VALUE',
    /Invalid filter/,
  ],
  [
    'mv search: too many results',
    'GET',
    'model-versions/search',
    { max_results: 200001 },
    400,
    'INVALID_PARAMETER_VALUE',
    /at most 200000/,
  ],
  [
    'mv search: bad order_by key',
    'GET',
    'model-versions/search',
    { order_by: 'size' },
    400,
    'INVALID_PARAMETER_VALUE',
    /order_by/,
  ],
  // transitions
  [
    'transition: unknown stage',
    'POST',
    'model-versions/transition-stage',
    { name: 'm', version: '1', stage: 'Live' },
    400,
    'INVALID_PARAMETER_VALUE',
    /Invalid Model Version stage: Live/,
  ],
  [
    'transition: archiving into None',
    'POST',
    'model-versions/transition-stage',
    { name: 'm', version: '1', stage: 'None', archive_existing_versions: true },
    400,
    'INVALID_PARAMETER_VALUE',
    /not an Active stage/,
  ],
  [
    'transition: archive flag not boolean',
    'POST',
    'model-versions/transition-stage',
    { name: 'm', version: '1', stage: 'Staging', archive_existing_versions: 'yes' },
    400,
    'INVALID_PARAMETER_VALUE',
    /archive_existing_versions/,
  ],
  [
    'transition: unknown version',
    'POST',
    'model-versions/transition-stage',
    { name: 'm', version: '8', stage: 'Staging' },
    404,
    'RESOURCE_DOES_NOT_EXIST',
  ],
  // version tags
  [
    'mv set-tag: no key',
    'POST',
    'model-versions/set-tag',
    { name: 'm', version: '1', value: 'v' },
    400,
    'INVALID_PARAMETER_VALUE',
    /'key'/,
  ],
  [
    'mv set-tag: unknown version',
    'POST',
    'model-versions/set-tag',
    { name: 'm', version: '5', key: 'k', value: 'v' },
    404,
    'RESOURCE_DOES_NOT_EXIST',
  ],
  [
    'mv delete-tag: unknown version',
    'DELETE',
    'model-versions/delete-tag',
    { name: 'm', version: '5', key: 'k' },
    404,
    'RESOURCE_DOES_NOT_EXIST',
  ],
];

describe('bad input', () => {
  it.each(CASES)('%s → %i %s', async (_label, method, path, params, status, code, message) => {
    const before = await snapshot();
    const res = await twin.call(method, `${API}/${path}`, params);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.json.error_code).toBe(code);
    expect(typeof res.json.message).toBe('string');
    if (message) expect(res.json.message).toMatch(message);
    await twin.bus.drained();
    expect(await snapshot()).toBe(before);
  });

  it('answers malformed JSON with a JSON 400', async () => {
    const res = await twin.call('POST', `${API}/registered-models/create`, '{"name": "x",');
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error_code: 'BAD_REQUEST', message: expect.stringMatching(/Malformed JSON/) });
  });

  it('answers a JSON body that is not an object with a JSON 400', async () => {
    const res = await twin.call('POST', `${API}/registered-models/create`, '["m"]');
    expect(res.status).toBe(400);
    expect(res.json.error_code).toBe('BAD_REQUEST');
  });

  it('answers an unknown route with a JSON 404', async () => {
    const res = await twin.call('GET', `${API}/registered-models/list`);
    expect(res.status).toBe(404);
    expect(res.json.error_code).toBe('ENDPOINT_NOT_FOUND');
    const outside = await twin.call('GET', '/nowhere');
    expect(outside.status).toBe(404);
    expect(outside.json.error_code).toBe('ENDPOINT_NOT_FOUND');
  });

  it('answers a wrong method with a JSON 405 naming the allowed ones', async () => {
    const res = await twin.call('PUT', `${API}/registered-models/create`, { name: 'x' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(res.json).toMatchObject({ error_code: 'BAD_REQUEST', message: expect.stringMatching(/use POST/) });
  });

  it('answers a body over the API Gateway limit with a JSON 413', async () => {
    const res = await twin.call(
      'POST',
      `${API}/registered-models/create`,
      JSON.stringify({ name: long(MAX_BODY_BYTES) }),
    );
    expect(res.status).toBe(413);
    expect(res.json.error_code).toBe('BAD_REQUEST');
  });
});

describe('request forms', () => {
  it('reads repeated query parameters as lists (order_by, stages)', async () => {
    const res = await twin.call('GET', `${API}/registered-models/get-latest-versions`, {
      name: 'm',
      stages: ['None', 'Production'],
    });
    expect(res.status).toBe(200);
    expect((res.json.model_versions as unknown[]).length).toBe(1);
  });

  it('accepts DELETE parameters in the query string when there is no body', async () => {
    await twin.call('POST', `${API}/registered-models/set-tag`, { name: 'other', key: 'gone', value: 'soon' });
    const res = await twin.call('DELETE', `${API}/registered-models/delete-tag?name=other&key=gone`);
    expect(res.status).toBe(200);
    const model = await twin.call('GET', `${API}/registered-models/get`, { name: 'other' });
    expect((model.json.registered_model as Record<string, unknown>).tags).toBeUndefined();
  });

  it('answers an empty search with {} as MLflow does', async () => {
    const res = await twin.call('GET', `${API}/registered-models/search`, { filter: "name = 'absent'" });
    expect(res.json).toEqual({});
  });

  it('shows aliases on the model and on the version', async () => {
    const model = await twin.call('GET', `${API}/registered-models/get`, { name: 'm' });
    expect((model.json.registered_model as Record<string, unknown>).aliases).toEqual([
      { alias: 'champion', version: '1' },
    ]);
    const version = await twin.call('GET', `${API}/model-versions/get`, { name: 'm', version: '1' });
    expect((version.json.model_version as Record<string, unknown>).aliases).toEqual(['champion']);
  });

  it('pages registered models with next_page_token', async () => {
    const first = await twin.call('GET', `${API}/registered-models/search`, { max_results: 1 });
    expect(first.json.next_page_token).toBe(Buffer.from('{"offset": 1}').toString('base64'));
    const second = await twin.call('GET', `${API}/registered-models/search`, {
      max_results: 1,
      page_token: first.json.next_page_token,
    });
    const names = [first, second].map((r) => (r.json.registered_models as { name: string }[])[0]?.name);
    expect(names).toEqual(['m', 'other']);
  });
});
