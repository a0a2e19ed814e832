/**
 * The native ONNX runtime: serves a version's `onnx` flavor in-process with onnxruntime-node,
 * following MLflow's ONNX pyfunc wrapper (`mlflow.onnx._OnnxModelWrapper.predict`).
 */
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import type { Json, ScoringInput } from '../scoring/input';
import { type LoadSpec, type ModelRuntime, type Prediction, PredictionError, RuntimeUnavailableError } from './runtime';

/** Element types this runtime converts JSON values to and from. */
const ELEMENT_TYPES = [
  'float32',
  'float64',
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'bool',
  'string',
] as const;
type ElementType = (typeof ELEMENT_TYPES)[number];

/** A model input or output: its name, element type and declared shape (a string is a free dimension). */
interface ValueInfo {
  readonly name: string;
  readonly type: ElementType;
  /** Empty when the model does not declare a shape. */
  readonly shape: readonly (number | string)[];
}

const DEFAULT_MODEL_FILE = 'model.onnx';

const INTEGER_RANGES: Partial<Record<ElementType, readonly [bigint, bigint]>> = {
  int8: [-(2n ** 7n), 2n ** 7n - 1n],
  uint8: [0n, 2n ** 8n - 1n],
  int16: [-(2n ** 15n), 2n ** 15n - 1n],
  uint16: [0n, 2n ** 16n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

/** MLflow's `graph_optimization_level` numbers (onnxruntime.GraphOptimizationLevel) by name. */
const OPTIMIZATION_LEVELS: Record<number, 'disabled' | 'basic' | 'extended' | 'all'> = {
  0: 'disabled',
  1: 'basic',
  2: 'extended',
  99: 'all',
};

const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
const INTEGER = /^[-+]?\d+$/;

/**
 * Serves one version's `onnx` flavor. Requests map to the session's inputs as MLflow's wrapper
 * maps them: a table feeds its single input as a [rows, columns] tensor (or each input from the
 * column of that name) and is answered with one record per row; a tensor or a dict of named
 * tensors is answered with a dict of output name -> nested list. Outputs that are not tensors
 * (sequences, maps) are left out; onnxruntime-node cannot return them.
 */
export class OnnxRuntime implements ModelRuntime {
  readonly flavor = 'onnx';
  private session: InferenceSession | undefined;
  private loading: Promise<void> | undefined;
  private inputs: readonly ValueInfo[] = [];
  private outputs: readonly ValueInfo[] = [];
  private readonly runs = new Set<Promise<unknown>>();
  /** Column names of a column-based input signature, in signature order. */
  private readonly signatureColumns: readonly string[] | undefined;

  constructor(private readonly spec: LoadSpec) {
    this.signatureColumns = columnSignature(spec.artifact.signature?.inputs);
  }

  load(): Promise<void> {
    if (this.session) return Promise.resolve();
    this.loading ??= this.open().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  async unload(): Promise<void> {
    if (this.loading) await this.loading.catch(() => undefined);
    const session = this.session;
    if (!session) return;
    this.session = undefined;
    await Promise.allSettled([...this.runs]);
    await session.release();
  }

  ready(): boolean {
    return this.session !== undefined;
  }

  pids(): number[] {
    return [];
  }

  async predict(input: ScoringInput, _params?: { readonly [key: string]: Json }): Promise<Prediction> {
    const session = this.session;
    if (!session) {
      throw new RuntimeUnavailableError(`ONNX model ${this.spec.modelName} v${this.spec.version} is not loaded`);
    }
    if (input.kind === 'dataframe') return this.predictTable(session, input.rows, input.columns);
    if (input.kind === 'tensor') {
      const only = this.singleInput();
      return { predictions: await this.run(session, { [only.name]: toTensor(only, input.data as Json[]) }) };
    }
    const names = Object.keys(input.data);
    const missing = this.inputs.filter((i) => !names.includes(i.name)).map((i) => i.name);
    if (missing.length > 0 && this.inputs.length === 1 && this.signatureColumns?.every((c) => names.includes(c))) {
      const table = columnsToRows(input.data);
      return this.predictTable(session, table.rows, table.columns);
    }
    if (missing.length > 0) {
      throw new PredictionError(
        'INVALID_PARAMETER_VALUE',
        `Model is missing inputs ${list(missing)}; its inputs are ${list(this.inputs.map((i) => i.name))}`,
      );
    }
    const unknown = names.filter((n) => !this.inputs.some((i) => i.name === n));
    if (unknown.length > 0) {
      throw new PredictionError(
        'INVALID_PARAMETER_VALUE',
        `Model has no inputs named ${list(unknown)}; its inputs are ${list(this.inputs.map((i) => i.name))}`,
      );
    }
    const feeds: Record<string, Tensor> = {};
    for (const info of this.inputs) feeds[info.name] = toTensor(info, input.data[info.name] as Json);
    return { predictions: await this.run(session, feeds) };
  }

  private async open(): Promise<void> {
    const file = await this.modelFile();
    const relative = path.relative(this.spec.modelDir, file);
    let session: InferenceSession;
    try {
      session = await InferenceSession.create(file, this.sessionOptions());
    } catch (error) {
      throw new Error(`cannot load ONNX model ${relative}: ${oneLine(error)}`);
    }
    try {
      this.inputs = session.inputMetadata.map((m) => valueInfo(m, 'input'));
      this.outputs = session.outputMetadata.flatMap((m) => (m.isTensor ? [valueInfo(m, 'output')] : []));
      if (this.inputs.length === 0) throw new Error('the model declares no inputs');
      if (this.outputs.length === 0) throw new Error('the model has no tensor outputs');
    } catch (error) {
      await session.release();
      throw new Error(`cannot serve ONNX model ${relative}: ${(error as Error).message}`);
    }
    this.session = session;
  }

  /** The onnx flavor's `data` file, resolved inside the model directory. */
  private async modelFile(): Promise<string> {
    const flavor = asRecord(this.spec.artifact.flavors.onnx);
    const data = flavor?.data ?? DEFAULT_MODEL_FILE;
    if (typeof data !== 'string' || data.length === 0) {
      throw new Error(`onnx flavor 'data' must be a relative file path, got ${JSON.stringify(data)}`);
    }
    const dir = await realpath(this.spec.modelDir).catch(() => {
      throw new Error(`model directory ${this.spec.modelDir} does not exist`);
    });
    const outside = (p: string) => {
      const rel = path.relative(dir, p);
      return rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);
    };
    if (path.isAbsolute(data) || outside(path.resolve(dir, data))) {
      throw new Error(`onnx flavor 'data' path ${data} leaves the model directory`);
    }
    const file = await realpath(path.resolve(dir, data)).catch(() => {
      throw new Error(`ONNX model file ${data} (onnx flavor 'data') not found in ${this.spec.modelDir}`);
    });
    if (outside(file)) throw new Error(`ONNX model file ${data} links outside the model directory`);
    if (!(await stat(file)).isFile()) throw new Error(`ONNX model file ${data} is not a file`);
    return file;
  }

  /** CPU session options, with MLflow's `onnx_session_options` from the flavor where set. */
  private sessionOptions(): InferenceSession.SessionOptions {
    const given = asRecord(asRecord(this.spec.artifact.flavors.onnx)?.onnx_session_options) ?? {};
    const options: { -readonly [K in keyof InferenceSession.SessionOptions]: InferenceSession.SessionOptions[K] } = {
      executionProviders: ['cpu'],
    };
    const threads = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v > 0;
    if (threads(given.intra_op_num_threads)) options.intraOpNumThreads = given.intra_op_num_threads as number;
    if (threads(given.inter_op_num_threads)) options.interOpNumThreads = given.inter_op_num_threads as number;
    const mode = typeof given.execution_mode === 'string' ? given.execution_mode.toLowerCase() : undefined;
    if (mode === 'sequential' || mode === 'parallel') options.executionMode = mode;
    const level = typeof given.graph_optimization_level === 'number' ? given.graph_optimization_level : undefined;
    if (level !== undefined && OPTIMIZATION_LEVELS[level]) options.graphOptimizationLevel = OPTIMIZATION_LEVELS[level];
    return options;
  }

  private singleInput(): ValueInfo {
    const [only, ...others] = this.inputs;
    if (!only || others.length > 0) {
      throw new PredictionError(
        'INVALID_PARAMETER_VALUE',
        `Unable to map a single tensor to the model's inputs: this model requires ${this.inputs.length} inputs. ` +
          `Pass a dict of named tensors or a table with the columns ${list(this.inputs.map((i) => i.name))}`,
      );
    }
    return only;
  }

  /** Runs a table through the model and answers one record per row. */
  private async predictTable(
    session: InferenceSession,
    rows: readonly (readonly Json[])[],
    given: readonly string[] | undefined,
  ): Promise<Prediction> {
    const width = given?.length ?? rows[0]?.length ?? 0;
    const columns = given ?? Array.from({ length: width }, (_, i) => String(i));
    rows.forEach((row, i) => {
      if (row.length !== width) {
        throw new PredictionError('BAD_REQUEST', `row ${i} has ${row.length} values; the table has ${width} columns`);
      }
    });
    if (rows.length === 0) return { predictions: [] };
    const pick = (names: readonly string[]) => {
      const missing = names.filter((n) => !columns.includes(n));
      if (missing.length > 0) {
        throw new PredictionError(
          'INVALID_PARAMETER_VALUE',
          `Model is missing inputs ${list(missing)}; the request has columns ${list(columns)}`,
        );
      }
      return names.map((n) => columns.indexOf(n));
    };
    const feeds: Record<string, Tensor> = {};
    if (this.inputs.length === 1) {
      const only = this.singleInput();
      const order = given && this.signatureColumns ? pick(this.signatureColumns) : columns.map((_, i) => i);
      const [first] = order;
      feeds[only.name] =
        order.length === 1 && first !== undefined && rows.some((row) => Array.isArray(row[first]))
          ? toTensor(only, columnOf(rows, first), (r) => `row ${r}, column '${columns[first]}'`)
          : toTensor(
              only,
              rows.map((row) => order.map((i) => row[i] ?? null)),
              (r, c) => `row ${r}, column '${columns[order[c] ?? 0]}'`,
            );
    } else {
      const indexes = pick(this.inputs.map((i) => i.name));
      this.inputs.forEach((info, n) => {
        const index = indexes[n] ?? 0;
        feeds[info.name] = toTensor(info, columnOf(rows, index), (r) => `row ${r}, column '${info.name}'`);
      });
    }
    const outputs = await this.runTensors(session, feeds);
    return { predictions: toRecords(outputs, rows.length) };
  }

  /** Runs the session and answers a dict of output name -> nested list. */
  private async run(session: InferenceSession, feeds: Record<string, Tensor>): Promise<Json> {
    const outputs = await this.runTensors(session, feeds);
    const result: { [name: string]: Json } = {};
    for (const [name, tensor] of outputs) result[name] = nested(tensor);
    return result;
  }

  private async runTensors(session: InferenceSession, feeds: Record<string, Tensor>): Promise<[string, Tensor][]> {
    const names = this.outputs.map((o) => o.name);
    const running = session.run(feeds, names);
    this.runs.add(running);
    let results: InferenceSession.OnnxValueMapType;
    try {
      results = await running;
    } catch (error) {
      throw new PredictionError('BAD_REQUEST', `The model could not be evaluated on this input: ${oneLine(error)}`);
    } finally {
      this.runs.delete(running);
    }
    return names.flatMap((name) => {
      const value = results[name];
      return value ? [[name, value as Tensor] as [string, Tensor]] : [];
    });
  }
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
}

function list(names: readonly string[]): string {
  return `[${names.map((n) => `'${n}'`).join(', ')}]`;
}

function showShape(shape: readonly (number | string)[]): string {
  return `[${shape.map((d) => (typeof d === 'number' ? d : -1)).join(', ')}]`;
}

/** The column names of a column-based MLflow input signature; undefined for tensor-based or none. */
function columnSignature(inputs: string | undefined): string[] | undefined {
  if (!inputs) return undefined;
  try {
    const specs: unknown = JSON.parse(inputs);
    if (!Array.isArray(specs) || specs.length === 0) return undefined;
    const names = specs.map((s) => {
      const spec = asRecord(s);
      return spec && spec.type !== 'tensor' && typeof spec.name === 'string' ? spec.name : undefined;
    });
    return names.every((n) => n !== undefined) ? (names as string[]) : undefined;
  } catch {
    return undefined;
  }
}

function valueInfo(meta: InferenceSession.ValueMetadata, what: 'input' | 'output'): ValueInfo {
  if (!meta.isTensor) throw new Error(`${what} '${meta.name}' is not a tensor; only tensor inputs can be fed`);
  const type = ELEMENT_TYPES.find((t) => t === meta.type);
  if (!type) throw new Error(`${what} '${meta.name}' has element type ${meta.type}, which mlserve does not convert`);
  return { name: meta.name, type, shape: meta.shape };
}

function columnOf(rows: readonly (readonly Json[])[], index: number): Json[] {
  return rows.map((row) => row[index] ?? null);
}

/** A columnar dict (`{col: [values]}`, or scalars for one row) as rows and columns. */
function columnsToRows(data: { readonly [name: string]: Json }): { rows: Json[][]; columns: string[] } {
  const columns = Object.keys(data);
  const values = columns.map((c) => data[c] ?? null);
  const allScalars = values.every((v) => !Array.isArray(v));
  const length = allScalars ? 1 : Math.max(...values.map((v) => (Array.isArray(v) ? v.length : 1)));
  values.forEach((v, i) => {
    if (!allScalars && (!Array.isArray(v) || v.length !== length)) {
      throw new PredictionError('BAD_REQUEST', `column '${columns[i]}' does not have ${length} values like the others`);
    }
  });
  const rows = Array.from({ length }, (_, r) => values.map((v) => (Array.isArray(v) ? (v[r] ?? null) : v)));
  return { rows, columns };
}

/** The shape of a nested list, checked to be rectangular. */
function shapeOf(value: Json, name: string): number[] {
  const shape: number[] = [];
  for (let v: Json | undefined = value; Array.isArray(v); v = v[0]) shape.push(v.length);
  /** The index path of the first element that breaks the shape, or undefined. */
  const broken = (v: Json, depth: number): number[] | undefined => {
    const expected = shape[depth];
    if (expected === undefined) return Array.isArray(v) || (v !== null && typeof v === 'object') ? [] : undefined;
    if (!Array.isArray(v) || v.length !== expected) return [];
    for (let i = 0; i < v.length; i++) {
      const at = broken(v[i] as Json, depth + 1);
      if (at) return [i, ...at];
    }
    return undefined;
  };
  const at = broken(value, 0);
  if (at) {
    const expected = shape[at.length];
    throw new PredictionError(
      'BAD_REQUEST',
      `input '${name}' is a ragged nested list: value${at.map((i) => `[${i}]`).join('')} should be ` +
        (expected === undefined ? 'a scalar' : `a list of ${expected} values`),
    );
  }
  return shape;
}

/**
 * Fits a given shape to the input's rank by adding or dropping a trailing dimension of 1; a table
 * column also gets one added where the input's last dimension is free.
 */
function fitShape(info: ValueInfo, given: number[], column: boolean): number[] {
  const expected = info.shape;
  if (expected.length === 0 || expected.length === given.length) return given;
  const last = expected[expected.length - 1];
  if (expected.length === given.length + 1 && (last === 1 || (column && typeof last === 'string'))) {
    return [...given, 1];
  }
  if (expected.length === given.length - 1 && given[given.length - 1] === 1) return given.slice(0, -1);
  throw new PredictionError(
    'BAD_REQUEST',
    `input '${info.name}' expects a tensor of rank ${expected.length} (shape ${showShape(expected)}), ` +
      `got rank ${given.length} (shape ${showShape(given)})`,
  );
}

/**
 * Converts a nested JSON list to a tensor of the input's element type and shape. `locate`, given
 * for values from a table, names where a bad value sits from its row and its offset in the row.
 */
function toTensor(info: ValueInfo, value: Json, locate?: (row: number, offset: number) => string): Tensor {
  const shape = fitShape(info, shapeOf(value, info.name), locate !== undefined);
  info.shape.forEach((dim, i) => {
    if (typeof dim === 'number' && shape[i] !== dim) {
      throw new PredictionError(
        'BAD_REQUEST',
        `input '${info.name}' expects shape ${showShape(info.shape)}, got ${showShape(shape)}`,
      );
    }
  });
  const flat: Json[] = [];
  const collect = (v: Json): void => {
    if (Array.isArray(v)) for (const item of v) collect(item);
    else flat.push(v);
  };
  collect(value);
  const perRow = shape.slice(1).reduce((a, b) => a * b, 1);
  const fail = (index: number, why: string): never => {
    const where = locate
      ? ` (${locate(Math.floor(index / perRow), index % perRow)})`
      : flat.length > 1
        ? ` (element ${index})`
        : '';
    throw new PredictionError(
      'BAD_REQUEST',
      `Failed to convert input '${info.name}' to type '${info.type}': ${JSON.stringify(flat[index])}${where} ${why}`,
    );
  };
  const type = info.type;
  if (type === 'string') {
    const data = flat.map((v, i) =>
      typeof v === 'string'
        ? v
        : typeof v === 'number' || typeof v === 'boolean'
          ? String(v)
          : fail(i, 'is not a string'),
    );
    return new Tensor('string', data, shape);
  }
  if (type === 'bool') {
    const data = Uint8Array.from(flat, (v, i) => {
      const b = toBool(v);
      return b === undefined ? fail(i, 'is not a boolean') : b ? 1 : 0;
    });
    return new Tensor('bool', data, shape);
  }
  if (type === 'float32' || type === 'float64') {
    const numbers = flat.map((v, i) => toFloat(v) ?? fail(i, 'is not a number'));
    return new Tensor(type, type === 'float32' ? Float32Array.from(numbers) : Float64Array.from(numbers), shape);
  }
  const [min, max] = INTEGER_RANGES[type] ?? [0n, 0n];
  const integers = flat.map((v, i) => {
    const n = toInteger(v);
    if (n === undefined) return fail(i, 'is not an integer');
    return n < min || n > max ? fail(i, `is outside the range of ${type}`) : n;
  });
  if (type === 'int64') return new Tensor(type, BigInt64Array.from(integers), shape);
  if (type === 'uint64') return new Tensor(type, BigUint64Array.from(integers), shape);
  const numbers = integers.map(Number);
  const arrays = {
    int8: Int8Array,
    uint8: Uint8Array,
    int16: Int16Array,
    uint16: Uint16Array,
    int32: Int32Array,
    uint32: Uint32Array,
  } as const;
  return new Tensor(type, arrays[type].from(numbers), shape);
}

function toFloat(value: Json): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value === null) return Number.NaN;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (DECIMAL.test(text)) return Number(text);
  if (/^[-+]?inf(inity)?$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (/^[-+]?nan$/i.test(text)) return Number.NaN;
  return undefined;
}

function toInteger(value: Json): bigint | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : undefined;
  if (typeof value === 'boolean') return value ? 1n : 0n;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  return INTEGER.test(text) ? BigInt(text.replace(/^\+/, '')) : undefined;
}

function toBool(value: Json): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  if (typeof value !== 'string') return undefined;
  const text = value.trim().toLowerCase();
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  return undefined;
}

/** A tensor's elements as JSON scalars (int64 as plain numbers, bool as booleans). */
function elements(tensor: Tensor): Json[] {
  const data = tensor.data;
  if (tensor.type === 'bool') return Array.from(data as Uint8Array, (v) => v !== 0);
  if (Array.isArray(data)) return data as string[];
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Array.from(data, Number);
  return Array.from(data as ArrayLike<number>);
}

function nest(flat: readonly Json[], dims: readonly number[], offset = 0): Json {
  const [first, ...rest] = dims;
  if (first === undefined) return flat[offset] ?? null;
  const stride = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: first }, (_, i) => nest(flat, rest, offset + i * stride));
}

function nested(tensor: Tensor): Json {
  return nest(elements(tensor), tensor.dims);
}

/**
 * Outputs as one record per row. A row's value is a scalar when the output has one value per
 * row (shape [rows] or [rows, 1], as MLflow's DataFrame output has), else the row's nested list.
 * Outputs not shaped by rows are flattened as MLflow does, and then must agree in length.
 */
function toRecords(outputs: readonly [string, Tensor][], rows: number): Json[] {
  const byRow = outputs.every(([, t]) => t.dims[0] === rows);
  const columns = outputs.map(([name, tensor]): [string, Json[]] => {
    const flat = elements(tensor);
    const inner = tensor.dims.slice(1);
    const size = inner.reduce((a, b) => a * b, 1);
    if (!byRow || size === 1) return [name, flat];
    return [name, Array.from({ length: rows }, (_, r) => nest(flat, inner, r * size))];
  });
  const length = columns[0]?.[1].length ?? 0;
  if (columns.some(([, values]) => values.length !== length)) {
    throw new PredictionError(
      'BAD_REQUEST',
      `The model's outputs ${list(columns.map(([n]) => n))} do not have one value per input row and cannot form records`,
    );
  }
  return Array.from({ length }, (_, r) => {
    const record: { [name: string]: Json } = {};
    for (const [name, values] of columns) record[name] = values[r] ?? null;
    return record;
  });
}
