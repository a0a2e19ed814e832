/**
 * The bodies made whatever the seed picks: one pinned body per named case, very deep bodies
 * (and bodies around the host's depth limit), and large bodies of 1 to 15 MiB.
 */
import { IRIS_COLUMNS } from '../iris-host';
import type { FuzzBody } from './index';
import { CSV_TYPE, irisRow, JSON_TYPE, records } from './requests';
import { multipart } from './text-mutations';
import { KiB, MiB, type Rng } from './values';

/** Nesting `n` levels deep, written as text (JSON.stringify would overflow on the deepest). */
export function deepArray(n: number): string {
  return `${'['.repeat(n)}1${']'.repeat(n)}`;
}

function deepObject(n: number): string {
  return `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
}

const SPLIT_PREFIX = `{"dataframe_split": {"columns": ${JSON.stringify(IRIS_COLUMNS)}, "data": `;

/** One body of each named case, whatever the seed: each kind of damage on its own to a valid request. */
export function pinnedBodies(): FuzzBody[] {
  const row = '[5.1, 3.5, 1.4, 0.2]';
  const columns = JSON.stringify(IRIS_COLUMNS);
  const split = (data: string) => `{"dataframe_split": {"columns": ${columns}, "data": ${data}}}`;
  const recordsBody = JSON.stringify(records([[5.1, 3.5, 1.4, 0.2]]));
  const csv = `${IRIS_COLUMNS.join(',')}\n5.1,3.5,1.4,0.2\n`;
  const out: FuzzBody[] = [];
  /** `contentType` null sends no Content-Type. */
  const add = (label: string, body: string | Buffer, contentType: string | null = JSON_TYPE) =>
    out.push({
      label: `pinned-${label}`,
      body: Buffer.isBuffer(body) ? body : Buffer.from(body),
      contentType: contentType ?? undefined,
    });
  for (const literal of ['NaN', 'Infinity', '-Infinity', '1e400', '-1e400', '123456789012345678901234567890']) {
    add(`literal-${literal}`, split(`[[${literal}, 3.5, 1.4, 0.2]]`));
    add(`inputs-literal-${literal}`, `{"inputs": [[${literal}, 3.5, 1.4, 0.2]]}`);
    add(`csv-literal-${literal}`, `${IRIS_COLUMNS.join(',')}\n${literal},3.5,1.4,0.2\n`, CSV_TYPE);
  }
  add('cell-string', split('[["5.1", 3.5, 1.4, 0.2]]'));
  add('cell-object', split('[[{"a": 1}, 3.5, 1.4, 0.2]]'));
  add('cell-list', split('[[[5.1], 3.5, 1.4, 0.2]]'));
  add('cell-bool-null', split('[[true, null, false, 0.2]]'));
  add(
    'missing-column',
    `{"dataframe_split": {"columns": ${JSON.stringify(IRIS_COLUMNS.slice(1))}, "data": [[3.5, 1.4, 0.2]]}}`,
  );
  add(
    'extra-column',
    `{"dataframe_split": {"columns": ${JSON.stringify([...IRIS_COLUMNS, 'x'])}, "data": [[5.1, 3.5, 1.4, 0.2, 9]]}}`,
  );
  add('ragged-rows', split(`[${row}, [5.1, 3.5], [1, 2, 3, 4, 5]]`));
  add('ragged-inputs', `{"inputs": [${row}, [5.1, 3.5]]}`);
  add('huge-string', split(`[["${'h'.repeat(100 * KiB)}", 3.5, 1.4, 0.2]]`));
  add('huge-column-name', `{"dataframe_split": {"columns": ["${'c'.repeat(100 * KiB)}"], "data": [[1]]}}`);
  // One 100 KiB string among 2,000 numeric rows: a fixed-width string array of every cell would take GiBs.
  const hugeFirst = (rows: number) => `[["${'u'.repeat(100 * KiB)}", 3.5, 1.4, 0.2]${`, ${row}`.repeat(rows - 1)}]`;
  add('huge-string-named-tensor', `{"inputs": {"input": ${hugeFirst(2000)}}}`);
  add('huge-string-inputs-list', `{"inputs": ${hugeFirst(2000)}}`);
  add('huge-string-instances', `{"instances": ${hugeFirst(2000)}}`);
  add('huge-string-split', split(hugeFirst(2000)));
  add(
    'huge-string-columnar',
    `{"inputs": {"sepal_length": ["${'u'.repeat(100 * KiB)}"${', 5.1'.repeat(1999)}], "sepal_width": [${Array(2000).fill(3.5)}], "petal_length": [${Array(2000).fill(1.4)}], "petal_width": [${Array(2000).fill(0.2)}]}}`,
  );
  add('lone-surrogate-cell', split('[["\\ud800", 3.5, 1.4, 0.2]]'));
  add(
    'lone-surrogate-column',
    `{"dataframe_split": {"columns": ["\\ud800", "sepal_width", "petal_length", "petal_width"], "data": [${row}]}}`,
  );
  add('lone-surrogate-record-key', '[{"\\ud800": 1}]');
  add('lone-surrogate-inputs-key', `{"inputs": {"\\udfff": [${row}]}}`);
  add('lone-surrogate-params', `{"inputs": [${row}], "params": {"p": "\\ud800"}}`);
  add(
    'invalid-utf8-cell',
    Buffer.concat([Buffer.from(`${SPLIT_PREFIX}[["`), Buffer.from([0xff, 0xfe]), Buffer.from('", 3.5, 1.4, 0.2]]}}')]),
  );
  add(
    'invalid-utf8-column',
    Buffer.concat([
      Buffer.from('{"dataframe_split": {"columns": ["'),
      Buffer.from([0xc0, 0x80]),
      Buffer.from(`", "b", "c", "d"], "data": [${row}]}}`),
    ]),
  );
  add('truncated', split(`[${row}]`).slice(0, 40));
  add('bom-json', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(split(`[${row}]`))]));
  add('bom-csv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(csv)]), CSV_TYPE);
  add('csv-ragged', `${IRIS_COLUMNS.join(',')}\n5.1,3.5\n1,2,3,4,5\n`, CSV_TYPE);
  add('ct-none', split(`[${row}]`), null);
  add('ct-text-plain', split(`[${row}]`), 'text/plain');
  add('ct-latin1', split(`[${row}]`), 'application/json; charset=latin1');
  add('ct-pandas-split-records-body', recordsBody, 'application/json; format=pandas-split');
  add(
    'ct-pandas-records-split-body',
    `{"columns": ${columns}, "data": [${row}]}`,
    'application/json; format=pandas-records',
  );
  add('ct-multipart', multipart(Buffer.from(split(`[${row}]`))), 'multipart/form-data; boundary=fuzzboundary');
  add('ct-csv-json-body', split(`[${row}]`), CSV_TYPE);
  add('ct-json-csv-body', csv, JSON_TYPE);
  add('empty-json', '', JSON_TYPE);
  add('empty-csv', '', CSV_TYPE);
  add('json-null', 'null');
  add('json-string-of-garbage', '"not json"');
  add('params-not-dict', `{"inputs": [${row}], "params": [1]}`);
  return out;
}

/** Very deep bodies inside `inputs` and `dataframe_split.data`, and around the host's limit of 64. */
export function deepBodies(): FuzzBody[] {
  const out: FuzzBody[] = [];
  const json = (label: string, text: string, contentType: string | undefined = JSON_TYPE) =>
    out.push({ label, body: Buffer.from(text), contentType });
  for (const n of [1000, 10_000, 100_000]) {
    json(`deep-inputs-${n}`, `{"inputs": ${deepArray(n)}}`);
    json(`deep-split-${n}`, `${SPLIT_PREFIX}${deepArray(n)}}}`);
    json(`deep-split-row-${n}`, `${SPLIT_PREFIX}[[${deepArray(n)}, 1, 2, 3]]}}`);
    json(`deep-records-${n}`, `{"dataframe_records": [{"sepal_length": ${deepArray(n)}}]}`);
    json(`deep-objects-inputs-${n}`, `{"inputs": ${deepObject(n)}}`);
    json(`deep-1.x-list-${n}`, deepArray(n));
    json(`deep-unclosed-${n}`, `{"inputs": ${'['.repeat(n)}`);
    json(`deep-in-json-string-${n}`, JSON.stringify(`{"inputs": ${deepArray(n)}}`));
    json(
      `deep-pandas-split-${n}`,
      `{"columns": ["a"], "data": ${deepArray(n)}}`,
      'application/json; format=pandas-split',
    );
    json(`deep-numpy-split-${n}`, `{"columns": ["a"], "data": ${deepArray(n)}}`, 'application/json-numpy-split');
    json(`deep-csv-${n}`, `a,b\n${deepArray(n)},1\n`, CSV_TYPE);
  }
  // Around the limit: the wrapper adds levels (inputs: 1; dataframe_split.data: 2).
  for (const n of [60, 61, 62, 63, 64, 65, 66]) {
    json(`limit-inputs-${n}`, `{"inputs": ${deepArray(n)}}`);
    json(`limit-split-${n}`, `${SPLIT_PREFIX}${deepArray(n)}}}`);
    json(`limit-split-row-${n}`, `${SPLIT_PREFIX}[[${deepArray(n - 3)}, 1, 2, 3]]}}`);
    json(`limit-records-${n}`, `{"dataframe_records": [{"sepal_length": ${deepArray(n - 3)}, "sepal_width": 1}]}`);
    json(`limit-objects-${n}`, `{"inputs": {"input": ${deepObject(n - 2)}}}`);
    json(`limit-in-json-string-${n}`, JSON.stringify(`{"inputs": ${deepArray(n)}}`));
  }
  // Brackets inside strings do not count; escapes must not confuse a depth scan.
  json('brackets-in-string', `{"inputs": [["${'['.repeat(5000)}", 1, 2, 3]]}`);
  json('escaped-quote-brackets', `{"inputs": [["\\"${'['.repeat(5000)}", 1, 2, 3]]}`);
  json('backslash-run-brackets', `{"inputs": [["\\\\", ${deepArray(200)}]]}`);
  return out;
}

/** Bodies of 1 to 15 MiB: many valid rows, a huge string, whitespace, a truncation (each made when called). */
export function largeBodies(rng: Rng): (() => FuzzBody)[] {
  const rowsOfSize = (bytes: number) => {
    const row = irisRow(rng);
    const rowText = JSON.stringify(row);
    const count = Math.floor(bytes / (rowText.length + 1));
    return `[${Array.from({ length: count }, () => rowText).join(',')}]`;
  };
  const cut = rng.next();
  const json =
    (label: string, text: () => string | Buffer, contentType: string | undefined = JSON_TYPE) =>
    (): FuzzBody => {
      const body = text();
      return { label, body: Buffer.isBuffer(body) ? body : Buffer.from(body), contentType };
    };
  return [
    json('large-split-1MiB', () => `${SPLIT_PREFIX}${rowsOfSize(1 * MiB)}}}`),
    json('large-inputs-4MiB', () => `{"inputs": ${rowsOfSize(4 * MiB)}}`),
    json('large-split-9MiB', () => `${SPLIT_PREFIX}${rowsOfSize(9 * MiB)}}}`),
    json('large-inputs-15MiB', () => `{"inputs": ${rowsOfSize(15 * MiB - 64)}}`),
    json('large-huge-string-6MiB', () => `{"inputs": [["${'s'.repeat(6 * MiB)}", 1, 2, 3]]}`),
    json('large-whitespace-3MiB', () => `${' '.repeat(3 * MiB)}{"inputs": [[5.1, 3.5, 1.4, 0.2]]}`),
    json('large-truncated-2MiB', () => {
      const whole = Buffer.from(`${SPLIT_PREFIX}${rowsOfSize(2 * MiB)}}}`);
      return whole.subarray(0, whole.length - 1 - Math.floor(cut * 1000));
    }),
    json(
      'large-csv-5MiB',
      () => {
        const rows = rowsOfSize(5 * MiB)
          .slice(2, -2)
          .split('],[');
        return [IRIS_COLUMNS.join(','), ...rows].join('\n');
      },
      CSV_TYPE,
    ),
    json('large-many-columns-2MiB', () => `{"dataframe_records": [${recordWithManyKeys(2 * MiB)}]}`),
  ];
}

function recordWithManyKeys(bytes: number): string {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const part = `"k${i}": ${i}`;
    parts.push(part);
    size += part.length + 2;
  }
  return `{${parts.join(', ')}}`;
}
