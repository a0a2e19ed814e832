/**
 * Valid iris scoring requests in every MLflow format (2.x, 1.x, CSV), as drafts the mutations
 * then damage, and the CSV writer they share.
 */
import { IRIS_COLUMNS } from '../iris-host';
import type { Rng, Value } from './values';

export const JSON_TYPE = 'application/json';
export const CSV_TYPE = 'text/csv';

/** A body before it is written out: a JSON value, or text (CSV, or JSON text already mangled). */
export interface Draft {
  label: string;
  value?: Value;
  text?: string;
  bytes?: Buffer;
  contentType: string | undefined;
}

export function irisRow(rng: Rng): number[] {
  return [
    Number((4.3 + rng.next() * 3.6).toFixed(1)),
    Number((2 + rng.next() * 2.4).toFixed(1)),
    Number((1 + rng.next() * 5.9).toFixed(1)),
    Number((0.1 + rng.next() * 2.4).toFixed(1)),
  ];
}

export function irisRows(
  rng: Rng,
  count = rng.weighted([
    [8, rng.int(1, 5)],
    [2, rng.int(6, 60)],
  ]),
): number[][] {
  return Array.from({ length: count }, () => irisRow(rng));
}

export const records = (rows: readonly Value[][], columns: readonly string[] = IRIS_COLUMNS) =>
  rows.map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i] as Value])));

export type Format =
  | 'dataframe_split'
  | 'dataframe_split_index'
  | 'dataframe_split_no_columns'
  | 'dataframe_records'
  | 'inputs_list'
  | 'inputs_dict_columnar'
  | 'inputs_named_tensor'
  | 'instances_list'
  | 'instances_records'
  | 'params'
  | 'csv'
  | '1.x_records'
  | '1.x_split'
  | '1.x_format_pandas_records'
  | '1.x_format_pandas_split'
  | '1.x_numpy_split'
  | 'json_string';

export const FORMATS: readonly Format[] = [
  'dataframe_split',
  'dataframe_split_index',
  'dataframe_split_no_columns',
  'dataframe_records',
  'inputs_list',
  'inputs_dict_columnar',
  'inputs_named_tensor',
  'instances_list',
  'instances_records',
  'params',
  'csv',
  '1.x_records',
  '1.x_split',
  '1.x_format_pandas_records',
  '1.x_format_pandas_split',
  '1.x_numpy_split',
  'json_string',
];

/** A well-formed iris request in `format` (valid for the sklearn model, the ONNX one or both). */
export function validRequest(format: Format, rows: number[][]): Draft {
  const columns = [...IRIS_COLUMNS];
  const json = (value: Value, contentType = JSON_TYPE): Draft => ({ label: format, value, contentType });
  switch (format) {
    case 'dataframe_split':
      return json({ dataframe_split: { columns, data: rows } });
    case 'dataframe_split_index':
      return json({ dataframe_split: { index: rows.map((_, i) => i), columns, data: rows } });
    case 'dataframe_split_no_columns':
      return json({ dataframe_split: { data: rows } });
    case 'dataframe_records':
      return json({ dataframe_records: records(rows) });
    case 'inputs_list':
      return json({ inputs: rows });
    case 'inputs_dict_columnar':
      return json({ inputs: Object.fromEntries(columns.map((c, i) => [c, rows.map((r) => r[i] as number)])) });
    case 'inputs_named_tensor':
      return json({ inputs: { input: rows } });
    case 'instances_list':
      return json({ instances: rows });
    case 'instances_records':
      return json({ instances: records(rows) });
    case 'params':
      return json({ dataframe_split: { columns, data: rows }, params: {} });
    case 'csv':
      return { label: format, text: csvText(columns, rows), contentType: CSV_TYPE };
    case '1.x_records':
      return json(records(rows));
    case '1.x_split':
      return json({ columns, data: rows });
    case '1.x_format_pandas_records':
      return json(records(rows), 'application/json; format=pandas-records');
    case '1.x_format_pandas_split':
      return json({ columns, data: rows }, 'application/json; format=pandas-split');
    case '1.x_numpy_split':
      return json({ columns, data: rows }, 'application/json-numpy-split');
    case 'json_string':
      return json(JSON.stringify({ dataframe_split: { columns, data: rows } }));
  }
}

function csvCell(cell: Value): string {
  if (cell === null) return '';
  const text = typeof cell === 'object' ? JSON.stringify(cell) : String(cell);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvText(columns: readonly Value[], rows: readonly Value[][], eol = '\n'): string {
  return [columns, ...rows].map((r) => r.map(csvCell).join(',')).join(eol) + eol;
}
