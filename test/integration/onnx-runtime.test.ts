/** The native ONNX runtime against small ONNX models built by test/fixtures/build/build_onnx.py. */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { PredictionError, RuntimeUnavailableError } from '../../container/src/errors';
import { OnnxRuntime } from '../../container/src/runtimes/onnx-runtime';
import type { LoadSpec } from '../../container/src/runtimes/runtime';
import type { Json, ScoringInput } from '../../container/src/scoring/input';
import type { ArtifactInfo } from '../../core/registry/model';
import { REPO_ROOT } from '../helpers/paths';

const BUILD_SCRIPT = path.join(REPO_ROOT, 'test/fixtures/build/build_onnx.py');
const IRIS_COLUMNS = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const SETOSA = [5.1, 3.5, 1.4, 0.2];
const VIRGINICA = [6.7, 3.0, 5.2, 2.3];

let workDir: string;
const runtimes: OnnxRuntime[] = [];

/** Builds a model of the given kind with the fixture script; returns its directory. */
function build(kind: string, name = kind): string {
  const dir = path.join(workDir, name);
  const result = spawnSync('/usr/bin/python3', [BUILD_SCRIPT, kind, dir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`build_onnx.py ${kind} failed: ${result.stderr}`);
  return dir;
}

/** What the registration check would record from a model directory's MLmodel. */
async function artifactOf(dir: string): Promise<ArtifactInfo> {
  const doc = parseYaml(await readFile(path.join(dir, 'MLmodel'), 'utf8'));
  return {
    flavors: doc.flavors,
    mlflowVersion: doc.mlflow_version,
    signature: { inputs: doc.signature?.inputs ?? undefined, outputs: doc.signature?.outputs ?? undefined },
    modelUuid: doc.model_uuid,
  };
}

async function runtimeFor(dir: string, artifact?: ArtifactInfo): Promise<OnnxRuntime> {
  const spec: LoadSpec = {
    modelName: path.basename(dir),
    version: 1,
    modelDir: dir,
    artifact: artifact ?? (await artifactOf(dir)),
  };
  const runtime = new OnnxRuntime(spec);
  runtimes.push(runtime);
  return runtime;
}

async function loaded(dir: string, artifact?: ArtifactInfo): Promise<OnnxRuntime> {
  const runtime = await runtimeFor(dir, artifact);
  await runtime.load();
  return runtime;
}

async function predictionError(promise: Promise<unknown>): Promise<PredictionError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PredictionError);
  return error as PredictionError;
}

const table = (columns: string[] | undefined, rows: Json[][]): ScoringInput => ({ kind: 'dataframe', columns, rows });

let irisDir: string;
let twoDir: string;
let typedDir: string;
let iris: OnnxRuntime;
let two: OnnxRuntime;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'mlserve-onnx-'));
  irisDir = build('iris-linear');
  twoDir = build('two-inputs');
  typedDir = build('typed');
  iris = await loaded(irisDir);
  two = await loaded(twoDir);
});

afterAll(async () => {
  await Promise.all(runtimes.map((r) => r.unload()));
  await rm(workDir, { recursive: true, force: true });
});

describe('build_onnx.py', () => {
  it('writes an MLflow 2.17 model directory with onnx and python_function flavors', async () => {
    const doc = parseYaml(await readFile(path.join(irisDir, 'MLmodel'), 'utf8'));
    expect(doc.mlflow_version).toBe('2.17.2');
    expect(doc.flavors.onnx).toMatchObject({
      data: 'model.onnx',
      onnx_version: '1.12.0',
      providers: ['CPUExecutionProvider'],
      code: null,
    });
    expect(doc.flavors.python_function).toMatchObject({ loader_module: 'mlflow.onnx', data: 'model.onnx' });
    expect(doc.flavors.python_function.python_version).toMatch(/^3\.\d+\.\d+$/);
    expect(JSON.parse(doc.signature.inputs)).toEqual([
      { type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, 4] } },
    ]);
    const twoDoc = parseYaml(await readFile(path.join(twoDir, 'MLmodel'), 'utf8'));
    expect(JSON.parse(twoDoc.signature.inputs)).toEqual([
      { type: 'float', name: 'a', required: true },
      { type: 'float', name: 'b', required: true },
    ]);
  });

  it('refuses an unknown kind', () => {
    const result = spawnSync('/usr/bin/python3', [BUILD_SCRIPT, 'nope', path.join(workDir, 'nope')], {
      encoding: 'utf8',
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('usage');
  });
});

describe('OnnxRuntime lifecycle', () => {
  it('serves the onnx flavor in-process', () => {
    expect(iris.flavor).toBe('onnx');
    expect(iris.ready()).toBe(true);
    expect(iris.pids()).toEqual([]);
  });

  it('is not ready before load and answers RuntimeUnavailableError', async () => {
    const runtime = await runtimeFor(irisDir);
    expect(runtime.ready()).toBe(false);
    await expect(runtime.predict({ kind: 'tensor', data: [SETOSA] })).rejects.toBeInstanceOf(RuntimeUnavailableError);
  });

  it('unloads: ready() turns false and predictions are refused', async () => {
    const runtime = await loaded(irisDir);
    expect(runtime.ready()).toBe(true);
    await runtime.unload();
    expect(runtime.ready()).toBe(false);
    await expect(runtime.predict({ kind: 'tensor', data: [SETOSA] })).rejects.toBeInstanceOf(RuntimeUnavailableError);
    await runtime.load();
    expect(runtime.ready()).toBe(true);
    expect((await runtime.predict({ kind: 'tensor', data: [SETOSA] })).predictions).toMatchObject({ label: [0] });
  });

  it('lets predictions in flight finish when it unloads', async () => {
    const runtime = await loaded(irisDir);
    const pending = Array.from({ length: 10 }, () => runtime.predict({ kind: 'tensor', data: [VIRGINICA] }));
    const unloading = runtime.unload();
    expect(runtime.ready()).toBe(false);
    const answers = await Promise.all(pending);
    await unloading;
    for (const answer of answers) expect(answer.predictions).toMatchObject({ label: [2] });
  });

  it('rejects load of a corrupt model file with a reason', async () => {
    const dir = build('iris-linear', 'corrupt');
    await writeFile(path.join(dir, 'model.onnx'), 'this is not a protobuf');
    const runtime = await runtimeFor(dir);
    await expect(runtime.load()).rejects.toThrow(/cannot load ONNX model model\.onnx: .+/);
    expect(runtime.ready()).toBe(false);
  });

  it('rejects load of a missing model file with a reason', async () => {
    const dir = build('iris-linear', 'missing');
    await rm(path.join(dir, 'model.onnx'));
    const runtime = await runtimeFor(dir);
    await expect(runtime.load()).rejects.toThrow(/model\.onnx .*not found/);
  });

  it('reads the file named by the onnx flavor and refuses paths outside the model directory', async () => {
    const artifact = await artifactOf(irisDir);
    const flavors = (data: string) => ({ ...artifact.flavors, onnx: { ...(artifact.flavors.onnx as object), data } });
    const elsewhere = await runtimeFor(irisDir, { ...artifact, flavors: flavors('../two-inputs/model.onnx') });
    await expect(elsewhere.load()).rejects.toThrow(/leaves the model directory/);
    const absolute = await runtimeFor(irisDir, { ...artifact, flavors: flavors(path.join(twoDir, 'model.onnx')) });
    await expect(absolute.load()).rejects.toThrow(/leaves the model directory/);
    const other = await runtimeFor(irisDir, { ...artifact, flavors: flavors('other.onnx') });
    await expect(other.load()).rejects.toThrow(/other\.onnx .*not found/);
  });
});

describe('OnnxRuntime predictions', () => {
  it('answers a table with one record per row', async () => {
    const { predictions } = await iris.predict(table(IRIS_COLUMNS, [SETOSA, VIRGINICA]), { ignored: 1 });
    expect(predictions).toEqual([
      { label: 0, probabilities: [expect.any(Number), expect.any(Number), expect.any(Number)] },
      { label: 2, probabilities: [expect.any(Number), expect.any(Number), expect.any(Number)] },
    ]);
    const records = predictions as { label: number; probabilities: number[] }[];
    for (const [i, record] of records.entries()) {
      expect(record.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(record.probabilities[record.label]).toBeGreaterThan(0.9);
      expect(record.probabilities[i === 0 ? 0 : 2]).toBeGreaterThan(0.9);
    }
    expect(JSON.parse(JSON.stringify(predictions))).toEqual(predictions);
  });

  it('answers a table without column names', async () => {
    const { predictions } = await iris.predict(table(undefined, [VIRGINICA, SETOSA]));
    expect((predictions as { label: number }[]).map((r) => r.label)).toEqual([2, 0]);
  });

  it('feeds columns in the order of a column-based signature', async () => {
    const artifact = await artifactOf(irisDir);
    const columnSignature = JSON.stringify(IRIS_COLUMNS.map((name) => ({ type: 'double', name, required: true })));
    const runtime = await loaded(irisDir, { ...artifact, signature: { inputs: columnSignature } });
    const reversed = [...IRIS_COLUMNS].reverse();
    const rows = [[...SETOSA].reverse(), [...VIRGINICA].reverse()];
    const { predictions } = await runtime.predict(
      table(
        ['extra', ...reversed],
        rows.map((r) => [99, ...r]),
      ),
    );
    expect((predictions as { label: number }[]).map((r) => r.label)).toEqual([0, 2]);
    const missing = await predictionError(runtime.predict(table(IRIS_COLUMNS.slice(0, 3), [SETOSA.slice(0, 3)])));
    expect(missing.errorCode).toBe('INVALID_PARAMETER_VALUE');
    expect(missing.message).toContain("'petal_width'");
    const columnar = await runtime.predict({
      kind: 'tensors',
      data: Object.fromEntries(IRIS_COLUMNS.map((c, i) => [c, [VIRGINICA[i] ?? 0]])),
    });
    expect(columnar.predictions).toEqual([{ label: 2, probabilities: expect.any(Array) }]);
  });

  it('answers a tensor with a dict of named outputs', async () => {
    const { predictions } = await iris.predict({ kind: 'tensor', data: [SETOSA] });
    expect(predictions).toEqual({
      label: [0],
      probabilities: [[expect.any(Number), expect.any(Number), expect.any(Number)]],
    });
    const [[p0]] = (predictions as { probabilities: number[][] }).probabilities as [number[]];
    expect(p0).toBeGreaterThan(0.9);
  });

  it('accepts numbers written as strings', async () => {
    const { predictions } = await iris.predict({ kind: 'tensor', data: [VIRGINICA.map(String)] });
    expect(predictions).toMatchObject({ label: [2] });
  });

  it('feeds named tensors to a model with several inputs', async () => {
    const nested = await two.predict({ kind: 'tensors', data: { a: [[1], [2.5]], b: [[3], [4]] } });
    expect(nested.predictions).toEqual({ sum: [[4], [6.5]] });
    const flat = await two.predict({ kind: 'tensors', data: { b: [10, 20], a: [1, 2] } });
    expect(flat.predictions).toEqual({ sum: [[11], [22]] });
  });

  it('feeds each input of a table from its own column, whatever the column order', async () => {
    const { predictions } = await two.predict(
      table(
        ['extra', 'b', 'a'],
        [
          [100, 2, 1],
          [200, 20, 10],
        ],
      ),
    );
    expect(predictions).toEqual([{ sum: 3 }, { sum: 30 }]);
  });

  it('converts to and from every element type of the typed model', async () => {
    const typed = await loaded(typedDir);
    const { predictions } = await typed.predict({
      kind: 'tensors',
      data: { i: [1, '-7', 9007199254740991], d: [0.1, '2.5', null], f: [true, 0, 'false'], s: ['x', 3, 'z'] },
    });
    // Predictions are what is sent: JSON, where NaN is null (as JSON.stringify writes it).
    expect(predictions).toEqual({
      i_out: [1, -7, 9007199254740991],
      d_out: [0.1, 2.5, null],
      f_out: [true, false, false],
      s_out: ['x', '3', 'z'],
    });
    const out = predictions as { i_out: unknown[] };
    expect(out.i_out.every((v) => typeof v === 'number')).toBe(true);
    const fraction = await predictionError(
      typed.predict({ kind: 'tensors', data: { i: [2.5], d: [1], f: [true], s: ['a'] } }),
    );
    expect(fraction.errorCode).toBe('BAD_REQUEST');
    expect(fraction.message).toMatch(/'i'.*int64/);
    const notBool = await predictionError(
      typed.predict({ kind: 'tensors', data: { i: [1], d: [1], f: ['maybe'], s: ['a'] } }),
    );
    expect(notBool.errorCode).toBe('BAD_REQUEST');
    expect(notBool.message).toMatch(/'f'.*bool/);
  });
});

describe('OnnxRuntime bad input', () => {
  it('answers BAD_REQUEST for a value that is not a number', async () => {
    const error = await predictionError(iris.predict(table(IRIS_COLUMNS, [[...SETOSA], ['abc', 3.5, 1.4, 0.2]])));
    expect(error.errorCode).toBe('BAD_REQUEST');
    expect(error.message).toContain("input 'input'");
    expect(error.message).toContain('float32');
    expect(error.message).toContain('"abc"');
    expect(error.message).toContain("row 1, column 'sepal_length'");
  });

  it('answers INVALID_PARAMETER_VALUE for a missing input', async () => {
    const tensors = await predictionError(two.predict({ kind: 'tensors', data: { a: [[1]] } }));
    expect(tensors.errorCode).toBe('INVALID_PARAMETER_VALUE');
    expect(tensors.message).toContain("['b']");
    const columns = await predictionError(two.predict(table(['a', 'c'], [[1, 2]])));
    expect(columns.errorCode).toBe('INVALID_PARAMETER_VALUE');
    expect(columns.message).toContain("['b']");
    const single = await predictionError(two.predict({ kind: 'tensor', data: [[1], [2]] }));
    expect(single.errorCode).toBe('INVALID_PARAMETER_VALUE');
    const unknown = await predictionError(two.predict({ kind: 'tensors', data: { a: [1], b: [2], c: [3] } }));
    expect(unknown.errorCode).toBe('INVALID_PARAMETER_VALUE');
    expect(unknown.message).toContain("['c']");
  });

  it('answers BAD_REQUEST for a wrong width, rank or ragged list, and keeps serving', async () => {
    const width = await predictionError(iris.predict({ kind: 'tensor', data: [[5.1, 3.5, 1.4]] }));
    expect(width.errorCode).toBe('BAD_REQUEST');
    expect(width.message).toContain('[-1, 4]');
    const tableWidth = await predictionError(iris.predict(table(['a', 'b', 'c', 'd', 'e'], [[1, 2, 3, 4, 5]])));
    expect(tableWidth.errorCode).toBe('BAD_REQUEST');
    const rank = await predictionError(iris.predict({ kind: 'tensor', data: [[[5.1, 3.5, 1.4, 0.2]]] }));
    expect(rank.errorCode).toBe('BAD_REQUEST');
    expect(rank.message).toContain('rank 2');
    const ragged = await predictionError(iris.predict({ kind: 'tensor', data: [SETOSA, [1, 2]] }));
    expect(ragged.errorCode).toBe('BAD_REQUEST');
    expect(ragged.message).toContain('ragged');
    const object = await predictionError(iris.predict({ kind: 'tensor', data: [[{ x: 1 }, 1, 2, 3]] }));
    expect(object.errorCode).toBe('BAD_REQUEST');
    const shortRow = await predictionError(iris.predict(table(IRIS_COLUMNS, [SETOSA.slice(0, 2)])));
    expect(shortRow.errorCode).toBe('BAD_REQUEST');
    expect(iris.ready()).toBe(true);
    expect((await iris.predict({ kind: 'tensor', data: [SETOSA] })).predictions).toMatchObject({ label: [0] });
  });
});

describe('OnnxRuntime concurrency', () => {
  it('answers 20 concurrent predictions on one session, each with its own answer', async () => {
    const rows = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? SETOSA : VIRGINICA));
    const answers = await Promise.all(rows.map((row) => iris.predict(table(IRIS_COLUMNS, [row, row]))));
    answers.forEach((answer, i) => {
      const label = i % 2 === 0 ? 0 : 2;
      expect((answer.predictions as { label: number }[]).map((r) => r.label)).toEqual([label, label]);
    });
  });
});
