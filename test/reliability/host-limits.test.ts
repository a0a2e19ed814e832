/**
 * The model host against hostile and heavy requests, as a serving task runs it (a child process
 * against a real registry): bodies nested too deep never reach recursive code or the Python
 * worker, the worker survives a frame it cannot decode, requests in flight on an archived
 * version finish, a stopping host leaves its successor's status alone, and large requests are
 * admitted within the task's memory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PredictionError } from '../../container/src/errors';
import { PyfuncRuntime } from '../../container/src/runtimes/pyfunc-worker';
import { DEFAULT_MAX_JSON_DEPTH } from '../../core/shared/json-limits';
import {
  IRIS_COLUMNS,
  IRIS_ROW,
  type IrisHost,
  largeIrisBody,
  SMALL_TASK_ENV,
  startIrisHost,
} from '../helpers/iris-host';
import { request, score } from '../helpers/model-host';
import { PYTHON } from '../helpers/models';

const nested = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
const MIB = 1024 * 1024;

let iris: IrisHost;

beforeAll(async () => {
  iris = await startIrisHost();
}, 120_000);

afterAll(async () => {
  await iris?.close();
});

describe('bodies nested too deep', () => {
  it('are answered 400 naming the limit, by both runtimes, and no process dies', async () => {
    const before = await iris.status();
    const workerPids = before.versions.find((v) => v.version === 1)?.pids;
    expect(workerPids?.length).toBeGreaterThan(0);
    for (const depth of [65, 900, 990, 1000, 5000, 7000, 100_000]) {
      for (const body of [
        `{"inputs": ${nested(depth)}}`,
        `{"dataframe_split": {"columns": ["sepal_length"], "data": ${nested(depth)}}}`,
        nested(depth),
      ]) {
        for (const version of [1, 2]) {
          const answer = await score(iris.url(version), body);
          expect(answer.status, `${depth} levels to version ${version}: ${answer.text.slice(0, 200)}`).toBe(400);
          expect(answer.json).toMatchObject({
            error_code: 'BAD_REQUEST',
            message: expect.stringContaining(`deeper than ${DEFAULT_MAX_JSON_DEPTH} levels`),
          });
        }
      }
    }
    const after = await iris.status();
    expect(after.process.pid).toBe(before.process.pid);
    expect(after.versions.find((v) => v.version === 1)?.pids).toEqual(workerPids);
    const ok = await score(iris.url(1), { dataframe_split: { columns: IRIS_COLUMNS, data: [IRIS_ROW] } });
    expect(ok.status).toBe(200);
  });
});

describe('the Python worker', () => {
  it('answers a frame it cannot decode (nested past Python’s recursion limit) with a 400 and keeps running', async () => {
    const version = await iris.env.registry.getModelVersion(iris.model, 1);
    const runtime = new PyfuncRuntime(
      {
        modelName: iris.model,
        version: 1,
        modelDir: new URL(version.source).pathname,
        artifact: version.artifact as NonNullable<typeof version.artifact>,
      },
      { python: PYTHON, loader: 'sklearn' },
    );
    await runtime.load();
    try {
      const [pid] = runtime.pids();
      let deep: unknown = 1;
      for (let i = 0; i < 3000; i++) deep = [deep];
      const error = await runtime.predict({ kind: 'tensor', data: [deep as number] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PredictionError);
      expect((error as PredictionError).errorCode).toBe('BAD_REQUEST');
      expect((error as Error).message).toMatch(/RecursionError/);
      expect(runtime.pids()).toEqual([pid]);
      const fine = await runtime.predict({ kind: 'dataframe', columns: IRIS_COLUMNS, rows: [IRIS_ROW] });
      expect(fine.predictions).toEqual([0]);
    } finally {
      await runtime.unload();
    }
  });
});

describe('a stopping host', () => {
  it('does not overwrite the status reported by the host of a newer revision that replaced it', async () => {
    const successor = await iris.startHost({ MLSERVE_REVISION: '2', MLSERVE_HOST_ID: 'successor' });
    const reportedBy = async () =>
      (await iris.env.serving.servingStatuses(iris.model)).map((s) => `${s.version}:${s.state}:${s.host}`).sort();
    await expect.poll(reportedBy, { timeout: 10_000 }).toEqual(['1:READY:successor', '2:READY:successor']);
    const old = await iris.startHost({ MLSERVE_REVISION: '1', MLSERVE_HOST_ID: 'older' });
    await old.stop();
    expect(await reportedBy()).toEqual(['1:READY:successor', '2:READY:successor']);
    // Its own report, though, it does replace when it stops.
    await successor.stop();
    await expect.poll(reportedBy, { timeout: 10_000 }).toEqual(['1:UNLOADED:successor', '2:UNLOADED:successor']);
  }, 60_000);
});

describe('memory admission on a Small task (1 GiB)', () => {
  it('serves four concurrent 15 MiB requests one after another within the memory, and refuses what can never fit', async () => {
    const small = await iris.startHost(SMALL_TASK_ENV);
    const url = (v: number) => `${small.url}/model/${iris.model}/${v}/invocations`;
    const big = largeIrisBody(15 * MIB, 'inputs');
    const answers = await Promise.all(Array.from({ length: 4 }, () => score(url(2), big)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    const first = answers[0]?.json as { predictions: { label: number[] } } | undefined;
    expect(first?.predictions.label.length).toBeGreaterThan(800_000);
    const status = await iris.status(small);
    expect(status.process.peakRssBytes).toBeLessThan(1024 * MIB);
    // A Python version needs more per body byte (its worker decodes the rows again): 15 MiB cannot fit in 1 GiB.
    const python = await score(url(1), largeIrisBody(15 * MIB, 'dataframe_split'));
    expect(python.status).toBe(413);
    expect(python.json).toMatchObject({
      error_code: 'BAD_REQUEST',
      message: expect.stringMatching(/larger compute size/),
    });
    expect((await iris.status(small)).admission).toMatchObject({ refusedTooLarge: 1 });
    const after = await score(url(1), { dataframe_split: { columns: IRIS_COLUMNS, data: [IRIS_ROW] } });
    expect(after.status).toBe(200);
    await small.stop();
  }, 120_000);
});

describe('archiving a version', () => {
  it('lets the requests already in flight on it finish before its worker stops', async () => {
    const body = largeIrisBody(8 * MIB, 'dataframe_split');
    const inFlight = score(iris.url(1), body);
    // The host reads the registry every 200 ms here; the request takes longer than that.
    await new Promise((r) => setTimeout(r, 50));
    await iris.env.registry.transitionModelVersionStage(iris.model, 1, 'Archived', false);
    const answer = await inFlight;
    expect(answer.status, answer.text.slice(0, 300)).toBe(200);
    await expect
      .poll(async () => (await score(iris.url(1), { inputs: [IRIS_ROW] })).status, { timeout: 10_000 })
      .toBe(404);
    const events = await iris.env.serving.servingEvents(iris.model, { version: 1 });
    expect(events.map((e) => e.type)).toContain('VERSION_UNLOADED');
  }, 60_000);
});

it('answers the status document with the memory budget', async () => {
  const status = await request(`${iris.host.url}/status`, { method: 'GET' });
  expect((status.json as { admission: { budgetBytes: number } }).admission.budgetBytes).toBeGreaterThan(0);
});
