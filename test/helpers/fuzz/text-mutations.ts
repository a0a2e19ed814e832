/**
 * Mutations of a request as written: text and byte damage (truncation, odd number literals,
 * invalid UTF-8, lone surrogates, BOMs), broken CSV, odd Content-Types and multipart wrapping.
 */
import { IRIS_COLUMNS } from '../iris-host';
import { CSV_TYPE, csvText, type Draft, JSON_TYPE } from './requests';
import { KiB, type Rng } from './values';

const NUMBER_TOKEN = /-?\d+(\.\d+)?([eE][-+]?\d+)?/g;

/** Replaces one number in JSON or CSV text with `replacement`. */
function replaceNumber(rng: Rng, text: string, replacement: string): string | undefined {
  const matches = [...text.matchAll(NUMBER_TOKEN)];
  if (matches.length === 0) return undefined;
  const m = rng.pick(matches);
  const at = m.index ?? 0;
  return text.slice(0, at) + replacement + text.slice(at + m[0].length);
}

const INVALID_UTF8 = [
  [0xff],
  [0xfe],
  [0xc0, 0x80],
  [0xc3],
  [0xe2, 0x82],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0x80],
  [0x00],
];

/** Inserts `insert` at a random offset of `bytes` (inside a string when one is found and `inString`). */
function insertBytes(rng: Rng, bytes: Buffer, insert: Buffer, inString: boolean): Buffer {
  let at = rng.int(0, bytes.length);
  if (inString) {
    const quotes: number[] = [];
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x22) quotes.push(i + 1);
    if (quotes.length > 0) at = rng.pick(quotes);
  }
  return Buffer.concat([bytes.subarray(0, at), insert, bytes.subarray(at)]);
}

/** Mutates the text (or bytes) of a body; returns undefined when the mutation does not apply. */
export function mutateText(rng: Rng, text: string, isCsv: boolean): [string | Buffer, string] | undefined {
  const bytes = () => Buffer.from(text, 'utf8');
  return rng.weighted<() => [string | Buffer, string] | undefined>([
    [
      3,
      () => {
        const b = bytes();
        const at = rng.int(0, Math.max(0, b.length - 1));
        return [b.subarray(0, at), `truncated-at-${at}`];
      },
    ],
    [
      3,
      () => {
        const literal = rng.pick(['NaN', 'Infinity', '-Infinity', 'nan', 'inf', '-inf', 'NAN', '+Infinity']);
        const out = replaceNumber(rng, text, literal);
        return out === undefined ? undefined : [out, `literal-${literal}`];
      },
    ],
    [
      3,
      () => {
        const huge = rng.pick([
          '1e400',
          '-1e400',
          '1e-400',
          '123456789012345678901234567890',
          '-123456789012345678901234567890.5',
          '9'.repeat(400),
          `0.${'1'.repeat(500)}`,
          '1E+99999',
          '0x10',
          '01',
          '.5',
          '5.',
          '+1',
          '1_000',
        ]);
        const out = replaceNumber(rng, text, huge);
        return out === undefined ? undefined : [out, `number-${huge.slice(0, 24)}`];
      },
    ],
    [
      2,
      () => {
        const seq = Buffer.from(rng.pick(INVALID_UTF8));
        return [insertBytes(rng, bytes(), seq, rng.chance(0.7)), `invalid-utf8-${seq.toString('hex')}`];
      },
    ],
    [
      2,
      () => {
        if (isCsv) return undefined;
        const surrogate = rng.pick([
          '\\ud800',
          '\\udfff',
          '\\ud83d',
          '\\udc00\\ud800',
          '\\ud800x',
          '\\u0000',
          '\\uZZZZ',
        ]);
        const quotes = [...text.matchAll(/"/g)].map((m) => m.index ?? 0);
        if (quotes.length === 0) return undefined;
        const at = rng.pick(quotes) + 1;
        return [text.slice(0, at) + surrogate + text.slice(at), `surrogate-${surrogate}`];
      },
    ],
    [
      2,
      () => {
        const bom = rng.pick([
          [0xef, 0xbb, 0xbf],
          [0xff, 0xfe],
          [0xfe, 0xff],
          [0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf],
        ]);
        return [Buffer.concat([Buffer.from(bom), bytes()]), `bom-${Buffer.from(bom).toString('hex')}`];
      },
    ],
    [
      2,
      () => {
        const b = bytes();
        if (b.length === 0) return undefined;
        const copy = Buffer.from(b);
        const flips = rng.int(1, 4);
        for (let i = 0; i < flips; i++) copy[rng.int(0, copy.length - 1)] = rng.int(0, 255);
        return [copy, `byte-flips-${flips}`];
      },
    ],
    [
      1,
      () => {
        const huge = `"${'y'.repeat(rng.int(90, 110) * KiB)}"`;
        const out = replaceNumber(rng, text, huge);
        return out === undefined ? undefined : [out, 'huge-string-100k'];
      },
    ],
    [
      1,
      () => {
        const junk = rng.pick([' garbage', '}', ']]]', '\u0000', ',', '{}', '\n\n\n', ' '.repeat(1000)]);
        return rng.chance(0.5) ? [text + junk, 'trailing-junk'] : [junk + text, 'leading-junk'];
      },
    ],
    [
      1,
      () => {
        if (isCsv) return undefined;
        const m = /^\{"([^"]+)":/.exec(text);
        if (!m) return undefined;
        return [`{"${m[1]}":${rng.pick(['null', '[]', '{}', '1', '"x"'])},${text.slice(1)}`, 'duplicate-key'];
      },
    ],
  ])();
}

export const CSV_BROKEN: readonly ((rng: Rng, rows: number[][]) => [string | Buffer, string])[] = [
  (rng, rows) => {
    const lines = csvText(IRIS_COLUMNS, rows).split('\n');
    const at = rng.int(1, Math.max(1, lines.length - 2));
    lines[at] = lines[at]?.split(',').slice(0, rng.int(0, 3)).join(',') ?? '';
    return [lines.join('\n'), 'csv-ragged-short'];
  },
  (_rng, rows) => [csvText(IRIS_COLUMNS, rows).replace('\n', ',9.9,8.8\n').replace(/\n$/, ',1\n'), 'csv-ragged-long'],
  (_rng, rows) => [`${csvText(IRIS_COLUMNS, rows)}"unclosed,1,2,3\n`, 'csv-unclosed-quote'],
  (_rng, rows) => [
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(csvText(IRIS_COLUMNS, rows))]),
    'csv-bom',
  ],
  (_rng, rows) => [csvText(IRIS_COLUMNS, rows, '\r\n'), 'csv-crlf'],
  () => [`${IRIS_COLUMNS.join(',')}\n`, 'csv-header-only'],
  () => ['', 'csv-empty'],
  () => ['\n\n\n', 'csv-blank-lines'],
  (rng, rows) => [csvText(['a', 'b', 'c', 'd'], rows.slice(0, rng.int(1, rows.length))), 'csv-wrong-header'],
  (rng, rows) => [
    csvText(
      IRIS_COLUMNS,
      rows.map((r) => r.map((c) => (rng.chance(0.3) ? 'x' : c))),
    ),
    'csv-words',
  ],
  (rng, rows) => [
    csvText(
      IRIS_COLUMNS,
      rows.map((r) => r.map((c) => (rng.chance(0.4) ? rng.pick(['nan', 'NaN', 'inf', '-Infinity', '1e400']) : c))),
    ),
    'csv-nan-inf',
  ],
  (_rng, rows) => [csvText(IRIS_COLUMNS, rows).replace(/,/g, ';'), 'csv-semicolons'],
  (rng, rows) => [
    csvText(
      Array.from({ length: rng.pick([50, 500, 2000]) }, (_, i) => `c${i}`),
      rows.map((r) => [...r, ...Array.from({ length: 0 }, () => 0)]),
    ),
    'csv-many-columns-ragged',
  ],
  (_rng, rows) => [csvText(IRIS_COLUMNS, [[`${'z'.repeat(100 * KiB)}`, ...(rows[0] ?? []).slice(1)]]), 'csv-huge-cell'],
  (_rng, rows) => [
    csvText(
      [...IRIS_COLUMNS, ...IRIS_COLUMNS],
      rows.map((r) => [...r, ...r]),
    ),
    'csv-duplicate-columns',
  ],
  (_rng, rows) => [`${csvText(IRIS_COLUMNS, rows)}\u0000\u0000`, 'csv-nul'],
];

/** A Content-Type other than the right one for the body. */
export function oddContentType(rng: Rng, draft: Draft): [string | undefined, string] {
  const isCsv = draft.contentType?.startsWith(CSV_TYPE) ?? false;
  return rng.pick<[string | undefined, string]>([
    [undefined, 'ct-none'],
    ['', 'ct-empty'],
    ['text/plain', 'ct-text-plain'],
    ['application/json; charset=latin1', 'ct-latin1'],
    ['application/json; charset=utf-16', 'ct-utf16'],
    ['application/json; charset=UTF-8', 'ct-utf8-upper'],
    ['application/json; charset="utf-8"', 'ct-utf8-quoted'],
    ['application/json; format=pandas-split', 'ct-pandas-split'],
    ['application/json; format=pandas-records', 'ct-pandas-records'],
    ['application/json; format=foo', 'ct-format-foo'],
    ['application/json; foo=bar', 'ct-param-foo'],
    ['application/json;', 'ct-trailing-semicolon'],
    ['application/json ; format = pandas-split', 'ct-spaced-params'],
    ['APPLICATION/JSON', 'ct-upper'],
    ['application/json-numpy-split', 'ct-numpy-split'],
    ['multipart/form-data; boundary=fuzzboundary', 'ct-multipart'],
    ['application/x-www-form-urlencoded', 'ct-form'],
    ['application/octet-stream', 'ct-octet'],
    [';', 'ct-semicolon'],
    ['*/*', 'ct-any'],
    [isCsv ? JSON_TYPE : CSV_TYPE, 'ct-swapped'],
    ['text/csv; charset=latin1', 'ct-csv-latin1'],
    ['text/csv; format=pandas-split', 'ct-csv-format'],
    ['application/json; format=pandas-split; format=pandas-records', 'ct-two-formats'],
  ]);
}

/** A multipart/form-data body wrapping a request, as a browser form would send it. */
export function multipart(inner: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(
      '--fuzzboundary\r\nContent-Disposition: form-data; name="file"; filename="x.json"\r\n' +
        'Content-Type: application/json\r\n\r\n',
    ),
    inner,
    Buffer.from('\r\n--fuzzboundary--\r\n'),
  ]);
}
