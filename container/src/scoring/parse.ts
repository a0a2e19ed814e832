/**
 * Reading MLflow scoring requests: every body MLflow 1.x and 2.x scoring servers accept,
 * into one ScoringRequest. Errors carry MLflow's error codes and, where MLflow 2.x answers
 * the same request, its messages.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { DEFAULT_MAX_JSON_DEPTH, jsonDepth, tooDeepMessage } from '../../../core/shared/json-limits';
import { ScoringError } from '../errors';
import type { Json, Protocol, ScoringInput, ScoringRequest } from './input';

const FORMAT_KEYS = ['dataframe_records', 'dataframe_split', 'instances', 'inputs'] as const;
const FORMAT_SET = "{'dataframe_records', 'dataframe_split', 'instances', 'inputs'}";

/** MLflow 2.x's reminder, appended to its format errors. */
export const PROTOCOL_CHANGE_NOTE =
  'IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2.0. If you are seeing this error, ' +
  'you are likely using an outdated scoring request format. To resolve the error, either update your request format ' +
  "or adjust your MLflow Model's requirements file to specify an older version of MLflow (for example, change the " +
  "'mlflow' requirement specifier to 'mlflow==1.30.0'). If you are making a request using the MLflow client (e.g. " +
  'via `mlflow.pyfunc.spark_udf()`), upgrade your MLflow client to a version >= 2.0 in order to use the new request ' +
  'format. For more information about the updated MLflow Model scoring protocol in MLflow 2.0, see ' +
  'https://mlflow.org/docs/latest/models.html#deploy-mlflow-models.';

interface MediaType {
  readonly type: string;
  readonly params: Record<string, string>;
}

/** Content-Type headers already read (clients send the same few); bounded. */
const mediaTypes = new Map<string, MediaType>();

function parseMediaType(header: string): MediaType {
  let media = mediaTypes.get(header);
  if (media === undefined) {
    if (mediaTypes.size >= 256) mediaTypes.clear();
    media = readMediaType(header);
    mediaTypes.set(header, media);
  }
  return media;
}

function readMediaType(header: string): MediaType {
  const [type = '', ...rest] = header.split(';');
  const params: Record<string, string> = {};
  for (const part of rest) {
    const at = part.indexOf('=');
    if (at < 0) continue;
    params[part.slice(0, at).trim().toLowerCase()] = part
      .slice(at + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
  }
  return { type: type.trim().toLowerCase(), params };
}

const badRequest = (message: string) => new ScoringError(400, 'BAD_REQUEST', message);

export interface ParseOptions {
  /** Deepest nesting of arrays and objects accepted, checked before the body is decoded. */
  readonly maxDepth?: number;
}

/** Reads a scoring request from its Content-Type header and body. */
export function parseScoringRequest(
  contentType: string | undefined,
  body: Buffer,
  options: ParseOptions = {},
): ScoringRequest {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_JSON_DEPTH;
  if (contentType === undefined || contentType.trim() === '') {
    throw new ScoringError(
      415,
      'BAD_REQUEST',
      "The request has no Content-Type. Send 'application/json' (MLflow 2.x or 1.x JSON) or 'text/csv'.",
    );
  }
  const media = parseMediaType(contentType);
  const charset = media.params.charset?.toLowerCase();
  if (charset && charset !== 'utf-8' && charset !== 'utf8') {
    throw new ScoringError(415, 'BAD_REQUEST', `Unsupported charset '${media.params.charset}': send UTF-8.`);
  }
  const unknown = Object.keys(media.params).filter((p) => p !== 'charset' && p !== 'format');
  if (unknown.length > 0) {
    throw new ScoringError(415, 'BAD_REQUEST', `Unrecognized content type parameters: ${unknown.join(', ')}.`);
  }
  if (media.type === 'text/csv') {
    if (media.params.format) throw unknownFormat(media.params.format);
    return { input: parseCsvInput(body.toString('utf8')), protocol: 'either' };
  }
  if (media.type === 'application/json-numpy-split') {
    return { input: splitFrame(decodeJson(body, maxDepth), 'request body'), protocol: '1.x' };
  }
  if (media.type !== 'application/json') {
    throw new ScoringError(
      415,
      'BAD_REQUEST',
      `This predictor only supports the following content types: Types: ['text/csv', 'application/json']. Got '${media.type}'.`,
    );
  }
  const json = decodeJson(body, maxDepth);
  const format = media.params.format;
  if (format === 'pandas-records') return { input: recordsFrame(json, 'request body'), protocol: '1.x' };
  if (format === 'pandas-split') return { input: splitFrame(json, 'request body'), protocol: '1.x' };
  if (format !== undefined) throw unknownFormat(format);
  return parseJsonBody(json);
}

function unknownFormat(format: string): ScoringError {
  return new ScoringError(
    415,
    'BAD_REQUEST',
    `Unrecognized content type parameter format=${format}: use format=pandas-records or format=pandas-split (MLflow 1.x), or no format with an MLflow 2.x body.`,
  );
}

/** Refuses a body nested deeper than the limit before anything decodes it. */
function checkDepth(bytes: Uint8Array, maxDepth: number): void {
  if (jsonDepth(bytes, maxDepth) > maxDepth) throw badRequest(tooDeepMessage(maxDepth));
}

function decodeJson(body: Buffer, maxDepth: number): Json {
  checkDepth(body, maxDepth);
  let value: Json;
  try {
    value = JSON.parse(body.toString('utf8')) as Json;
  } catch (error) {
    throw badRequest(
      `Invalid input. Ensure that input is a valid JSON formatted string. Error: '${(error as Error).message}'`,
    );
  }
  // A body that is a JSON string holding JSON (as `requests.post(json=json.dumps(...))` sends) is read once more.
  if (typeof value === 'string') {
    checkDepth(Buffer.from(value, 'utf8'), maxDepth);
    try {
      return JSON.parse(value) as Json;
    } catch {
      throw badRequest("Invalid input. The input must be a JSON dictionary or list. Received a 'str'.");
    }
  }
  return value;
}

function isRecord(value: Json | undefined): value is { [key: string]: Json } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The JSON body without a format parameter: MLflow 2.x keys, or a 1.x records list or split dict. */
function parseJsonBody(json: Json): ScoringRequest {
  if (Array.isArray(json)) return { input: recordsFrame(json, 'request body'), protocol: '1.x' };
  if (!isRecord(json)) {
    throw badRequest(
      `Invalid input. The input must be a JSON dictionary with exactly one of the input fields ${FORMAT_SET}. Received a '${typeof json}'.`,
    );
  }
  const { params, ...data } = json;
  if (params !== undefined && !isRecord(params)) throw badRequest("'params' must be a JSON dictionary.");
  const keys = FORMAT_KEYS.filter((k) => k in data).sort();
  if (
    keys.length === 0 &&
    params === undefined &&
    'data' in data &&
    Object.keys(data).every((k) => SPLIT_KEYS.has(k))
  ) {
    return { input: splitFrame(data, 'request body'), protocol: '1.x' };
  }
  if (keys.length !== 1) {
    throw badRequest(
      `The input must be a JSON dictionary with exactly one of the input fields ${FORMAT_SET}. Received dictionary with input fields: [${keys
        .map((k) => `'${k}'`)
        .join(', ')}]. ${PROTOCOL_CHANGE_NOTE}`,
    );
  }
  const key = keys[0] as (typeof FORMAT_KEYS)[number];
  const value = data[key];
  switch (key) {
    case 'dataframe_split':
      return withParams(splitFrame(value, key), '2.x', params);
    case 'dataframe_records':
      return withParams(recordsFrame(value, key), '2.x', params);
    default: {
      const extra = Object.keys(data).filter((k) => k !== key);
      if (extra.length > 0) {
        throw badRequest(
          `Failed to parse data as TF serving input. One of "instances" and "inputs" must be specified (not both or any other keys). Received extra keys: ${extra.join(', ')}.`,
        );
      }
      return withParams(tfServingInput(key, value), 'either', params);
    }
  }
}

/** A request with its params; one with params speaks MLflow 2.x. */
function withParams(input: ScoringInput, protocol: Protocol, params: Json | undefined): ScoringRequest {
  return params === undefined
    ? { input, protocol }
    : { input, params: params as { [key: string]: Json }, protocol: '2.x' };
}

const SPLIT_KEYS = new Set(['columns', 'data', 'index']);

/** pandas `split` orient: {"columns": [...], "data": [[...]], "index": [...]}. */
function splitFrame(value: Json | undefined, field: string): ScoringInput {
  if (!isRecord(value)) throw badRequest(`Invalid input. '${field}' must be a dictionary with 'columns' and 'data'.`);
  const { columns, data } = value;
  if (!Array.isArray(data)) throw badRequest(`Invalid input. '${field}' needs 'data': a list of rows.`);
  if (
    columns !== undefined &&
    (!Array.isArray(columns) || columns.some((c) => typeof c !== 'string' && typeof c !== 'number'))
  ) {
    throw badRequest(`Invalid input. '${field}.columns' must be a list of column names.`);
  }
  const rows = data.map((row) => (Array.isArray(row) ? row : [row]));
  const names = columns?.map(String);
  if (names && rows.some((r) => r.length !== names.length)) {
    throw badRequest(`Invalid input. '${field}' has ${names.length} columns but a row of another length.`);
  }
  return names ? { kind: 'dataframe', columns: names, rows } : { kind: 'dataframe', rows };
}

/** pandas `records` orient: [{"col": value, ...}, ...] (or a list of lists, numbered columns). */
function recordsFrame(value: Json | undefined, field: string): ScoringInput {
  if (!Array.isArray(value)) throw badRequest(`Invalid input. '${field}' must be a list of records.`);
  if (value.length > 0 && value.every((r) => Array.isArray(r))) {
    return { kind: 'dataframe', rows: value as Json[][] };
  }
  if (!value.every(isRecord))
    throw badRequest(`Invalid input. '${field}' must be a list of records (JSON dictionaries).`);
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const record of value) {
    for (const key of Object.keys(record)) {
      if (!seen.has(key)) {
        seen.add(key);
        columns.push(key);
      }
    }
  }
  const rows = value.map((record) => columns.map((c) => (c in record ? (record[c] as Json) : null)));
  return { kind: 'dataframe', columns, rows };
}

/** TF-serving style `instances` / `inputs`: a list (one tensor), a list of records, or a dict of tensors. */
function tfServingInput(key: 'instances' | 'inputs', value: Json | undefined): ScoringInput {
  if (key === 'instances') {
    if (!Array.isArray(value)) throw badRequest("Invalid input. 'instances' must be a list.");
    if (value.length > 0 && value.every(isRecord)) {
      const columns: Record<string, Json[]> = {};
      for (const record of value as { [k: string]: Json }[]) {
        for (const [k, v] of Object.entries(record)) {
          const column = columns[k] ?? [];
          column.push(v);
          columns[k] = column;
        }
      }
      return { kind: 'tensors', data: columns };
    }
    return { kind: 'tensor', data: value };
  }
  if (Array.isArray(value)) return { kind: 'tensor', data: value };
  if (isRecord(value)) return { kind: 'tensors', data: value };
  if (value === undefined || value === null) throw badRequest("Invalid input. 'inputs' is empty.");
  return { kind: 'tensor', data: [value], wrapped: true };
}

/** A number as text (what pandas reads as one from CSV). */
export const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** CSV with a header row, as pandas.read_csv reads it: numbers where cells are numeric, empty cells null. */
function parseCsvInput(text: string): ScoringInput {
  let records: string[][];
  try {
    records = parseCsv(text, { skip_empty_lines: true, relax_column_count: false, bom: true }) as string[][];
  } catch (error) {
    throw badRequest(`Invalid input. Could not parse the CSV body: ${(error as Error).message}`);
  }
  const [header, ...rows] = records;
  if (!header) throw badRequest('Invalid input. The CSV body is empty: send a header row and data rows.');
  return {
    kind: 'dataframe',
    columns: header,
    rows: rows.map((row) => row.map((cell) => (cell === '' ? null : NUMBER.test(cell.trim()) ? Number(cell) : cell))),
  };
}
