/**
 * Adaptive batching and worker pools in a real model host: thousands of concurrent requests in
 * every format each get exactly what they get alone (scikit-learn through a pool of Python
 * workers, and ONNX); a malformed request in a batch gets its 400 while the others get their
 * predictions; a model whose output is not one value per row is detected and served one request
 * per call; killing one worker of a pool under load fails only what was in flight on it; and
 * MLflow's answer table holds when its requests arrive all at once.
 */
import { Agent, request as httpRequest } from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HostStatus, IRIS_COLUMNS, type IrisHost, startIrisHost } from '../helpers/iris-host';
import { recordedCases } from '../helpers/mlflow-answers';
import { trainSklearn } from '../helpers/models';
import { startSteadyLoad } from '../helpers/steady-load';

let iris: IrisHost;
const agent = new Agent({ keepAlive: true, maxSockets: 128 });

interface Answer {
  readonly status: number;
  readonly text: string;
}

/** POSTs `body` with `contentType` (`null`: no Content-Type header). */
function post(url: string, body: string, contentType: string | null = 'application/json'): Promise<Answer> {
  const headers: Record<string, string | number> = { 'Content-Length': Buffer.byteLength(body) };
  if (contentType !== null) headers['Content-Type'] = contentType;
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A seeded generator of iris-like rows, so a failure can be replayed. */
function rows(seed: number) {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  // Each feature within its range in the iris data set, to one decimal.
  const ranges = [
    [4.3, 4],
    [2, 2.5],
    [1, 6],
    [0.1, 2.5],
  ] as const;
  return () => ranges.map(([low, span]) => Math.round((low + next() * span) * 10) / 10);
}

type Body = { readonly body: string; readonly contentType?: string };
const record = (row: number[]) => Object.fromEntries(IRIS_COLUMNS.map((c, i) => [c, row[i] as number]));

/** The same rows in each MLflow format: 2.x, the tensor forms, CSV and the 1.x bodies. */
const FORMATS: readonly ((data: number[][]) => Body)[] = [
  (data) => ({ body: JSON.stringify({ dataframe_split: { columns: IRIS_COLUMNS, data } }) }),
  (data) => ({ body: JSON.stringify({ dataframe_records: data.map(record) }) }),
  (data) => ({ body: JSON.stringify({ inputs: data }) }),
  (data) => ({ body: JSON.stringify({ instances: data.map(record) }) }),
  (data) => ({
    body: `${IRIS_COLUMNS.join(',')}\n${data.map((r) => r.join(',')).join('\n')}\n`,
    contentType: 'text/csv',
  }),
  (data) => ({ body: JSON.stringify(data.map(record)) }),
  (data) => ({
    body: JSON.stringify({ columns: IRIS_COLUMNS, data }),
    contentType: 'application/json; format=pandas-split',
  }),
];

/** `count` requests of 1 to 3 distinct rows, cycling through the formats. */
function requests(count: number, seed: number): Body[] {
  const row = rows(seed);
  return Array.from({ length: count }, (_, i) => {
    const data = Array.from({ length: 1 + (i % 7 === 0 ? 2 : 0) }, row);
    return (FORMATS[i % FORMATS.length] as (d: number[][]) => Body)(data);
  });
}

const batchingOf = async (version: number) =>
  (await iris.status()).versions.find((v) => v.version === version) as HostStatus['versions'][number] & {
    batching: { calls: number; requests: number; batching: boolean; unbatchedBecause?: string };
  };

beforeAll(async () => {
  iris = await startIrisHost({ env: { MLSERVE_WORKERS_PER_VERSION: '2' } });
}, 120_000);

afterAll(async () => {
  agent.destroy();
  await iris?.close();
});

describe('batching under concurrency', () => {
  for (const [version, runtime] of [
    [1, 'scikit-learn (a pool of two Python workers)'],
    [2, 'ONNX'],
  ] as const) {
    it(`answers 2,000 concurrent requests in mixed formats exactly as each is answered alone: ${runtime}`, async () => {
      const bodies = requests(2000, version);
      const alone: Answer[] = [];
      for (const b of bodies) alone.push(await post(iris.url(version), b.body, b.contentType));
      expect(alone.filter((a) => a.status === 200).length).toBeGreaterThan(1500);
      const before = await batchingOf(version);
      const together = await Promise.all(bodies.map((b) => post(iris.url(version), b.body, b.contentType)));
      const after = await batchingOf(version);
      together.forEach((answer, i) => {
        expect({ ...answer, request: i }).toEqual({ ...(alone[i] as Answer), request: i });
      });
      // They really shared calls: fewer runtime calls than requests.
      const calls = after.batching.calls - before.batching.calls;
      const shared = after.batching.requests - before.batching.requests;
      expect(calls).toBeLessThan(shared / 2);
    }, 120_000);
  }
});

describe('a batch holding one malformed request', () => {
  it('answers that one 400 and the others 200 with their own predictions', async () => {
    const row = rows(99);
    const good = Array.from({ length: 40 }, () => [row()]);
    const bodies = good.map((data) => JSON.stringify({ dataframe_split: { columns: IRIS_COLUMNS, data } }));
    const bad = JSON.stringify({ dataframe_split: { columns: IRIS_COLUMNS, data: [['not a number', 3.5, 1.4, 0.2]] } });
    const expected: Answer[] = [];
    for (const b of bodies) expected.push(await post(iris.url(1), b));
    for (let round = 0; round < 5; round++) {
      const before = await batchingOf(1);
      const all = [...bodies.slice(0, 20), bad, ...bodies.slice(20)];
      const answers = await Promise.all(all.map((b) => post(iris.url(1), b)));
      const after = await batchingOf(1);
      expect(answers[20]?.status).toBe(400);
      expect(JSON.parse(answers[20]?.text ?? '{}')).toMatchObject({ error_code: 'BAD_REQUEST' });
      expect([...answers.slice(0, 20), ...answers.slice(21)]).toEqual(expected);
      if (after.batching.requests - before.batching.requests > after.batching.calls - before.batching.calls) return;
    }
    throw new Error('no round put the malformed request in a batch with others');
  }, 60_000);
});

describe('a model whose output is not one value per row', () => {
  it('is detected and served one request per call, with the answers batching off gives', async () => {
    const dir = path.join(iris.env.artifacts.dir, 'summary');
    trainSklearn('summary', dir);
    const created = await iris.env.registry.createModelVersion({ name: iris.model, source: pathToFileURL(dir).href });
    await iris.env.ready(iris.model, created.version);
    const version = created.version;
    await expect.poll(async () => (await batchingOf(version))?.state, { timeout: 30_000, interval: 200 }).toBe('READY');
    const row = rows(7);
    const bodies = Array.from({ length: 60 }, () =>
      JSON.stringify({ dataframe_split: { columns: IRIS_COLUMNS, data: [row(), row()] } }),
    );
    const alone: Answer[] = [];
    for (const b of bodies) alone.push(await post(iris.url(version), b));
    expect(alone[0]?.status).toBe(200);
    const together = await Promise.all(bodies.map((b) => post(iris.url(version), b)));
    expect(together).toEqual(alone);
    const state = await batchingOf(version);
    expect(state.batching.batching).toBe(false);
    expect(state.batching.unbatchedBecause).toMatch(/one entry per input row/);
    expect(iris.host.output()).toContain('serving one request per call');
  }, 90_000);
});

describe('a pool of workers', () => {
  it('keeps serving when one worker is killed under load: only what was in flight on it fails', async () => {
    const pids = (await batchingOf(1)).pids;
    expect(pids).toHaveLength(2);
    const body = JSON.stringify({ dataframe_split: { columns: IRIS_COLUMNS, data: [[5.1, 3.5, 1.4, 0.2]] } });
    const load = startSteadyLoad({ urls: [iris.url(1)], body, perSecond: 200, concurrency: 16 });
    await new Promise((r) => setTimeout(r, 1000));
    process.kill(pids[0] as number, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 2000));
    const result = await load.stop();
    expect(result.perSecond).toBeGreaterThan(100);
    // At most what the killed worker had in flight (one batch of the 16 connections' requests).
    expect(result.failures.length).toBeLessThanOrEqual(16);
    for (const failure of result.failures) {
      expect(failure.status).toBe(503);
      expect(failure.body).toMatch(/TEMPORARILY_UNAVAILABLE.*exited/);
    }
    await expect
      .poll(async () => (await batchingOf(1)).pids.filter((p) => !pids.includes(p)).length, { timeout: 20_000 })
      .toBe(1);
  }, 60_000);
});

describe("MLflow 2.17.2's answer table", () => {
  it('holds with batching on when its requests arrive all at once', async () => {
    const cases = recordedCases().filter((c) => c.method === 'POST' && c.path === '/invocations');
    const send = (c: (typeof cases)[number]) => {
      const body = c.body === undefined ? '' : c.body.endsWith('\n') ? c.body : `${c.body}\n`;
      return post(iris.url(1), body, c.contentType ?? null);
    };
    const alone: Answer[] = [];
    for (const c of cases) alone.push(await send(c));
    const copies = 8;
    const together = await Promise.all(cases.flatMap((c) => Array.from({ length: copies }, () => send(c))));
    together.forEach((answer, i) => {
      expect({ case: cases[Math.floor(i / copies)]?.name, ...answer }).toEqual({
        case: cases[Math.floor(i / copies)]?.name,
        ...(alone[Math.floor(i / copies)] as Answer),
      });
    });
  }, 60_000);
});
