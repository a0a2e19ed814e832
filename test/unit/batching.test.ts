import { describe, expect, it } from 'vitest';
import {
  type BatchingSettings,
  batchKey,
  mergeInputs,
  samePredictions,
  splitPredictions,
} from '../../container/src/batching';
import { PredictionError, RuntimeUnavailableError } from '../../container/src/errors';
import { RequestQueue } from '../../container/src/request-queue';
import type { ModelRuntime, Prediction } from '../../container/src/runtimes/runtime';
import type { Json, ScoringInput, ScoringRequest } from '../../container/src/scoring/input';

const table = (rows: number[][], columns = ['a', 'b']): ScoringRequest => ({
  input: { kind: 'dataframe', columns, rows },
  protocol: '2.x',
});

describe('which requests may share a call', () => {
  it('tables with the same columns, params and protocol', () => {
    expect(batchKey(table([[1, 2]]))).toBe(
      batchKey(
        table([
          [3, 4],
          [5, 6],
        ]),
      ),
    );
    expect(batchKey(table([[1, 2]], ['a', 'c']))).not.toBe(batchKey(table([[1, 2]])));
    expect(batchKey({ ...table([[1, 2]]), protocol: '1.x' })).not.toBe(batchKey(table([[1, 2]])));
    expect(batchKey({ ...table([[1, 2]]), params: { k: 1 } })).not.toBe(batchKey(table([[1, 2]])));
  });

  it('tensors with the same inner shape; named tensors with the same names and shapes', () => {
    const tensor = (data: Json[]): ScoringRequest => ({ input: { kind: 'tensor', data }, protocol: 'either' });
    expect(batchKey(tensor([[1, 2]]))).toBe(batchKey(tensor([[3, 4]])));
    expect(batchKey(tensor([[1, 2]]))).not.toBe(batchKey(tensor([[1, 2, 3]])));
    const named = (data: { [k: string]: Json }): ScoringRequest => ({
      input: { kind: 'tensors', data },
      protocol: '2.x',
    });
    expect(batchKey(named({ x: [1], y: [[1, 2]] }))).toBe(batchKey(named({ y: [[3, 4]], x: [2] })));
    expect(batchKey(named({ x: [1], y: [1, 2] }))).toBeUndefined();
  });

  it('never a bare value, an empty input or named scalars', () => {
    expect(batchKey({ input: { kind: 'tensor', data: [5], wrapped: true }, protocol: 'either' })).toBeUndefined();
    expect(batchKey(table([]))).toBeUndefined();
    expect(batchKey({ input: { kind: 'tensors', data: { x: 1 } }, protocol: '2.x' })).toBeUndefined();
  });
});

describe('merging and splitting', () => {
  it('merges rows in order, and splits a list or columns of lists back by rows', () => {
    const merged = mergeInputs([
      table([[1, 2]]).input,
      table([
        [3, 4],
        [5, 6],
      ]).input,
    ]);
    expect(merged).toEqual({
      kind: 'dataframe',
      columns: ['a', 'b'],
      rows: [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
    });
    expect(splitPredictions([10, 20, 30], [1, 2])).toEqual([[10], [20, 30]]);
    expect(splitPredictions({ label: [0, 1, 2], p: [[0.1], [0.2], [0.3]] }, [2, 1])).toEqual([
      { label: [0, 1], p: [[0.1], [0.2]] },
      { label: [2], p: [[0.3]] },
    ]);
  });

  it('refuses predictions that are not one entry per row', () => {
    expect(splitPredictions(3.5, [1, 1])).toBeUndefined();
    expect(splitPredictions([1], [1, 1])).toBeUndefined();
    expect(splitPredictions({ label: [0, 1], total: 3 }, [1, 1])).toBeUndefined();
  });

  it('compares predictions up to rounding only', () => {
    expect(samePredictions({ a: [0.1 + 0.2] }, { a: [0.3] })).toBe(true);
    expect(samePredictions([0.3], [0.31])).toBe(false);
    expect(samePredictions([1, 2], [1])).toBe(false);
  });
});

/** A runtime that answers each call when the test says so: what the queue under test drives. */
class ManualRuntime implements ModelRuntime {
  readonly flavor = 'test';
  readonly memoryPerBodyByte = 1;
  readonly calls: { input: ScoringInput; settle: (outcome: Prediction | Error) => void }[] = [];
  constructor(private readonly slots = 1) {}
  predict(input: ScoringInput): Promise<Prediction> {
    return new Promise((resolve, reject) => {
      this.calls.push({ input, settle: (o) => (o instanceof Error ? reject(o) : resolve(o)) });
    });
  }
  load = async () => {};
  unload = async () => {};
  ready = () => true;
  concurrency = () => this.slots;
  pids = () => [];
}

/** The rows of a table input (what these tests send). */
const rowsOf = (input: ScoringInput | undefined) =>
  (input as Extract<ScoringInput, { kind: 'dataframe' }>).rows as number[][];

/** Answers a call with each row's first value doubled, one per row. */
const double = (input: ScoringInput): Prediction => ({
  predictions: rowsOf(input).map((r) => (r[0] as number) * 2),
});
const settings =
  (over: Partial<BatchingSettings> = {}) =>
  () => ({
    enabled: true,
    maxBatchRows: 100,
    maxWaitMs: 0,
    ...over,
  });
const tick = () => new Promise((r) => setImmediate(r));

describe('the request queue', () => {
  it('sends a request that finds the runtime free at once, and merges those that wait', async () => {
    const runtime = new ManualRuntime();
    const queue = new RequestQueue(() => runtime, settings());
    const first = queue.submit(table([[1, 0]]));
    expect(runtime.calls).toHaveLength(1);
    const waiting = [
      queue.submit(table([[2, 0]])),
      queue.submit(
        table([
          [3, 0],
          [4, 0],
        ]),
      ),
    ];
    expect(runtime.calls).toHaveLength(1);
    runtime.calls[0]?.settle(double(runtime.calls[0].input));
    expect(await first).toEqual({ predictions: [2] });
    await tick();
    expect(runtime.calls).toHaveLength(2);
    expect(rowsOf(runtime.calls[1]?.input)).toEqual([
      [2, 0],
      [3, 0],
      [4, 0],
    ]);
    // The first batched calls are checked against the requests run alone.
    runtime.calls[1]?.settle(double(runtime.calls[1].input));
    await tick();
    for (const call of runtime.calls.slice(2)) call.settle(double(call.input));
    expect(await Promise.all(waiting)).toEqual([{ predictions: [4] }, { predictions: [6, 8] }]);
    expect(queue.snapshot()).toMatchObject({ batching: true, calls: 2, requests: 3, rows: 4 });
  });

  it('keeps each batch within the row limit', async () => {
    const runtime = new ManualRuntime();
    const queue = new RequestQueue(() => runtime, settings({ maxBatchRows: 2 }));
    void queue.submit(table([[0, 0]]));
    for (let i = 1; i <= 3; i++) void queue.submit(table([[i, 0]]));
    runtime.calls[0]?.settle(double(runtime.calls[0].input));
    await tick();
    expect(rowsOf(runtime.calls[1]?.input)).toHaveLength(2);
  });

  it('re-runs a batch that failed with a client error request by request, so only the bad one fails', async () => {
    const runtime = new ManualRuntime(1);
    const queue = new RequestQueue(() => runtime, settings());
    void queue.submit(table([[0, 0]]));
    const good = queue.submit(table([[1, 0]]));
    const bad = queue.submit(table([[-1, 0]]));
    runtime.calls[0]?.settle(double(runtime.calls[0].input));
    await tick();
    runtime.calls[1]?.settle(new PredictionError('BAD_REQUEST', 'negative'));
    await tick();
    const [aloneGood, aloneBad] = runtime.calls.slice(2);
    aloneGood?.settle(double(aloneGood.input));
    aloneBad?.settle(new PredictionError('BAD_REQUEST', 'negative'));
    expect(await good).toEqual({ predictions: [2] });
    await expect(bad).rejects.toThrow('negative');
  });

  it('fails a whole batch with a retryable error when its worker died', async () => {
    const runtime = new ManualRuntime(1);
    const queue = new RequestQueue(() => runtime, settings());
    void queue.submit(table([[0, 0]]));
    const a = queue.submit(table([[1, 0]]));
    const b = queue.submit(table([[2, 0]]));
    runtime.calls[0]?.settle(double(runtime.calls[0].input));
    await tick();
    runtime.calls[1]?.settle(new RuntimeUnavailableError('worker exited'));
    await expect(a).rejects.toBeInstanceOf(RuntimeUnavailableError);
    await expect(b).rejects.toBeInstanceOf(RuntimeUnavailableError);
    expect(runtime.calls).toHaveLength(2);
  });

  it('stops batching a version whose predictions are not one per row, saying why once', async () => {
    const runtime = new ManualRuntime(1);
    const reasons: string[] = [];
    const queue = new RequestQueue(
      () => runtime,
      settings(),
      (r) => reasons.push(r),
    );
    void queue.submit(table([[0, 0]]));
    const a = queue.submit(table([[1, 0]]));
    const b = queue.submit(table([[2, 0]]));
    runtime.calls[0]?.settle({ predictions: 7 });
    await tick();
    runtime.calls[1]?.settle({ predictions: 7 });
    await tick();
    for (const call of runtime.calls.slice(2)) call.settle({ predictions: 7 });
    expect(await Promise.all([a, b])).toEqual([{ predictions: 7 }, { predictions: 7 }]);
    expect(reasons).toEqual(['its predictions do not have one entry per input row']);
    expect(queue.snapshot().batching).toBe(false);
  });

  it('with a wait configured, holds a request briefly so others can join it', async () => {
    const runtime = new ManualRuntime(1);
    const queue = new RequestQueue(() => runtime, settings({ maxWaitMs: 20 }));
    void queue.submit(table([[1, 0]]));
    void queue.submit(table([[2, 0]]));
    expect(runtime.calls).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 40));
    expect(runtime.calls).toHaveLength(1);
    expect(rowsOf(runtime.calls[0]?.input)).toEqual([
      [1, 0],
      [2, 0],
    ]);
  });

  it('with batching off, sends each request as its own call', () => {
    const runtime = new ManualRuntime(1);
    const queue = new RequestQueue(() => runtime, settings({ enabled: false }));
    for (let i = 0; i < 3; i++) void queue.submit(table([[i, 0]]));
    expect(runtime.calls).toHaveLength(3);
  });
});
