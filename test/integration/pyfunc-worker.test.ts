import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { FrameError, ModelPredictionError, PredictionError, RuntimeUnavailableError } from '../../container/src/errors';
import { PyfuncRuntime, type PyfuncRuntimeOptions, type WorkerEvent } from '../../container/src/runtimes/pyfunc-worker';
import type { LoadSpec } from '../../container/src/runtimes/runtime';
import { encodeFrame, FrameDecoder } from '../../container/src/runtimes/worker-protocol';
import type { ScoringInput } from '../../container/src/scoring/input';
import type { ArtifactInfo } from '../../core/registry/model';
import { FIXTURES, IRIS_MODEL, REPO_ROOT } from '../helpers/paths';

const PYTHON = '/usr/bin/python3';
const TRAIN = path.join(REPO_ROOT, 'test/fixtures/build/train_sklearn.py');
const KINDS = ['iris-logreg', 'diabetes-regressor', 'slow', 'mlflow1', 'no-signature', 'tensor-signature'] as const;
const IRIS_COLUMNS = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const SETOSA = [5.1, 3.5, 1.4, 0.2];
const VIRGINICA = [6.7, 3.0, 5.2, 2.3];

const run = promisify(execFile);

let dir: string;
const models: Record<string, string> = {};
const runtimes: PyfuncRuntime[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mlserve-pyfunc-'));
  await Promise.all(
    KINDS.map(async (kind) => {
      models[kind] = path.join(dir, kind);
      await run(PYTHON, [TRAIN, kind, models[kind] as string]);
    }),
  );
  models.fixture = path.join(dir, 'fixture-iris');
  await cp(IRIS_MODEL, models.fixture, { recursive: true });
});

afterAll(async () => {
  await Promise.all(runtimes.map((r) => r.unload()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

function model(name: string): string {
  const dirName = models[name];
  if (!dirName) throw new Error(`no model ${name}`);
  return dirName;
}

/** What the registration check records, read from the directory's MLmodel. */
async function specFor(modelDir: string, version = 1): Promise<LoadSpec> {
  const doc = parseYaml(await readFile(path.join(modelDir, 'MLmodel'), 'utf8')) as Record<string, unknown>;
  const signature = doc.signature as Record<string, string | null> | undefined;
  const artifact: ArtifactInfo = {
    flavors: doc.flavors as Record<string, unknown>,
    mlflowVersion: doc.mlflow_version as string,
    signature: signature
      ? {
          inputs: signature.inputs ?? undefined,
          outputs: signature.outputs ?? undefined,
          params: signature.params ?? undefined,
        }
      : undefined,
  };
  return { modelName: path.basename(modelDir), version, modelDir, artifact };
}

function runtime(spec: LoadSpec, options: PyfuncRuntimeOptions = {}): PyfuncRuntime {
  const r = new PyfuncRuntime(spec, { python: PYTHON, ...options });
  runtimes.push(r);
  return r;
}

async function loaded(name: string, options: PyfuncRuntimeOptions = {}): Promise<PyfuncRuntime> {
  const r = runtime(await specFor(model(name)), options);
  await r.load();
  return r;
}

/** The rejection of a promise that must reject. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: Error) => error,
  );
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** MLflow 2.17.2's scoring server answers, by case name, from the recorded fixture. */
async function mlflowAnswers(): Promise<Map<string, { status: number; body: string }>> {
  const text = await readFile(path.join(FIXTURES, 'scoring-server-responses.txt'), 'utf8');
  const answers = new Map<string, { status: number; body: string }>();
  for (const section of text.split(/^### /m).slice(1)) {
    const name = section.slice(0, section.indexOf('\n')).trim();
    const status = Number(/^< status (\d+)/m.exec(section)?.[1]);
    const body = /^< body: (.*)$/m.exec(section)?.[1] ?? '';
    answers.set(name, { status, body });
  }
  return answers;
}

const frame = (columns: string[] | undefined, ...rows: number[][]): ScoringInput =>
  columns ? { kind: 'dataframe', columns, rows } : { kind: 'dataframe', rows };

describe('worker frames', () => {
  it('encodes a 4-byte big-endian length and UTF-8 JSON, and decodes frames split anywhere', () => {
    const a = encodeFrame({ id: 1, text: 'héllo' });
    expect(a.readUInt32BE(0)).toBe(a.length - 4);
    expect(JSON.parse(a.subarray(4).toString('utf8'))).toEqual({ id: 1, text: 'héllo' });
    const b = encodeFrame([1, 2, 3]);
    const bytes = Buffer.concat([a, b]);
    const decoder = new FrameDecoder();
    const out: unknown[] = [];
    for (let i = 0; i < bytes.length; i += 3) out.push(...decoder.push(bytes.subarray(i, i + 3)));
    expect(out).toEqual([{ id: 1, text: 'héllo' }, [1, 2, 3]]);
    expect(decoder.pending()).toBe(0);
  });

  it('refuses a frame that is not JSON', () => {
    const body = Buffer.from('{nope');
    const header = Buffer.alloc(4);
    header.writeUInt32BE(body.length);
    expect(() => new FrameDecoder().push(Buffer.concat([header, body]))).toThrow(FrameError);
  });
});

describe('PyfuncRuntime with the sklearn loader (no MLflow installed)', () => {
  let iris: PyfuncRuntime;
  let answers: Map<string, { status: number; body: string }>;
  const logLines: string[] = [];

  beforeAll(async () => {
    answers = await mlflowAnswers();
    iris = await loaded('fixture', { logger: (line) => logLines.push(line) });
  });

  it('predicts what MLflow 2.17.2 predicts for its own iris model', async () => {
    expect(iris.ready()).toBe(true);
    expect(iris.flavor).toBe('python_function');
    expect(iris.loadedWith).toBe('sklearn');
    expect(iris.pids()).toHaveLength(1);
    expect(logLines.some((l) => l.includes('with the sklearn loader'))).toBe(true);

    const mlflow = JSON.parse(answers.get('dataframe_split')?.body ?? '{}');
    expect(mlflow).toEqual({ predictions: [0, 2] });
    expect(await iris.predict(frame(IRIS_COLUMNS, SETOSA, VIRGINICA))).toEqual(mlflow);
    // dataframe_records with columns in another order: reordered to the signature.
    const reordered = [IRIS_COLUMNS[3], IRIS_COLUMNS[0], IRIS_COLUMNS[2], IRIS_COLUMNS[1]] as string[];
    expect(await iris.predict(frame(reordered, [0.2, 5.1, 1.4, 3.5], [2.3, 6.7, 5.2, 3.0]))).toEqual(mlflow);
    // inputs as a dict of columns, and the same with scalars (one row).
    const columns = Object.fromEntries(IRIS_COLUMNS.map((c, i) => [c, [SETOSA[i] as number]]));
    expect(await iris.predict({ kind: 'tensors', data: columns })).toEqual(
      JSON.parse(answers.get('inputs_dict_columnar')?.body ?? '{}'),
    );
    const scalars = Object.fromEntries(IRIS_COLUMNS.map((c, i) => [c, VIRGINICA[i] as number]));
    expect(await iris.predict({ kind: 'tensors', data: scalars })).toEqual({ predictions: [2] });
    // params are accepted and ignored; an extra column is dropped.
    expect(await iris.predict(frame(IRIS_COLUMNS, SETOSA), { foo: 1 })).toEqual(
      JSON.parse(answers.get('params')?.body ?? '{}'),
    );
    expect(await iris.predict(frame([...IRIS_COLUMNS, 'extra'], [...SETOSA, 9]))).toEqual({ predictions: [0] });
  });

  it.each([
    ['dataframe_split_no_columns', frame(undefined, SETOSA)],
    ['inputs_list', { kind: 'tensor', data: [SETOSA] } as ScoringInput],
    ['instances_list', { kind: 'tensor', data: [SETOSA] } as ScoringInput],
    ['err_missing_column', frame(IRIS_COLUMNS.slice(0, 3), SETOSA.slice(0, 3))],
    [
      'err_wrong_type_value',
      { kind: 'dataframe', columns: IRIS_COLUMNS, rows: [['abc', 3.5, 1.4, 0.2]] } as ScoringInput,
    ],
    ['err_csv_missing_column', frame(IRIS_COLUMNS.slice(0, 2), [5.1, 3.5])],
  ])('answers %s with MLflow’s error code and message', async (name, input) => {
    const expected = JSON.parse(answers.get(name)?.body ?? '{}') as { error_code: string; message: string };
    expect(expected.error_code).toMatch(/^(INVALID_PARAMETER_VALUE|BAD_REQUEST)$/);
    const error = await failure(iris.predict(input));
    expect(error).toBeInstanceOf(PredictionError);
    expect((error as PredictionError).errorCode).toBe(expected.error_code);
    expect(error.message).toBe(expected.message);
    expect(iris.ready()).toBe(true);
  });

  it('answers a model failure as MLflow does, with the traceback kept', async () => {
    const error = await failure(
      iris.predict({ kind: 'dataframe', columns: IRIS_COLUMNS, rows: [[null, 3.5, 1.4, 0.2]] }),
    );
    expect(error).toBeInstanceOf(ModelPredictionError);
    expect((error as ModelPredictionError).errorCode).toBe('BAD_REQUEST');
    expect(error.message).toMatch(/^Encountered an unexpected error while evaluating the model/);
    expect((error as ModelPredictionError).stackTrace).toMatch(/ValueError: Input X contains NaN/);
    expect(await iris.predict(frame(IRIS_COLUMNS, VIRGINICA))).toEqual({ predictions: [2] });
  });

  it('answers a table with a repeated column name as a client error, never a 500', async () => {
    const columns = [IRIS_COLUMNS[0], ...IRIS_COLUMNS.slice(0, 3)] as string[];
    const error = await failure(iris.predict(frame(columns, [5.1, 5.1, 3.5, 1.4])));
    expect(error).toBeInstanceOf(PredictionError);
    expect(iris.ready()).toBe(true);
  });

  it('matches many concurrent replies to their requests', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? VIRGINICA : SETOSA));
    const results = await Promise.all(rows.map((row) => iris.predict(frame(IRIS_COLUMNS, row))));
    expect(results.map((r) => r.predictions)).toEqual(rows.map((row) => [row === VIRGINICA ? 2 : 0]));
  });

  it('predicts floats with a regressor', async () => {
    const regressor = await loaded('diabetes-regressor');
    const script = [
      'import json, sys, cloudpickle',
      'from sklearn.datasets import load_diabetes',
      'd = load_diabetes(as_frame=True)',
      'm = cloudpickle.load(open(sys.argv[1] + "/model.pkl", "rb"))',
      'print(json.dumps({"columns": list(d.data.columns), "rows": d.data.head(3).values.tolist(),',
      '  "expected": m.predict(d.data.head(3)).tolist()}))',
    ].join('\n');
    const { stdout } = await run(PYTHON, ['-c', script, model('diabetes-regressor')]);
    const { columns, rows, expected } = JSON.parse(stdout) as {
      columns: string[];
      rows: number[][];
      expected: number[];
    };
    const { predictions } = await regressor.predict({ kind: 'dataframe', columns, rows });
    expect(predictions).toHaveLength(3);
    (predictions as number[]).forEach((p, i) => {
      expect(Number.isInteger(p)).toBe(false);
      expect(p).toBeCloseTo(expected[i] as number, 9);
    });
  });

  it('serves a model without a signature: data goes to the model as sent', async () => {
    const r = await loaded('no-signature');
    expect(await r.predict(frame(IRIS_COLUMNS, SETOSA, VIRGINICA))).toEqual({ predictions: [0, 2] });
    expect(await r.predict({ kind: 'tensor', data: [SETOSA, VIRGINICA] })).toEqual({ predictions: [0, 2] });
    const error = await failure(r.predict({ kind: 'tensor', data: [[1, 2, 3]] }));
    expect((error as PredictionError).errorCode).toBe('BAD_REQUEST');
  });

  it('serves a tensor signature: arrays of its dtype, shape checked', async () => {
    const r = await loaded('tensor-signature');
    expect(await r.predict({ kind: 'tensor', data: [SETOSA, VIRGINICA] })).toEqual({ predictions: [0, 2] });
    expect(await r.predict(frame(undefined, VIRGINICA))).toEqual({ predictions: [2] });
    expect(await r.predict({ kind: 'tensors', data: { x: [SETOSA] } })).toEqual({ predictions: [0] });
    const error = await failure(r.predict({ kind: 'tensor', data: [[5.1, 3.5, 1.4]] }));
    expect((error as PredictionError).errorCode).toBe('INVALID_PARAMETER_VALUE');
    expect(error.message).toBe(
      "Failed to predict data '[[5.1 3.5 1.4]]'. \nError: Failed to enforce schema of data '[[5.1 3.5 1.4]]' " +
        "with schema '[Tensor('float64', (-1, 4))]'. Error: Shape of input (1, 3) does not match expected shape (-1, 4).",
    );
  });

  it('serves a model saved by MLflow 1.30', async () => {
    const r = await loaded('mlflow1');
    expect(await r.predict(frame(IRIS_COLUMNS, SETOSA, VIRGINICA))).toEqual({ predictions: [0, 2] });
  });

  it('answers requests one at a time, in order', async () => {
    const slow = await loaded('slow', { env: { MLSERVE_TEST_SLOW_SECONDS: '0.3' } });
    const started = Date.now();
    const rows = [SETOSA, VIRGINICA, VIRGINICA, SETOSA];
    const order: number[] = [];
    const results = await Promise.all(
      rows.map((row, i) =>
        slow.predict(frame(IRIS_COLUMNS, row)).then((p) => {
          order.push(i);
          return p.predictions;
        }),
      ),
    );
    expect(results).toEqual([[0], [2], [2], [0]]);
    expect(order).toEqual([0, 1, 2, 3]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1150);
  });
});

describe('PyfuncRuntime worker lifecycle', () => {
  it('fails in-flight requests when the worker is killed, then restarts it', async () => {
    const events: WorkerEvent[] = [];
    const r = await loaded('slow', {
      env: { MLSERVE_TEST_SLOW_SECONDS: '1' },
      restartBackoffMs: { initial: 50, max: 1000 },
      onEvent: (e) => events.push(e),
    });
    const [pid] = r.pids();
    expect(pid).toBeTypeOf('number');
    expect(events.map((e) => e.type)).toEqual(['WORKER_STARTED']);

    const inFlight = failure(r.predict(frame(IRIS_COLUMNS, SETOSA)));
    const queued = failure(r.predict(frame(IRIS_COLUMNS, VIRGINICA)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    process.kill(pid as number, 'SIGKILL');

    for (const error of [await inFlight, await queued]) {
      expect(error).toBeInstanceOf(RuntimeUnavailableError);
      expect(error.message).toBe('worker for slow version 1 exited (signal SIGKILL); retry the request');
    }
    expect(r.ready()).toBe(false);
    expect(await failure(r.predict(frame(IRIS_COLUMNS, SETOSA)))).toBeInstanceOf(RuntimeUnavailableError);
    expect(events[1]).toMatchObject({ type: 'WORKER_EXITED', pid });

    await until(() => events.some((e) => e.type === 'WORKER_RESTARTED'), 15_000, 'WORKER_RESTARTED');
    const restarted = events.find((e) => e.type === 'WORKER_RESTARTED');
    expect(r.ready()).toBe(true);
    expect(r.pids()).toEqual([restarted?.pid]);
    expect(restarted?.pid).not.toBe(pid);
    expect(alive(pid as number)).toBe(false);
    expect(await r.predict(frame(IRIS_COLUMNS, VIRGINICA))).toEqual({ predictions: [2] });
  });

  it('keeps retrying a restart whose load fails, reporting each failure', async () => {
    const modelDir = path.join(dir, 'restart-fails');
    await cp(IRIS_MODEL, modelDir, { recursive: true });
    const events: WorkerEvent[] = [];
    const r = runtime(await specFor(modelDir), {
      restartBackoffMs: { initial: 50, max: 200 },
      onEvent: (e) => events.push(e),
    });
    await r.load();
    const pickle = await readFile(path.join(modelDir, 'model.pkl'));
    await writeFile(path.join(modelDir, 'model.pkl'), 'not a pickle');
    process.kill(r.pids()[0] as number, 'SIGKILL');

    await until(() => events.filter((e) => e.type === 'WORKER_FAILED').length >= 2, 15_000, 'two WORKER_FAILED');
    expect(r.ready()).toBe(false);
    expect(events.find((e) => e.type === 'WORKER_FAILED')?.message).toMatch(
      /could not restart: cannot unpickle model\.pkl/,
    );
    await writeFile(path.join(modelDir, 'model.pkl'), pickle);
    await until(() => events.some((e) => e.type === 'WORKER_RESTARTED'), 15_000, 'WORKER_RESTARTED');
    expect(await r.predict(frame(IRIS_COLUMNS, SETOSA))).toEqual({ predictions: [0] });
  });

  it('unload during the restart backoff stops the restart', async () => {
    const events: WorkerEvent[] = [];
    const r = await loaded('fixture', { restartBackoffMs: { initial: 300, max: 300 }, onEvent: (e) => events.push(e) });
    process.kill(r.pids()[0] as number, 'SIGKILL');
    await until(() => events.some((e) => e.type === 'WORKER_EXITED'), 5000, 'WORKER_EXITED');
    expect(await failure(r.predict(frame(IRIS_COLUMNS, SETOSA)))).toBeInstanceOf(RuntimeUnavailableError);
    await r.unload();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(events.map((e) => e.type)).toEqual(['WORKER_STARTED', 'WORKER_EXITED']);
    expect(r.pids()).toEqual([]);
  });

  it('rejects load with the reason when the pickle is corrupt', async () => {
    const modelDir = path.join(dir, 'corrupt');
    await cp(IRIS_MODEL, modelDir, { recursive: true });
    await writeFile(path.join(modelDir, 'model.pkl'), Buffer.from('garbage that is not a pickle'));
    const r = runtime(await specFor(modelDir));
    const error = await failure(r.load());
    expect(error.message).toMatch(/^cannot unpickle model\.pkl \(cloudpickle\): UnpicklingError: /);
    expect(r.ready()).toBe(false);
    expect(r.pids()).toEqual([]);
  });

  it('rejects load when the model needs MLflow and has no sklearn flavor', async () => {
    const spec = await specFor(model('fixture'));
    const flavors = { python_function: { loader_module: 'mlflow.pyfunc.model', python_model: 'python_model.pkl' } };
    const error = await failure(runtime({ ...spec, artifact: { ...spec.artifact, flavors } }).load());
    expect(error.message).toMatch(/loads with mlflow\.pyfunc\.model, which needs MLflow; MLflow is not installed/);
  });

  it('rejects load when the interpreter cannot be started', async () => {
    const error = await failure(runtime(await specFor(model('fixture')), { python: '/nonexistent/python3' }).load());
    expect(error.message).toMatch(/^cannot start the Python worker with \/nonexistent\/python3: .*ENOENT/);
  });

  it('unload stops the worker process and stops answering', async () => {
    const events: WorkerEvent[] = [];
    const r = await loaded('fixture', { onEvent: (e) => events.push(e) });
    const [pid] = r.pids();
    expect(alive(pid as number)).toBe(true);
    await r.unload();
    expect(alive(pid as number)).toBe(false);
    expect(r.ready()).toBe(false);
    expect(r.pids()).toEqual([]);
    expect(await failure(r.predict(frame(IRIS_COLUMNS, SETOSA)))).toBeInstanceOf(RuntimeUnavailableError);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(events.map((e) => e.type)).toEqual(['WORKER_STARTED']);
  });
});

describe('PyfuncRuntime with MLflow importable', () => {
  let fakeMlflow: string;

  beforeAll(async () => {
    // A stand-in for the mlflow package, enough to check the worker's MLflow path end to end.
    fakeMlflow = path.join(dir, 'fake-mlflow');
    const files: Record<string, string> = {
      'mlflow/__init__.py': 'print("mlflow imported (this line goes to stdout)")\n',
      'mlflow/exceptions.py': [
        'class MlflowException(Exception):',
        '    def __init__(self, message, error_code="INTERNAL_ERROR"):',
        '        super().__init__(message)',
        '        self.message = message',
        '        self.error_code = error_code',
        '',
      ].join('\n'),
      'mlflow/pyfunc/__init__.py': [
        'from mlflow.exceptions import MlflowException',
        'class _Metadata:',
        '    def get_input_schema(self):',
        '        return "the-schema"',
        'class _Model:',
        '    metadata = _Metadata()',
        '    def predict(self, data, params=None):',
        '        if params and params.get("reject"):',
        '            raise MlflowException("params rejected", "INVALID_PARAMETER_VALUE")',
        '        if params and params.get("crash"):',
        '            raise RuntimeError("model crashed")',
        '        return {"data": data, "params": params}',
        'def load_model(path):',
        '    print("loading", path)',
        '    return _Model()',
        '',
      ].join('\n'),
      'mlflow/pyfunc/scoring_server/__init__.py': [
        'from mlflow.exceptions import MlflowException',
        'def infer_and_parse_data(data, schema=None):',
        '    if data.get("inputs") == ["bad"]:',
        '        raise MlflowException("Invalid input. bad", "BAD_REQUEST")',
        '    return {"parsed": data, "schema": schema}',
        '',
      ].join('\n'),
    };
    for (const [file, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(fakeMlflow, file)), { recursive: true });
      await writeFile(path.join(fakeMlflow, file), text);
    }
  });

  it('loads with mlflow.pyfunc and passes MLflow’s answers and error codes through', async () => {
    const r = await loaded('fixture', { env: { PYTHONPATH: fakeMlflow } });
    expect(r.loadedWith).toBe('mlflow');
    expect(await r.predict(frame(['a'], [1]), { k: 'v' })).toEqual({
      predictions: {
        data: { parsed: { dataframe_split: { data: [[1]], columns: ['a'] } }, schema: 'the-schema' },
        params: { k: 'v' },
      },
    });
    const parseError = await failure(r.predict({ kind: 'tensor', data: ['bad'] }));
    expect(parseError).toBeInstanceOf(PredictionError);
    expect((parseError as PredictionError).errorCode).toBe('BAD_REQUEST');
    expect(parseError.message).toBe('Invalid input. bad');
    const rejected = await failure(r.predict({ kind: 'tensor', data: [1] }, { reject: true }));
    expect((rejected as PredictionError).errorCode).toBe('INVALID_PARAMETER_VALUE');
    expect(rejected.message).toBe(
      "Failed to predict data '{'parsed': {'inputs': [1]}, 'schema': 'the-schema'}'. \nError: params rejected",
    );
    const crashed = await failure(r.predict({ kind: 'tensor', data: [1] }, { crash: true }));
    expect((crashed as ModelPredictionError).stackTrace).toMatch(/RuntimeError: model crashed/);
  });

  it('uses the sklearn flavor when told to, even with MLflow importable', async () => {
    const r = await loaded('fixture', { env: { PYTHONPATH: fakeMlflow }, loader: 'sklearn' });
    expect(r.loadedWith).toBe('sklearn');
    expect(await r.predict(frame(IRIS_COLUMNS, SETOSA))).toEqual({ predictions: [0] });
  });
});
