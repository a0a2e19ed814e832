import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { PredictionError } from '../../container/src/errors';
import { outputsText, recordsText, tensorFromJson, type ValueInfo } from '../../container/src/runtimes/onnx-tensors';

/** A seeded generator, so a failure can be replayed. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** The nested list of a flat array with dimensions, built the plain way (the reference). */
function nest(flat: unknown[], dims: number[], offset = 0): unknown {
  const [first, ...rest] = dims;
  if (first === undefined) return flat[offset];
  const stride = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: first }, (_, i) => nest(flat, rest, offset + i * stride));
}

describe('answers written as text', () => {
  it('write exactly what JSON.stringify writes for the nested outputs, over many shapes and types', () => {
    const next = random(7);
    for (let round = 0; round < 200; round++) {
      const dims = Array.from({ length: Math.floor(next() * 4) }, () => Math.floor(next() * 5));
      const size = dims.reduce((a, b) => a * b, 1);
      const floats = Float32Array.from({ length: size }, () => (next() < 0.05 ? Number.NaN : (next() - 0.5) * 1e6));
      const ints = BigInt64Array.from({ length: size }, () => BigInt(Math.floor((next() - 0.5) * 2 ** 40)));
      const bools = Uint8Array.from({ length: size }, () => (next() < 0.5 ? 1 : 0));
      const strings = Array.from({ length: size }, () => (next() < 0.5 ? 'a"\\b' : 'é✓'));
      const outputs: [string, Tensor][] = [
        ['f', new Tensor('float32', floats, dims)],
        ['i', new Tensor('int64', ints, dims)],
        ['b', new Tensor('bool', bools, dims)],
        ['s', new Tensor('string', strings, dims)],
      ];
      const expected = {
        f: nest(Array.from(floats), dims),
        i: nest(Array.from(ints, Number), dims),
        b: nest(
          Array.from(bools, (v) => v !== 0),
          dims,
        ),
        s: nest(strings, dims),
      };
      expect(outputsText(outputs).text()).toBe(JSON.stringify(expected));
    }
  });

  it('write one record per row, with scalars for one value per row', () => {
    const rows = 10_000;
    const label = new Tensor(
      'int64',
      BigInt64Array.from({ length: rows }, (_, i) => BigInt(i % 3)),
      [rows],
    );
    const probabilities = new Tensor(
      'float32',
      Float32Array.from({ length: rows * 3 }, (_, i) => i / 7),
      [rows, 3],
    );
    const text = recordsText(
      [
        ['label', label],
        ['probabilities', probabilities],
      ],
      rows,
    );
    const records = JSON.parse(text.text()) as { label: number; probabilities: number[] }[];
    expect(records).toHaveLength(rows);
    expect(records[4]).toEqual({ label: 1, probabilities: [12 / 7, 13 / 7, 14 / 7].map((v) => Math.fround(v)) });
    expect([...text.parts()].length).toBeGreaterThan(2);
  });

  it('refuse outputs that cannot form records', () => {
    const a = new Tensor('float32', new Float32Array(3), [3]);
    const b = new Tensor('float32', new Float32Array(2), [2]);
    expect(() =>
      recordsText(
        [
          ['a', a],
          ['b', b],
        ],
        4,
      ),
    ).toThrow(PredictionError);
  });
});

describe('tensors from JSON', () => {
  const info = (type: ValueInfo['type'], shape: ValueInfo['shape'] = [-1, 2]): ValueInfo => ({
    name: 'x',
    type,
    shape: shape.map((d) => (d === -1 ? 'N' : d)),
  });

  it('convert values of every kind to the element type', () => {
    expect(
      Array.from(
        tensorFromJson(info('float32'), [
          [1, '2.5'],
          [null, true],
        ]).data as Float32Array,
      ),
    ).toEqual([1, 2.5, Number.NaN, 1]);
    expect(
      Array.from(
        tensorFromJson(info('int32'), [
          [1, '-7'],
          [false, 3],
        ]).data as Int32Array,
      ),
    ).toEqual([1, -7, 0, 3]);
    expect(tensorFromJson(info('int64'), [['9007199254740993', 2]]).data).toEqual(
      BigInt64Array.from([9007199254740993n, 2n]),
    );
    expect(tensorFromJson(info('string'), [['a', 3]]).data).toEqual(['a', '3']);
  });

  it('name the element that does not convert, and refuse ragged lists', () => {
    expect(() => tensorFromJson(info('int8'), [[1, 300]])).toThrow(/300 \(element 1\) is outside the range of int8/);
    expect(() => tensorFromJson(info('float32'), [[1, 'x']])).toThrow(/"x" \(element 1\) is not a number/);
    expect(() => tensorFromJson(info('float32'), [[1, 2], [3]])).toThrow(/ragged nested list: value\[1\]/);
    expect(() => tensorFromJson(info('float32'), [[1, { a: 1 }]])).toThrow(/ragged nested list: value\[0\]\[1\]/);
  });
});

describe('answers held whole or written in parts', () => {
  it('hold a small answer as one string (one write) and format a large one part by part', () => {
    const small = recordsText([['y', new Tensor('float32', Float32Array.from([0.5, -0, Number.NaN]), [3])]], 3);
    expect(small.whole()).toBe('[{"y":0.5},{"y":0},{"y":null}]');
    expect(small.wrap('{"predictions":', '}').whole()).toBe('{"predictions":[{"y":0.5},{"y":0},{"y":null}]}');
    const rows = 10_000;
    const large = outputsText([['y', new Tensor('int64', new BigInt64Array(rows), [rows])]]);
    expect(large.whole()).toBeUndefined();
    expect([...large.parts()].length).toBeGreaterThan(2);
    expect(large.text()).toBe(JSON.stringify({ y: new Array(rows).fill(0) }));
  });
});
