/**
 * Hostile bodies through the twin's gateway, as a client on the internet sends them: to a Python
 * (scikit-learn) version and an ONNX version of one served model, bodies nested far past the
 * limit, huge bodies, odd content types and broken JSON get JSON 4xx answers, and the serving
 * task and its Python worker are the same processes afterwards, still answering.
 */
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually';
import { IRIS_COLUMNS, IRIS_ROW, largeIrisBody } from '../helpers/iris-host';
import { request } from '../helpers/model-host';
import { buildOnnx } from '../helpers/models';
import { IRIS_MODEL } from '../helpers/paths';
import { startTestTwin, type TestTwin } from '../helpers/twin';

const MODEL = 'hostile';
const MIB = 1024 * 1024;
let twin: TestTwin;

const url = (version: number) => `${twin.url}/model/${MODEL}/${version}/invocations`;
const post = (version: number, body: string | Buffer, contentType?: string) =>
  request(url(version), { body, contentType, headers: twin.adminAuth });

interface HostStatus {
  process: { pid: number };
  versions: { version: number; state: string; pids: number[] }[];
}
const hostStatus = async () =>
  (await request(`${twin.url}/model/${MODEL}/status`, { method: 'GET', headers: twin.adminAuth })).json as HostStatus;

async function register(make: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = path.join(twin.artifactDir, `${MODEL}-${Math.random().toString(36).slice(2)}`);
  await make(dir);
  const created = await twin.registry.createModelVersion({ name: MODEL, source: pathToFileURL(dir).href });
  await eventually(async () => {
    expect((await twin.registry.getModelVersion(MODEL, created.version)).status).toBe('READY');
  }, 30_000);
}

beforeAll(async () => {
  twin = await startTestTwin();
  await twin.registry.createRegisteredModel({ name: MODEL });
  await register((dir) => cp(IRIS_MODEL, dir, { recursive: true }));
  await register((dir) => buildOnnx('iris-linear', dir));
  await twin.serving.enableServing(MODEL);
  await eventually(async () => {
    const status = await hostStatus();
    expect(status.versions?.map((v) => `${v.version}:${v.state}`)).toEqual(['1:READY', '2:READY']);
  }, 120_000);
}, 180_000);

afterAll(async () => {
  await twin?.close();
});

describe('hostile bodies through the gateway', () => {
  it('get JSON 4xx answers from both runtimes, and no process of the task is replaced', async () => {
    const before = await hostStatus();
    const workerPids = before.versions.find((v) => v.version === 1)?.pids;
    expect(workerPids?.length).toBeGreaterThan(0);
    const deep = (n: number) => `${'['.repeat(n)}1${']'.repeat(n)}`;
    const hostile: [string, string | Buffer, string | undefined, number][] = [
      ['1,000 levels in inputs', `{"inputs": ${deep(1000)}}`, 'application/json', 400],
      ['100,000 levels', deep(100_000), 'application/json', 400],
      ['deep split data', `{"dataframe_split": {"columns": ["a"], "data": ${deep(5000)}}}`, 'application/json', 400],
      ['deep inside a JSON string', JSON.stringify(`{"inputs": ${deep(2000)}}`), 'application/json', 400],
      ['truncated JSON', '{"inputs": [[5.1, 3.5', 'application/json', 400],
      ['NaN literal', '{"inputs": [[NaN, 1, 2, 3]]}', 'application/json', 400],
      ['no Content-Type', '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}', undefined, 415],
      ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), 'application/json', 400],
      ['ragged CSV', 'a,b\n1\n2,3,4\n', 'text/csv', 400],
      ['20 MiB', Buffer.alloc(20 * MIB, 0x20), 'application/json', 413],
    ];
    for (const version of [1, 2]) {
      for (const [name, body, contentType, status] of hostile) {
        const answer = await post(version, body, contentType);
        expect(answer.status, `${name} to version ${version}: ${answer.text.slice(0, 200)}`).toBe(status);
        expect(answer.json, name).toMatchObject({ error_code: expect.any(String), message: expect.any(String) });
      }
    }
    // A large valid body (9 MiB, under the gateway's 10 MiB) is answered in full.
    const large = await post(2, largeIrisBody(9 * MIB, 'inputs'), 'application/json');
    expect(large.status).toBe(200);
    const after = await hostStatus();
    expect(after.process.pid).toBe(before.process.pid);
    expect(after.versions.find((v) => v.version === 1)?.pids).toEqual(workerPids);
    for (const version of [1, 2]) {
      const ok = await post(
        version,
        JSON.stringify({ dataframe_split: { columns: IRIS_COLUMNS, data: [IRIS_ROW] } }),
        'application/json',
      );
      expect(ok.status, ok.text).toBe(200);
    }
  }, 120_000);
});
