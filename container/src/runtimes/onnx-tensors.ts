/**
 * JSON values to ONNX tensors and tensors back to JSON text, for the native ONNX runtime. Both
 * directions work element by element into (or out of) typed arrays, without intermediate JS
 * arrays, since a request may carry millions of values; answers are written as text in parts
 * the HTTP layer sends one after another, with a pause between parts for other requests.
 */
import type { InferenceSession } from 'onnxruntime-node';
import { Tensor } from 'onnxruntime-node';
import type { Json } from '../scoring/input';
import { JsonText } from '../scoring/json-text';
import { PredictionError } from './runtime';

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
  /** The index path of the first element that breaks the shape, or undefined. */
  const broken = (v: Json, depth: number): number[] | undefined => {
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

/** Where elements of one tensor are written, converted to its element type. */
interface Sink {
  put(index: number, value: Json): void;
  tensor(shape: number[]): Tensor;
}

type Fail = (index: number, value: Json, why: string) => never;

function sinkFor(type: ElementType, size: number, fail: Fail): Sink {
  if (type === 'string') {
    const data = new Array<string>(size);
    return {
      put: (i, v) => {
        data[i] =
          typeof v === 'string'
            ? v
            : typeof v === 'number' || typeof v === 'boolean'
              ? String(v)
              : fail(i, v, 'is not a string');
      },
      tensor: (shape) => new Tensor('string', data, shape),
    };
  }
  if (type === 'bool') {
    const data = new Uint8Array(size);
    return {
      put: (i, v) => {
        const b = toBool(v);
        data[i] = b === undefined ? fail(i, v, 'is not a boolean') : b ? 1 : 0;
      },
      tensor: (shape) => new Tensor('bool', data, shape),
    };
  }
  if (type === 'float32' || type === 'float64') {
    const data = type === 'float32' ? new Float32Array(size) : new Float64Array(size);
    return {
      put: (i, v) => {
        data[i] = typeof v === 'number' ? v : (toFloat(v) ?? fail(i, v, 'is not a number'));
      },
      tensor: (shape) => new Tensor(type, data, shape),
    };
  }
  const [min, max] = INTEGER_RANGES[type];
  const outside = (i: number, v: Json): never => fail(i, v, `is outside the range of ${type}`);
  const integer = (i: number, v: Json): bigint => {
    const n = toInteger(v);
    if (n === undefined) return fail(i, v, 'is not an integer');
    return n < min || n > max ? outside(i, v) : n;
  };
  if (type === 'int64' || type === 'uint64') {
    const data = type === 'int64' ? new BigInt64Array(size) : new BigUint64Array(size);
    return {
      put: (i, v) => {
        data[i] = integer(i, v);
      },
      tensor: (shape) => new Tensor(type, data, shape),
    };
  }
  const arrays = {
    int8: Int8Array,
    uint8: Uint8Array,
    int16: Int16Array,
    uint16: Uint16Array,
    int32: Int32Array,
    uint32: Uint32Array,
  } as const;
  const data = new arrays[type](size);
  const low = Number(min);
  const high = Number(max);
  return {
    put: (i, v) => {
      if (typeof v === 'number' && Number.isInteger(v)) {
        data[i] = v < low || v > high ? outside(i, v) : v;
      } else {
        data[i] = Number(integer(i, v));
      }
    },
    tensor: (shape) => new Tensor(type, data, shape),
  };
}

/**
 * Converts a nested JSON list to a tensor of the input's element type and shape. `locate`, given
 * for values from a table, names where a bad value sits from its row and its offset in the row.
 */
export function tensorFromJson(info: ValueInfo, value: Json, locate?: (row: number, offset: number) => string): Tensor {
  const shape = fitShape(info, shapeOf(value, info.name), locate !== undefined);
  info.shape.forEach((dim, i) => {
    if (typeof dim === 'number' && shape[i] !== dim) {
      throw new PredictionError(
        'BAD_REQUEST',
        `input '${info.name}' expects shape ${showShape(info.shape)}, got ${showShape(shape)}`,
      );
    }
  });
  const size = Array.isArray(value) ? shape.reduce((a, b) => a * b, 1) : 1;
  const perRow = shape.slice(1).reduce((a, b) => a * b, 1);
  const fail: Fail = (index, bad, why) => {
    const where = locate
      ? ` (${locate(Math.floor(index / perRow), index % perRow)})`
      : size > 1
        ? ` (element ${index})`
        : '';
    throw new PredictionError(
      'BAD_REQUEST',
      `Failed to convert input '${info.name}' to type '${info.type}': ${JSON.stringify(bad)}${where} ${why}`,
    );
  };
  const sink = sinkFor(info.type, size, fail);
  let index = 0;
  const visit = (v: Json): void => {
    if (Array.isArray(v)) for (let i = 0; i < v.length; i++) visit(v[i] as Json);
    else sink.put(index++, v);
  };
  visit(value);
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

/** The nested list of `count` elements from `offset` with dimensions `dims`, as JSON text. */
function nestedText(write: (index: number) => string, dims: readonly number[], offset: number): string {
  const [first, ...rest] = dims;
  if (first === undefined) return write(offset);
  const stride = rest.reduce((a, b) => a * b, 1);
  const parts = new Array<string>(first);
  for (let i = 0; i < first; i++) parts[i] = nestedText(write, rest, offset + i * stride);
  return `[${parts.join(',')}]`;
}

/** Outputs as `{"name": nested list, ...}` JSON text, formatted a block of rows at a time. */
export function outputsText(outputs: readonly [string, Tensor][]): JsonText {
  return new JsonText(function* () {
    yield '{';
    for (const [n, [name, tensor]] of outputs.entries()) {
      yield `${n > 0 ? ',' : ''}${JSON.stringify(name)}:`;
      const [rows, ...inner] = tensor.dims;
      const write = elementWriter(tensor);
      if (rows === undefined) {
        yield write(0);
        continue;
      }
      const stride = inner.reduce((a, b) => a * b, 1);
      yield '[';
      for (let start = 0; start < rows; start += ROWS_PER_PART) {
        const end = Math.min(rows, start + ROWS_PER_PART);
        const block = new Array<string>(end - start);
        for (let r = start; r < end; r++) block[r - start] = nestedText(write, inner, r * stride);
        yield (start > 0 ? ',' : '') + block.join(',');
      }
      yield ']';
    }
    yield '}';
  });
}

/**
 * Outputs as one record per row, as JSON text formatted a block of rows at a time. A row's
 * value is a scalar when the output has one value per row (shape [rows] or [rows, 1], as
 * MLflow's DataFrame output has), else the row's nested list. Outputs not shaped by rows are
 * flattened as MLflow does, and then must agree in length.
 */
export function recordsText(outputs: readonly [string, Tensor][], rows: number): JsonText {
  const byRow = outputs.every(([, t]) => t.dims[0] === rows);
  const columns = outputs.map(([name, tensor]) => {
    const inner = tensor.dims.slice(1);
    const size = inner.reduce((a, b) => a * b, 1);
    const write = elementWriter(tensor);
    const flat = !byRow || size === 1;
    const length = flat ? tensor.dims.reduce((a, b) => a * b, 1) : rows;
    const cell = flat ? write : (r: number) => nestedText(write, inner, r * size);
    return { key: `${JSON.stringify(name)}:`, length, cell };
  });
  const length = columns[0]?.length ?? 0;
  if (columns.some((c) => c.length !== length)) {
    throw new PredictionError(
      'BAD_REQUEST',
      `The model's outputs ${list(outputs.map(([n]) => n))} do not have one value per input row and cannot form records`,
    );
  }
  return new JsonText(function* () {
    yield '[';
    for (let start = 0; start < length; start += ROWS_PER_PART) {
      const end = Math.min(length, start + ROWS_PER_PART);
      const block = new Array<string>(end - start);
      for (let r = start; r < end; r++) {
        let record = '{';
        for (let c = 0; c < columns.length; c++) {
          const column = columns[c] as (typeof columns)[number];
          record += `${c > 0 ? ',' : ''}${column.key}${column.cell(r)}`;
        }
        block[r - start] = `${record}}`;
      }
      yield (start > 0 ? ',' : '') + block.join(',');
    }
    yield ']';
  });
}
