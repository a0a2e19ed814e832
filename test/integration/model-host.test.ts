import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordedCases } from '../helpers/mlflow-answers';
import { type RunningHost, request, score, startModelHost } from '../helpers/model-host';
import { buildOnnx, trainSklearn } from '../helpers/models';
import { IRIS_MODEL } from '../helpers/paths';
import { type RegistryEnv, startRegistryEnv } from '../helpers/registry-env';

const MODEL = 'iris';
const ROWS = {
  columns: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
  data: [
    [5.1, 3.5, 1.4, 0.2],
    [6.7, 3.0, 5.2, 2.3],
  ],
};

let env: RegistryEnv;
let host: RunningHost;
let cache: string;
const base = () => `${host.url}/model/${MODEL}`;

/** Copies or builds a model into the artifact root and registers it as the next version. */
async function register(model: string, make: (dir: string) => Promise<void> | void): Promise<number> {
  const dir = path.join(env.artifacts.dir, `${model}-${Math.random().toString(36).slice(2)}`);
  await make(dir);
  const created = await env.registry.createModelVersion({ name: model, source: pathToFileURL(dir).href });
  const ready = await env.ready(model, created.version);
  expect(ready.status, ready.statusMessage).toBe('READY');
  return created.version;
}

/** Polls until `check` passes (the host follows the registry within its poll interval). */
async function eventually(check: () => Promise<void>, timeoutMs = 2000): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      await check();
      return Date.now() - started;
    } catch (error) {
      if (Date.now() - started > timeoutMs) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

const versions: Record<string, number> = {};

beforeAll(async () => {
  env = await startRegistryEnv();
  cache = await mkdtemp(path.join(tmpdir(), 'mlserve-cache-'));
  await env.registry.createRegisteredModel({ name: MODEL });
  versions.fixture = await register(MODEL, (dir) => cp(IRIS_MODEL, dir, { recursive: true }));
  versions.slow = await register(MODEL, (dir) => trainSklearn('slow', dir));
  versions.onnx = await register(MODEL, (dir) => buildOnnx('iris-linear', dir));
  versions.mlflow1 = await register(MODEL, (dir) => trainSklearn('mlflow1', dir));
  await env.registry.transitionModelVersionStage(MODEL, versions.fixture as number, 'Production', false);
  await env.registry.setAlias(MODEL, 'slow', versions.slow as number);
  host = await startModelHost({
    modelName: MODEL,
    tableName: env.tableName,
    dynamoEndpoint: env.dynamo.endpoint,
    sourceRoots: env.artifacts.uri,
    artifactCache: cache,
    env: {
      MLSERVE_MAX_BODY_BYTES: String(64 * 1024),
      MLSERVE_REQUEST_TIMEOUT_MS: '1500',
      MLSERVE_TEST_SLOW_SECONDS: '3',
      // One worker per version: these tests follow one worker's life (pools: test/reliability/batching.test.ts).
      MLSERVE_WORKERS_PER_VERSION: '1',
    },
  });
  await host.healthy();
}, 180_000);

afterAll(async () => {
  await host?.stop();
  await env?.close();
  if (cache) await rm(cache, { recursive: true, force: true });
});

/**
 * Requests MLflow 2.x refuses but mlserve serves on purpose: MLflow 1.x bodies (a bare list,
 * pandas-split, the format parameter). Their answers are checked in the 1.x test below.
 */
const ONE_X = new Set(['legacy_pandas_records', 'legacy_pandas_split', 'legacy_bare_list_plain_json']);

describe("MLflow 2.17.2's answer table", () => {
  const cases = recordedCases();

  it('has the recorded cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  for (const c of cases.filter((x) => !ONE_X.has(x.name))) {
    const label = c.status === 500 ? 'a JSON 415 where MLflow answers an HTML 500' : `${c.status} as MLflow does`;
    it(`${c.name}: ${c.method} ${c.path} answers ${label}`, async () => {
      const targets = c.path === '/invocations' ? ['/invocations', `/model/${MODEL}/1/invocations`] : [c.path];
      for (const target of targets) {
        const body = c.body === undefined ? undefined : c.body.endsWith('\n') ? c.body : `${c.body}\n`;
        const res = await request(`${host.url}${target}`, { method: c.method, body, contentType: c.contentType });
        // Where MLflow answers HTML or a 500 (no Content-Type, unknown path, wrong method) mlserve answers a JSON 4xx.
        const expectedStatus = c.status === 500 ? 415 : c.status;
        expect(res.status, `${target}: ${res.text}`).toBe(expectedStatus);
        if (c.name === 'version') {
          expect(res.text).toMatch(/^\d+\.\d+\.\d+$/);
          continue;
        }
        if (c.status === 200 && c.response === '') continue;
        expect(res.contentType).toContain('application/json');
        const ours = res.json as Record<string, unknown>;
        if (c.responseType.startsWith('application/json')) {
          const theirs = JSON.parse(c.response) as Record<string, unknown>;
          if ('predictions' in theirs) expect(ours).toEqual(theirs);
          else {
            expect(ours.error_code).toBe(theirs.error_code);
            const missing = /Model is missing inputs \[[^\]]*\]/.exec(String(theirs.message));
            if (missing) expect(String(ours.message)).toContain(missing[0]);
            if (c.name === 'err_wrong_type_value') expect(ours.message).toBe(theirs.message);
          }
        } else {
          expect(typeof ours.error_code).toBe('string');
          expect(typeof ours.message).toBe('string');
        }
      }
    });
  }
});

describe('MLflow 1.x requests', () => {
  const records = ROWS.data.map((row) => Object.fromEntries(ROWS.columns.map((c, i) => [c, row[i]])));

  it('answers a bare list of records with a bare list', async () => {
    const res = await score(`${base()}/1/invocations`, records);
    expect([res.status, res.json]).toEqual([200, [0, 2]]);
  });

  it('answers pandas-split and the format parameter with a bare list', async () => {
    expect((await score(`${base()}/1/invocations`, ROWS, 'application/json; format=pandas-split')).json).toEqual([
      0, 2,
    ]);
    expect((await score(`${base()}/1/invocations`, records, 'application/json; format=pandas-records')).json).toEqual([
      0, 2,
    ]);
    expect((await score(`${base()}/1/invocations`, ROWS)).json).toEqual([0, 2]);
  });

  it('answers instances and CSV in the shape of the MLflow version the model was logged with', async () => {
    const instances = { instances: records };
    expect((await score(`${base()}/${versions.mlflow1}/invocations`, instances)).json).toEqual([0, 2]);
    expect((await score(`${base()}/1/invocations`, instances)).json).toEqual({ predictions: [0, 2] });
    const csv = `${ROWS.columns.join(',')}\n${ROWS.data.map((r) => r.join(',')).join('\n')}\n`;
    expect((await score(`${base()}/${versions.mlflow1}/invocations`, csv, 'text/csv')).json).toEqual([0, 2]);
  });

  it("serves the seeds' curl bodies unchanged", async () => {
    const bare = await score(`${base()}/Production/invocations`, [
      { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 },
    ]);
    expect(bare.json).toEqual([0]);
    const doubleEncoded = JSON.stringify(JSON.stringify({ dataframe_split: ROWS }));
    expect((await score(`${base()}/Production/invocations`, doubleEncoded)).json).toEqual({ predictions: [0, 2] });
  });
});

describe('references', () => {
  it('serves by version number, stage in any case, and alias', async () => {
    for (const ref of ['1', 'Production', 'production', 'PRODUCTION']) {
      const res = await score(`${base()}/${ref}/invocations`, { dataframe_split: ROWS });
      expect([ref, res.status, res.json]).toEqual([ref, 200, { predictions: [0, 2] }]);
    }
    await env.registry.setAlias(MODEL, 'champion', 1);
    await eventually(async () => {
      expect((await score(`${base()}/@champion/invocations`, { dataframe_split: ROWS })).json).toEqual({
        predictions: [0, 2],
      });
    });
  });

  it('names the reason for refs it does not serve', async () => {
    const cases: [string, number, RegExp][] = [
      ['99', 404, /has no version 99/],
      ['Staging', 404, /no version in stage Staging/],
      ['Archived', 404, /not a version, a served stage/],
      ['@nope', 404, /has no alias 'nope'/],
    ];
    for (const [ref, status, message] of cases) {
      const res = await score(`${base()}/${ref}/invocations`, { dataframe_split: ROWS });
      expect(res.status).toBe(status);
      expect((res.json as { message: string }).message).toMatch(message);
    }
    const other = await score(`${host.url}/model/other/1/invocations`, { dataframe_split: ROWS });
    expect([other.status, (other.json as { error_code: string }).error_code]).toEqual([404, 'RESOURCE_DOES_NOT_EXIST']);
  });

  it('serves the ONNX version natively', async () => {
    const res = await score(`${base()}/${versions.onnx}/invocations`, { inputs: ROWS.data });
    expect(res.status).toBe(200);
    expect((res.json as { predictions: { label: number[] } }).predictions.label).toEqual([0, 2]);
    const status = (await request(`${host.url}/status`, { method: 'GET' })).json as {
      versions: { version: number; flavor: string; pids: number[] }[];
    };
    const onnx = status.versions.find((v) => v.version === versions.onnx);
    expect(onnx).toMatchObject({ flavor: 'onnx', pids: [] });
  });
});

describe('following the registry', () => {
  it('loads a version registered while serving, without disturbing the others', async () => {
    const stop = { now: false };
    const steady = (async () => {
      let failures = 0;
      while (!stop.now) {
        const res = await score(`${base()}/1/invocations`, { dataframe_split: ROWS });
        if (res.status !== 200) failures++;
      }
      return failures;
    })();
    const added = await register(MODEL, (dir) => trainSklearn('iris-logreg', dir));
    const took = await eventually(async () => {
      const res = await score(`${base()}/${added}/invocations`, { dataframe_split: ROWS });
      expect(res.status).toBe(200);
    }, 15_000);
    stop.now = true;
    expect(await steady).toBe(0);
    expect(took).toBeLessThan(15_000);
    versions.added = added;
  });

  it('follows a stage move and an alias move within 2 seconds', async () => {
    const added = versions.added as number;
    await env.registry.transitionModelVersionStage(MODEL, added, 'Staging', false);
    await eventually(async () => {
      const res = await score(`${base()}/Staging/invocations`, { dataframe_split: ROWS });
      expect(res.status).toBe(200);
    });
    await env.registry.setAlias(MODEL, 'champion', added);
    const status = async () =>
      (
        (await request(`${host.url}/status`, { method: 'GET' })).json as {
          versions: { version: number; aliases: string[] }[];
        }
      ).versions;
    await eventually(async () => {
      expect((await status()).find((v) => v.version === added)?.aliases).toContain('champion');
    });
  });

  it('unloads an archived version and answers 404 naming the reason', async () => {
    const added = versions.added as number;
    await env.registry.transitionModelVersionStage(MODEL, added, 'Archived', false);
    await eventually(async () => {
      const res = await score(`${base()}/${added}/invocations`, { dataframe_split: ROWS });
      expect(res.status).toBe(404);
      expect((res.json as { message: string }).message).toMatch(/archived/);
    });
    await eventually(async () => {
      const events = await env.serving.servingEvents(MODEL, { version: added });
      expect(events.map((e) => e.type)).toContain('VERSION_UNLOADED');
    });
  });

  it('records each version’s serving state and events in the registry', async () => {
    const states = await env.serving.servingStatuses(MODEL);
    const fixture = states.find((s) => s.version === 1);
    expect(fixture).toMatchObject({ state: 'READY', flavor: 'python_function' });
    expect(fixture?.loadedAt).toBeGreaterThan(0);
    const events = await env.serving.servingEvents(MODEL, { version: 1 });
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['VERSION_LOADING', 'VERSION_LOADED']));
  });
});

describe('limits and failures', () => {
  it('answers a body over the limit with a JSON 413', async () => {
    const big = { dataframe_split: { columns: ROWS.columns, data: Array.from({ length: 6000 }, () => ROWS.data[0]) } };
    const res = await score(`${base()}/1/invocations`, big);
    expect(res.status).toBe(413);
    expect((res.json as { error_code: string }).error_code).toBe('BAD_REQUEST');
  });

  it('answers a request slower than the timeout with a JSON 504', async () => {
    const res = await score(`${base()}/@slow/invocations`, { dataframe_split: ROWS });
    expect(res.status).toBe(504);
    expect((res.json as { error_code: string }).error_code).toBe('DEADLINE_EXCEEDED');
  });

  it('fails only the in-flight requests of a killed worker, then restarts it', async () => {
    const slow = versions.slow as number;
    const status = async () =>
      (
        (await request(`${host.url}/status`, { method: 'GET' })).json as {
          versions: { version: number; state: string; pids: number[] }[];
        }
      ).versions;
    await eventually(async () => expect((await status()).find((v) => v.version === slow)?.state).toBe('READY'), 10_000);
    const pid = (await status()).find((v) => v.version === slow)?.pids[0] as number;
    expect(pid).toBeGreaterThan(0);
    const inFlight = score(`${base()}/${slow}/invocations`, { dataframe_split: ROWS });
    await new Promise((r) => setTimeout(r, 300));
    process.kill(pid, 'SIGKILL');
    const failed = await inFlight;
    expect(failed.status).toBe(503);
    expect((failed.json as { error_code: string }).error_code).toBe('TEMPORARILY_UNAVAILABLE');
    // Other versions are not disturbed.
    expect((await score(`${base()}/1/invocations`, { dataframe_split: ROWS })).status).toBe(200);
    await eventually(async () => {
      const v = (await status()).find((x) => x.version === slow);
      expect(v?.state).toBe('READY');
      expect(v?.pids[0]).not.toBe(pid);
    }, 20_000);
    await eventually(async () => {
      const events = await env.serving.servingEvents(MODEL, { version: slow });
      expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['WORKER_EXITED', 'WORKER_RESTARTED']));
    });
  });

  it('writes per-version metrics as CloudWatch EMF lines', async () => {
    await eventually(async () => {
      const line = host
        .output()
        .split('\n')
        .find((l) => l.includes('"CloudWatchMetrics"') && l.includes('"Version":"1"'));
      expect(line).toBeDefined();
      const emf = JSON.parse(line as string);
      expect(emf).toMatchObject({ Model: MODEL, Version: '1' });
      expect(emf.Requests).toBeGreaterThan(0);
    }, 3000);
  });
});
