/**
 * The serving API's metric series in the local twin: a real model served by a real model host
 * (the ONNX demo model, no Python), real scoring requests through the gateway, and the points
 * read back from the EMF lines the host writes to the model's log file every 10 s.
 */
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricHistoryResponse } from '../../lambdas/serving/responses';
import { eventually } from '../helpers/eventually';
import { REPO_ROOT } from '../helpers/paths';
import { startTestTwin, type TestTwin } from '../helpers/twin';

const API = '/api/2.0/preview/mlflow/endpoints';
const MODEL = 'series';
let twin: TestTwin;

beforeAll(async () => {
  twin = await startTestTwin();
  const dir = path.join(twin.artifactDir, 'iris-onnx');
  await cp(path.join(REPO_ROOT, 'twin/demo/iris-onnx'), dir, { recursive: true });
  await twin.registry.createRegisteredModel({ name: MODEL });
  await twin.registry.createModelVersion({ name: MODEL, source: pathToFileURL(dir).href });
  await twin.bus.drained();
  expect((await twin.call('POST', `${API}/enable`, { registered_model_name: MODEL })).status).toBe(200);
  await eventually(async () => expect((await twin.serving.modelServingStatus(MODEL)).state).toBe('READY'), 60_000);
}, 90_000);

afterAll(async () => {
  await twin?.close();
});

const scoreOnce = (body: unknown) =>
  fetch(`${twin.url}/model/${MODEL}/1/invocations`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...twin.adminAuth },
    body: JSON.stringify(body),
  }).then((r) => r.status);

describe('metric series in the twin', () => {
  it('counts real requests in the periods the host reported them, within one EMF interval', async () => {
    const since = Date.now();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push(await scoreOnce({ inputs: [[5.1, 3.5, 1.4, 0.2]] }));
    statuses.push(await scoreOnce({ nope: [1] }));
    expect(statuses).toEqual([200, 200, 200, 200, 200, 400]);

    // The host writes its EMF line every 10 s in the twin: the points show the requests within ~25 s.
    const history = await eventually(
      async () => {
        const res = await twin.call('GET', `${API}/get-metric-history`, {
          registered_model_name: MODEL,
          start_time_ms: since - 60_000,
          end_time_ms: Date.now() + 1000,
          period_seconds: 10,
        });
        expect(res.status).toBe(200);
        const body = res.json as unknown as MetricHistoryResponse;
        const points = body.metrics[0]?.points ?? [];
        expect(points.reduce((n, p) => n + p.requests, 0)).toBe(6);
        return body;
      },
      25_000,
      500,
    );
    expect(history.period_seconds).toBe(10);
    const version = history.metrics[0];
    expect(version?.endpoint_version_name).toBe('1');
    const points = version?.points ?? [];
    // Every 10-s period of the window, oldest first, aligned to whole periods.
    for (const [i, p] of points.entries()) {
      expect(p.timestamp_ms % 10_000).toBe(0);
      if (i > 0) expect(p.timestamp_ms - (points[i - 1]?.timestamp_ms ?? 0)).toBe(10_000);
    }
    expect(points[0]?.timestamp_ms).toBeLessThanOrEqual(since - 60_000);
    expect(points.reduce((n, p) => n + p.client_errors, 0)).toBe(1);
    expect(points.reduce((n, p) => n + p.server_errors, 0)).toBe(0);
    const busy = points.filter((p) => p.requests > 0);
    expect(busy.every((p) => p.timestamp_ms >= since - 10_000)).toBe(true);
    expect(busy.every((p) => typeof p.latency_p50_ms === 'number' && typeof p.latency_p99_ms === 'number')).toBe(true);
    expect(points.filter((p) => p.requests === 0).every((p) => p.latency_p50_ms === undefined)).toBe(true);
    // The window's figures are still there (the running task's counters).
    expect(version?.requests).toBe(6);
    expect(version?.client_errors).toBe(1);
  }, 60_000);

  it('defaults the period to a sixtieth of the window in whole minutes', async () => {
    const end = Date.now();
    const hour = await twin.call('GET', `${API}/get-metric-history`, {
      registered_model_name: MODEL,
      start_time_ms: end - 3600_000,
      end_time_ms: end,
    });
    expect(hour.json).toMatchObject({ period_seconds: 60 });
    expect(((hour.json as unknown as MetricHistoryResponse).metrics[0]?.points ?? []).length).toBeGreaterThanOrEqual(
      60,
    );
    const day = await twin.call('GET', `${API}/get-metric-history`, {
      registered_model_name: MODEL,
      start_time_ms: end - 24 * 3600_000,
      end_time_ms: end,
    });
    expect(day.json).toMatchObject({ period_seconds: 1440 });
  });

  it.each([
    [{ period_seconds: 0 }, /period_seconds must be at least 1/],
    [{ period_seconds: 1, start_time_ms: 0, end_time_ms: 3600_000 }, /more than 1440 points/],
    [{ start_time_ms: 2000, end_time_ms: 1000 }, /must be after start_time_ms/],
    [{ period_seconds: 'ten' }, /period_seconds/],
  ])('refuses %j with a 400 naming the problem', async (params, message) => {
    const res = await twin.call('GET', `${API}/get-metric-history`, { registered_model_name: MODEL, ...params });
    expect(res.status).toBe(400);
    expect(res.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(String(res.json.message)).toMatch(message);
  });
});
