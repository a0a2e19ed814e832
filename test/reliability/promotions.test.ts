/**
 * No redeploy fails a request: under a steady load (≥ 50 requests/s through the twin's gateway)
 * on a model's stage and alias, a new version promoted with archive-existing, an archived
 * version rolled back to Production, an alias moved to a version still loading, and a compute
 * resize (a new task replacing the old) all pass without a single answer other than 200 —
 * and afterwards the serving status says what the running task serves.
 */
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually';
import { IRIS_COLUMNS, IRIS_ROW } from '../helpers/iris-host';
import { request } from '../helpers/model-host';
import { IRIS_MODEL } from '../helpers/paths';
import { startSteadyLoad } from '../helpers/steady-load';
import { startTestTwin, type TestTwin } from '../helpers/twin';

const MODEL = 'steady';
const RATE = 60;
const BODY = JSON.stringify({ dataframe_split: { columns: IRIS_COLUMNS, data: [IRIS_ROW] } });

let twin: TestTwin;
const url = (ref: string) => `${twin.url}/model/${MODEL}/${ref}/invocations`;

async function api(method: string, apiPath: string, params: unknown): Promise<Record<string, unknown>> {
  const res = await twin.call(method, apiPath, params);
  if (res.status !== 200) throw new Error(`${method} ${apiPath}: ${res.status} ${res.text}`);
  return res.json;
}

/** Registers a copy of MLflow's iris model as the next version and waits for READY. */
async function registerVersion(): Promise<number> {
  const dir = path.join(twin.artifactDir, `${MODEL}-${Math.random().toString(36).slice(2)}`);
  await cp(IRIS_MODEL, dir, { recursive: true });
  const created = await api('POST', '/api/2.0/mlflow/model-versions/create', {
    name: MODEL,
    source: pathToFileURL(dir).href,
  });
  const version = (created.model_version as { version: string }).version;
  await eventually(async () => {
    const got = await api('GET', '/api/2.0/mlflow/model-versions/get', { name: MODEL, version });
    expect((got.model_version as { status: string }).status).toBe('READY');
  }, 30_000);
  return Number(version);
}

const transition = (version: number, stage: string) =>
  api('POST', '/api/2.0/mlflow/model-versions/transition-stage', {
    name: MODEL,
    version: String(version),
    stage,
    archive_existing_versions: true,
  });

interface HostStatus {
  versions: { version: number; state: string }[];
  handovers?: { ref: string; from: number; to: number }[];
}

/** The serving task's own status document (through the gateway, as the load balancer routes it). */
async function hostStatus(): Promise<HostStatus> {
  const res = await request(`${twin.url}/model/${MODEL}/status`, { method: 'GET', headers: twin.adminAuth });
  return res.json as HostStatus;
}

/** Waits until the task serves exactly `versions`, all READY, with no stage or alias still handing over. */
async function servesExactly(versions: number[]): Promise<void> {
  await eventually(async () => {
    const status = await hostStatus();
    expect(status.versions.map((v) => `${v.version}:${v.state}`)).toEqual(versions.map((v) => `${v}:READY`));
    expect(status.handovers ?? []).toEqual([]);
  }, 60_000);
}

/** Runs `change` under the steady load and answers the load's result once the task has settled. */
async function underLoad(refs: string[], change: () => Promise<void>) {
  const load = startSteadyLoad({ urls: refs.map(url), body: BODY, headers: twin.adminAuth, perSecond: RATE });
  await new Promise((r) => setTimeout(r, 500));
  await change();
  await new Promise((r) => setTimeout(r, 500));
  const result = await load.stop();
  expect(result.failures, JSON.stringify(result.failures.slice(0, 5))).toEqual([]);
  expect(result.perSecond).toBeGreaterThanOrEqual(50);
  return result;
}

beforeAll(async () => {
  twin = await startTestTwin();
  await api('POST', '/api/2.0/mlflow/registered-models/create', { name: MODEL });
  const first = await registerVersion();
  await transition(first, 'Production');
  await api('POST', '/api/2.0/mlflow/registered-models/alias', { name: MODEL, alias: 'champion', version: '1' });
  await api('POST', '/api/2.0/preview/mlflow/endpoints/enable', { registered_model_name: MODEL });
  await servesExactly([1]);
}, 180_000);

afterAll(async () => {
  await twin?.close();
});

describe('under a steady load on the stage and the alias, no request fails when', () => {
  it('a new version is registered and promoted to Production with archive-existing', async () => {
    await underLoad(['Production'], async () => {
      const second = await registerVersion();
      await transition(second, 'Production');
      await servesExactly([2]);
    });
  }, 120_000);

  it('an archived version is rolled back to Production (it loads while the current one answers)', async () => {
    await underLoad(['Production'], async () => {
      await transition(1, 'Production');
      await servesExactly([1]);
    });
  }, 120_000);

  it('an alias moves to a version that is still loading', async () => {
    await api('POST', '/api/2.0/mlflow/registered-models/alias', { name: MODEL, alias: 'champion', version: '1' });
    await underLoad(['@champion', 'Production'], async () => {
      const third = await registerVersion();
      await api('POST', '/api/2.0/mlflow/registered-models/alias', {
        name: MODEL,
        alias: 'champion',
        version: String(third),
      });
      await servesExactly([1, third]);
    });
  }, 120_000);

  it('the compute size changes (a new task replaces the old one), and the status then tells the truth', async () => {
    const before = await api('GET', '/api/2.0/preview/mlflow/endpoints/get-status', { registered_model_name: MODEL });
    expect(before.endpoint_status).toMatchObject({ state: 'ENDPOINT_STATE_READY', compute_size: 'Small' });
    const oldTasks = twin.ecs.tasksForModel(MODEL).map((t) => t.id);
    expect(oldTasks).toHaveLength(1);
    await underLoad(['Production', '@champion'], async () => {
      await api('POST', '/api/2.0/preview/mlflow/endpoints/update-cluster-config', {
        registered_model_name: MODEL,
        compute_size: 'Medium',
      });
      await eventually(async () => {
        const tasks = twin.ecs.tasksForModel(MODEL).map((t) => t.id);
        expect(tasks).toHaveLength(1);
        expect(tasks).not.toEqual(oldTasks);
        const status = await api('GET', '/api/2.0/preview/mlflow/endpoints/get-status', {
          registered_model_name: MODEL,
        });
        expect(status.endpoint_status).toMatchObject({ state: 'ENDPOINT_STATE_READY', compute_size: 'Medium' });
      }, 90_000);
    });
    // What the serving API reports is what the running task serves, and stays so.
    for (let i = 0; i < 5; i++) {
      const listed = await api('GET', '/api/2.0/preview/mlflow/endpoints/list-versions', {
        registered_model_name: MODEL,
      });
      const states = (listed.endpoint_versions as { endpoint_version_name: string; state: string }[]).map(
        (v) => `${v.endpoint_version_name}:${v.state}`,
      );
      expect(states).toEqual(['1:VERSION_STATE_READY', '3:VERSION_STATE_READY']);
      await new Promise((r) => setTimeout(r, 500));
    }
  }, 180_000);
});
