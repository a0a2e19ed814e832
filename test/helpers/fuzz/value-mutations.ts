/**
 * Structural mutations of a valid request's JSON value: odd cells, missing, extra and renamed
 * columns, ragged and odd rows, many rows, wrong format keys, odd params, nested cells.
 */
import { IRIS_COLUMNS } from '../iris-host';
import { irisRow } from './requests';
import { KiB, type Rng, randomNumber, randomScalar, randomString, randomTree, type Value } from './values';

/** The rows (arrays of cells) inside a value, wherever the format keeps them. */
function rowsOf(value: Value): Value[][] | undefined {
  if (Array.isArray(value)) return value.every(Array.isArray) ? (value as Value[][]) : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  for (const key of ['dataframe_split', 'inputs', 'instances']) {
    const inner = value[key];
    if (Array.isArray(inner) && inner.every(Array.isArray)) return inner as Value[][];
    if (inner && typeof inner === 'object' && !Array.isArray(inner)) {
      const data = inner.data ?? inner.input;
      if (Array.isArray(data) && data.every(Array.isArray)) return data as Value[][];
    }
  }
  if (Array.isArray(value.data) && value.data.every(Array.isArray)) return value.data as Value[][];
  return undefined;
}

/** The records (objects of cells) inside a value. */
function recordsOf(value: Value): { [key: string]: Value }[] | undefined {
  const isRecords = (v: Value | undefined): v is { [key: string]: Value }[] =>
    Array.isArray(v) && v.length > 0 && v.every((r) => r !== null && typeof r === 'object' && !Array.isArray(r));
  if (isRecords(value)) return value;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    if (isRecords(value.dataframe_records)) return value.dataframe_records;
    if (isRecords(value.instances)) return value.instances;
  }
  return undefined;
}

/** The column-name list inside a value (dataframe_split, 1.x split). */
function columnsOf(value: Value): Value[] | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const split = value.dataframe_split;
  if (split && typeof split === 'object' && !Array.isArray(split) && Array.isArray(split.columns)) return split.columns;
  if (Array.isArray(value.columns)) return value.columns;
  return undefined;
}

function oddCell(rng: Rng): Value {
  return rng.weighted<() => Value>([
    [3, () => randomString(rng)],
    [2, () => randomNumber(rng)],
    [1, () => rng.chance(0.5)],
    [1, () => null],
    [1, () => ({})],
    [1, () => []],
    [1, () => [1, 2, 3]],
    [1, () => ({ a: 1 })],
    [1, () => randomTree(rng, rng.int(1, 70))],
    [0.3, () => 'x'.repeat(100 * KiB)],
  ])();
}

/** Mutates a JSON value in place where it can; returns the new value and what was done. */
export function mutateValue(rng: Rng, value: Value): [Value, string] {
  const rows = rowsOf(value);
  const recs = recordsOf(value);
  const columns = columnsOf(value);
  const options: [number, () => [Value, string] | undefined][] = [
    [
      4,
      () => {
        if (rows && rows.length > 0) {
          const row = rng.pick(rows);
          if (row.length === 0) return undefined;
          row[rng.int(0, row.length - 1)] = oddCell(rng);
          return [value, 'cell-type'];
        }
        if (recs) {
          const rec = rng.pick(recs);
          const keys = Object.keys(rec);
          if (keys.length === 0) return undefined;
          rec[rng.pick(keys)] = oddCell(rng);
          return [value, 'record-cell-type'];
        }
        return undefined;
      },
    ],
    [
      2,
      () => {
        if (columns && columns.length > 0) {
          columns.splice(rng.int(0, columns.length - 1), 1);
          return [value, 'missing-column'];
        }
        if (recs) {
          for (const rec of recs) delete rec[rng.pick(IRIS_COLUMNS)];
          return [value, 'missing-record-key'];
        }
        return undefined;
      },
    ],
    [
      2,
      () => {
        if (columns) {
          columns.push(rng.chance(0.5) ? 'extra' : rng.pick(IRIS_COLUMNS));
          if (rows && rng.chance(0.7)) for (const row of rows) row.push(randomScalar(rng));
          return [value, 'extra-column'];
        }
        if (recs) {
          for (const rec of recs) rec[randomString(rng)] = randomScalar(rng);
          return [value, 'extra-record-key'];
        }
        return undefined;
      },
    ],
    [
      2,
      () => {
        if (!rows || rows.length === 0) return undefined;
        const row = rng.pick(rows);
        if (rng.chance(0.5) && row.length > 0) row.pop();
        else row.push(...Array.from({ length: rng.int(1, 5) }, () => randomNumber(rng)));
        return [value, 'ragged-row'];
      },
    ],
    [
      1,
      () => {
        if (!columns || columns.length === 0) return undefined;
        columns[rng.int(0, columns.length - 1)] = rng.weighted<Value>([
          [3, randomString(rng)],
          [1, randomNumber(rng)],
          [1, null],
          [1, [1]],
          [1, { a: 1 }],
        ]);
        return [value, 'renamed-column'];
      },
    ],
    [
      1,
      () => {
        if (!rows) return undefined;
        rows.length = 0;
        return [value, 'no-rows'];
      },
    ],
    [
      1,
      () => {
        if (!rows || rows.length === 0) return undefined;
        const count = rng.pick([500, 2000, 5000]);
        const row = irisRow(rng);
        while (rows.length < count) rows.push([...row]);
        return [value, `many-rows-${count}`];
      },
    ],
    [
      1,
      () => {
        if (!rows || rows.length === 0) return undefined;
        const at = rng.int(0, rows.length - 1);
        rows[at] = rng.pick<Value[]>([[], [null], [[]], [[[1, 2, 3, 4]]]]);
        if (rng.chance(0.3)) (rows as Value[])[at] = rng.pick<Value>([null, 1, 'row', { a: 1 }]);
        return [value, 'odd-row'];
      },
    ],
    [
      2,
      () => {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
        const keys = Object.keys(value);
        const key = rng.pick(keys);
        const inner = value[key] as Value;
        delete value[key];
        const replacement = rng.pick([
          'dataframe_split',
          'dataframe_records',
          'inputs',
          'instances',
          'params',
          'data',
          'columns',
          'Inputs',
          '',
          randomString(rng),
        ]);
        value[replacement] = inner;
        if (rng.chance(0.3)) value[rng.pick(['inputs', 'instances', 'dataframe_split', 'params'])] = oddCell(rng);
        return [value, 'format-key'];
      },
    ],
    [
      1,
      () => {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
        value.params = rng.weighted<Value>([
          [2, { temperature: randomScalar(rng) }],
          [1, randomScalar(rng)],
          [1, [1, 2]],
          [1, randomTree(rng, rng.int(1, 10)) as Value],
        ]);
        return [value, 'params'];
      },
    ],
    [
      1,
      () => {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
        const key = rng.pick(Object.keys(value));
        const inner = value[key];
        if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) {
          value[key] = oddCell(rng);
          return [value, 'format-value'];
        }
        const field = rng.pick(Object.keys(inner).concat(['data', 'columns', 'index']));
        inner[field] = oddCell(rng);
        return [value, `field-${field}`];
      },
    ],
    [1, () => [[value], 'wrapped-in-list']],
    [1, () => [JSON.stringify(value), 'json-string']],
    [
      1,
      () => {
        if (!rows || rows.length === 0) return undefined;
        const row = rng.pick(rows);
        if (row.length === 0) return undefined;
        let cell: Value = row[0] as Value;
        for (let i = rng.int(1, 70); i > 0; i--) cell = [cell];
        row[0] = cell;
        return [value, 'nested-cell'];
      },
    ],
  ];
  for (let attempt = 0; attempt < 8; attempt++) {
    const result = rng.weighted(options)();
    if (result) return result;
  }
  return [value, 'unchanged'];
}
