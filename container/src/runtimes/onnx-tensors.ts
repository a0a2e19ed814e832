/**
 * JSON values to ONNX tensors and tensors back to JSON text, for the native ONNX runtime. Both
 * directions work element by element into (or out of) typed arrays, without intermediate JS
 * arrays, since a request may carry millions of values; answers are written as text in parts
 * the HTTP layer sends one after another, with a pause between parts for other requests.
 */
import type { InferenceSession } from 'onnxruntime-node';
import { Tensor } from 'onnxruntime-node';
import { PredictionError } from '../errors';
import type { Json } from '../scoring/input';
import { JsonText } from '../scoring/json-text';

/** Element types this runtime converts JSON values to and from. */
export const ELEMENT_TYPES = [
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
export type ElementType = (typeof ELEMENT_TYPES)[number];

/** A model input or output: its name, element type and declared shape (a string is a free dimension). */
export interface ValueInfo {
  readonly name: string;
  readonly type: ElementType;
  /** Empty when the model does not declare a shape. */
  readonly shape: readonly (number | string)[];
}

const INTEGER_RANGES: Record<
  Exclude<ElementType, 'float32' | 'float64' | 'bool' | 'string'>,
  readonly [bigint, bigint]
> = {
  int8: [-(2n ** 7n), 2n ** 7n - 1n],
  uint8: [0n, 2n ** 8n - 1n],
  int16: [-(2n ** 15n), 2n ** 15n - 1n],
  uint16: [0n, 2n ** 16n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
const INTEGER = /^[-+]?\d+$/;

/** Rows of answer written per part of the text (about 100–300 KB each for typical outputs). */
const ROWS_PER_PART = 4096;

export function list(names: readonly string[]): string {
  return `[${names.map((n) => `'${n}'`).join(', ')}]`;
}

export function showShape(shape: readonly (number | string)[]): string {
  return `[${shape.map((d) => (typeof d === 'number' ? d : -1)).join(', ')}]`;
}

export function valueInfo(meta: InferenceSession.ValueMetadata, what: 'input' | 'output'): ValueInfo {
  if (!meta.isTensor) throw new Error(`${what} '${meta.name}' is not a tensor; only tensor inputs can be fed`);
  const type = ELEMENT_TYPES.find((t) => t === meta.type);
  if (!type) throw new Error(`${what} '${meta.name}' has element type ${meta.type}, which mlserve does not convert`);
  return { name: meta.name, type, shape: meta.shape };
}

/** The shape of a nested list, checked to be rectangular. */
function shapeOf(value: Json, name: string): number[] {
  const shape: number[] = [];
  for (let v: Json | undefined = value; Array.isArray(v); v = v[0]) shape.push(v.length);
  const at = brokenAt(value, 0, shape);
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

/** The index path of the first element of `v` (at `depth` of `shape`) that breaks the shape, or undefined. */
function brokenAt(v: Json, depth: number, shape: readonly number[]): number[] | undefined {
  const expected = shape[depth];
  if (expected === undefined) return v !== null && typeof v === 'object' ? [] : undefined;
  if (!Array.isArray(v) || v.length !== expected) return [];
  if (depth === shape.length - 1) {
    for (let i = 0; i < v.length; i++) {
      const item = v[i];
      if (item !== null && typeof item === 'object') return [i];
    }
    return undefined;
  }
  for (let i = 0; i < v.length; i++) {
    const at = brokenAt(v[i] as Json, depth + 1, shape);
    if (at) return [i, ...at];
  }
  return undefined;
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

/** Where elements of one tensor are written, converted to its element type. */
interface Sink {
  put(index: number, value: Json): void;
  tensor(shape: number[]): Tensor;
}

/** Names an element that does not convert: where it sits, and why. */
class Failure {
  constructor(
    private readonly info: ValueInfo,
    private readonly size: number,
    private readonly perRow: number,
    private readonly locate: ((row: number, offset: number) => string) | undefined,
  ) {}

  at(index: number, bad: Json, why: string): never {
    const where = this.locate
      ? ` (${this.locate(Math.floor(index / this.perRow), index % this.perRow)})`
      : this.size > 1
        ? ` (element ${index})`
        : '';
    throw new PredictionError(
      'BAD_REQUEST',
      `Failed to convert input '${this.info.name}' to type '${this.info.type}': ${JSON.stringify(bad)}${where} ${why}`,
    );
  }
}

class StringSink implements Sink {
  private readonly data: string[];
  constructor(
    size: number,
    private readonly fail: Failure,
  ) {
    this.data = new Array<string>(size);
  }
  put(i: number, v: Json): void {
    this.data[i] =
      typeof v === 'string'
        ? v
        : typeof v === 'number' || typeof v === 'boolean'
          ? String(v)
          : this.fail.at(i, v, 'is not a string');
  }
  tensor(shape: number[]): Tensor {
    return new Tensor('string', this.data, shape);
  }
}

class BoolSink implements Sink {
  private readonly data: Uint8Array;
  constructor(
    size: number,
    private readonly fail: Failure,
  ) {
    this.data = new Uint8Array(size);
  }
  put(i: number, v: Json): void {
    const b = toBool(v);
    this.data[i] = b === undefined ? this.fail.at(i, v, 'is not a boolean') : b ? 1 : 0;
  }
  tensor(shape: number[]): Tensor {
    return new Tensor('bool', this.data, shape);
  }
}

class FloatSink implements Sink {
  private readonly data: Float32Array | Float64Array;
  constructor(
    private readonly type: 'float32' | 'float64',
    size: number,
    private readonly fail: Failure,
  ) {
    this.data = type === 'float32' ? new Float32Array(size) : new Float64Array(size);
  }
  put(i: number, v: Json): void {
    this.data[i] = typeof v === 'number' ? v : (toFloat(v) ?? this.fail.at(i, v, 'is not a number'));
  }
  tensor(shape: number[]): Tensor {
    return new Tensor(this.type, this.data, shape);
  }
}

type IntegerType = Exclude<ElementType, 'float32' | 'float64' | 'bool' | 'string'>;

const INTEGER_ARRAYS = {
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
} as const;

class IntegerSink implements Sink {
  private readonly data: Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;
  private readonly big: BigInt64Array | BigUint64Array | undefined;
  private readonly min: bigint;
  private readonly max: bigint;
  private readonly low: number;
  private readonly high: number;
  constructor(
    private readonly type: IntegerType,
    size: number,
    private readonly fail: Failure,
  ) {
    [this.min, this.max] = INTEGER_RANGES[type];
    this.low = Number(this.min);
    this.high = Number(this.max);
    if (type === 'int64' || type === 'uint64') {
      this.big = new INTEGER_ARRAYS[type](size);
      this.data = new Uint8Array(0);
    } else {
      this.data = new INTEGER_ARRAYS[type](size);
    }
  }
  put(i: number, v: Json): void {
    if (this.big) {
      this.big[i] = this.integer(i, v);
    } else if (typeof v === 'number' && Number.isInteger(v)) {
      this.data[i] = v < this.low || v > this.high ? this.outside(i, v) : v;
    } else {
      this.data[i] = Number(this.integer(i, v));
    }
  }
  tensor(shape: number[]): Tensor {
    return new Tensor(this.type, this.big ?? this.data, shape);
  }
  private integer(i: number, v: Json): bigint {
    const n = toInteger(v);
    if (n === undefined) return this.fail.at(i, v, 'is not an integer');
    return n < this.min || n > this.max ? this.outside(i, v) : n;
  }
  private outside(i: number, v: Json): never {
    return this.fail.at(i, v, `is outside the range of ${this.type}`);
  }
}

function sinkFor(type: ElementType, size: number, fail: Failure): Sink {
  if (type === 'string') return new StringSink(size, fail);
  if (type === 'bool') return new BoolSink(size, fail);
  if (type === 'float32' || type === 'float64') return new FloatSink(type, size, fail);
  return new IntegerSink(type, size, fail);
}

/** Writes the scalars of a nested list into `sink` in order from `index`; the index after them. */
function fill(sink: Sink, v: Json, index: number): number {
  if (!Array.isArray(v)) {
    sink.put(index, v);
    return index + 1;
  }
  let at = index;
  for (let i = 0; i < v.length; i++) at = fill(sink, v[i] as Json, at);
  return at;
}

function product(dims: readonly number[], from = 0): number {
  let n = 1;
  for (let i = from; i < dims.length; i++) n *= dims[i] as number;
  return n;
}

/**
 * Converts a nested JSON list to a tensor of the input's element type and shape. `locate`, given
 * for values from a table, names where a bad value sits from its row and its offset in the row.
 */
export function tensorFromJson(info: ValueInfo, value: Json, locate?: (row: number, offset: number) => string): Tensor {
  const shape = fitShape(info, shapeOf(value, info.name), locate !== undefined);
  for (let i = 0; i < info.shape.length; i++) {
    const dim = info.shape[i];
    if (typeof dim === 'number' && shape[i] !== dim) {
      throw new PredictionError(
        'BAD_REQUEST',
        `input '${info.name}' expects shape ${showShape(info.shape)}, got ${showShape(shape)}`,
      );
    }
  }
  const size = Array.isArray(value) ? product(shape) : 1;
  const sink = sinkFor(info.type, size, new Failure(info, size, product(shape, 1), locate));
  fill(sink, value, 0);
  return sink.tensor(shape);
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

// ---- tensors back to JSON text

/** The JSON text of one element, as JSON.stringify writes it (int64 as plain numbers, NaN as null). */
function elementWriter(tensor: Tensor): (index: number) => string {
  const data = tensor.data;
  if (tensor.type === 'bool') return (i) => ((data as Uint8Array)[i] !== 0 ? 'true' : 'false');
  if (Array.isArray(data)) return (i) => JSON.stringify(data[i] ?? null);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    return (i) => String(Number((data as BigInt64Array)[i]));
  }
  const numbers = data as ArrayLike<number>;
  return (i) => {
    const n = numbers[i] as number;
    return Number.isFinite(n) ? String(n) : 'null';
  };
}

/** The nested list with dimensions `dims` from `depth` on, starting at element `offset`, as JSON text. */
function nestedText(write: (index: number) => string, dims: readonly number[], depth: number, offset: number): string {
  if (depth === dims.length) return write(offset);
  const count = dims[depth] as number;
  const stride = product(dims, depth + 1);
  let text = '[';
  for (let i = 0; i < count; i++) {
    if (i > 0) text += ',';
    text += nestedText(write, dims, depth + 1, offset + i * stride);
  }
  return `${text}]`;
}

/** A text from its parts: held whole when it is one block (small), else formatted as it is sent. */
function textOf(parts: () => Iterable<string>, blocks: number): JsonText {
  if (blocks > 1) return new JsonText(parts);
  let text = '';
  for (const part of parts()) text += part;
  return JsonText.of(text);
}

/** Outputs as `{"name": nested list, ...}` JSON text, formatted a block of rows at a time. */
export function outputsText(outputs: readonly [string, Tensor][]): JsonText {
  let rows = 0;
  for (const [, tensor] of outputs) rows = Math.max(rows, tensor.dims[0] ?? 0);
  return textOf(() => outputParts(outputs), Math.ceil(rows / ROWS_PER_PART));
}

function* outputParts(outputs: readonly [string, Tensor][]): Generator<string> {
  yield '{';
  for (let n = 0; n < outputs.length; n++) {
    const [name, tensor] = outputs[n] as [string, Tensor];
    yield `${n > 0 ? ',' : ''}${JSON.stringify(name)}:`;
    const dims = tensor.dims;
    const rows = dims[0];
    const write = elementWriter(tensor);
    if (rows === undefined) {
      yield write(0);
      continue;
    }
    const stride = product(dims, 1);
    yield '[';
    for (let start = 0; start < rows; start += ROWS_PER_PART) {
      const end = Math.min(rows, start + ROWS_PER_PART);
      let block = start > 0 ? ',' : '';
      for (let r = start; r < end; r++) {
        if (r > start) block += ',';
        block += nestedText(write, dims, 1, r * stride);
      }
      yield block;
    }
    yield ']';
  }
  yield '}';
}

/** One output as a column of records: its key, its length, and its cell for a row. */
interface RecordColumn {
  readonly key: string;
  readonly length: number;
  readonly cell: (row: number) => string;
}

/**
 * Outputs as one record per row, as JSON text formatted a block of rows at a time. A row's
 * value is a scalar when the output has one value per row (shape [rows] or [rows, 1], as
 * MLflow's DataFrame output has), else the row's nested list. Outputs not shaped by rows are
 * flattened as MLflow does, and then must agree in length.
 */
export function recordsText(outputs: readonly [string, Tensor][], rows: number): JsonText {
  const byRow = outputs.every(([, t]) => t.dims[0] === rows);
  const columns: RecordColumn[] = outputs.map(([name, tensor]) => {
    const size = product(tensor.dims, 1);
    const write = elementWriter(tensor);
    const flat = !byRow || size === 1;
    const length = flat ? product(tensor.dims) : rows;
    const dims = tensor.dims;
    const cell = flat ? write : (r: number) => nestedText(write, dims, 1, r * size);
    return { key: `${JSON.stringify(name)}:`, length, cell };
  });
  const length = columns[0]?.length ?? 0;
  if (columns.some((c) => c.length !== length)) {
    throw new PredictionError(
      'BAD_REQUEST',
      `The model's outputs ${list(outputs.map(([n]) => n))} do not have one value per input row and cannot form records`,
    );
  }
  return textOf(() => recordParts(columns, length), Math.ceil(length / ROWS_PER_PART));
}

function* recordParts(columns: readonly RecordColumn[], length: number): Generator<string> {
  yield '[';
  for (let start = 0; start < length; start += ROWS_PER_PART) {
    const end = Math.min(length, start + ROWS_PER_PART);
    let block = start > 0 ? ',' : '';
    for (let r = start; r < end; r++) {
      let record = r > start ? ',{' : '{';
      for (let c = 0; c < columns.length; c++) {
        const column = columns[c] as RecordColumn;
        record += `${c > 0 ? ',' : ''}${column.key}${column.cell(r)}`;
      }
      block += `${record}}`;
    }
    yield block;
  }
  yield ']';
}
