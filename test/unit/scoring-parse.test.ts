import { describe, expect, it } from 'vitest';
import { ScoringError } from '../../container/src/errors';
import { parseScoringRequest } from '../../container/src/scoring/parse';
import { answerProtocol, responseBody } from '../../container/src/scoring/respond';

const json = (body: unknown, contentType = 'application/json') =>
  parseScoringRequest(contentType, Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)));

function refused(run: () => unknown): ScoringError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ScoringError);
    return error as ScoringError;
  }
  throw new Error('expected a ScoringError');
}

describe('MLflow 2.x bodies', () => {
  it('reads dataframe_split, keeping column order', () => {
    expect(json({ dataframe_split: { columns: ['a', 'b'], data: [[1, 2]] } })).toEqual({
      input: { kind: 'dataframe', columns: ['a', 'b'], rows: [[1, 2]] },
      protocol: '2.x',
    });
  });

  it('reads dataframe_split without columns as numbered columns', () => {
    expect(json({ dataframe_split: { data: [[1, 2]] } }).input).toEqual({ kind: 'dataframe', rows: [[1, 2]] });
  });

  it('reads dataframe_records, filling absent cells with null', () => {
    expect(json({ dataframe_records: [{ a: 1 }, { b: 2 }] }).input).toEqual({
      kind: 'dataframe',
      columns: ['a', 'b'],
      rows: [
        [1, null],
        [null, 2],
      ],
    });
  });

  it('reads instances and inputs as tensors; their protocol is either', () => {
    expect(json({ instances: [[1, 2]] })).toEqual({ input: { kind: 'tensor', data: [[1, 2]] }, protocol: 'either' });
    expect(json({ inputs: { a: [1], b: [2] } })).toEqual({
      input: { kind: 'tensors', data: { a: [1], b: [2] } },
      protocol: 'either',
    });
    expect(
      json({
        instances: [
          { a: 1, b: 2 },
          { a: 3, b: 4 },
        ],
      }).input,
    ).toEqual({
      kind: 'tensors',
      data: { a: [1, 3], b: [2, 4] },
    });
  });

  it('passes params along and makes the request 2.x', () => {
    expect(json({ inputs: [[1]], params: { temperature: 0.5 } })).toEqual({
      input: { kind: 'tensor', data: [[1]] },
      params: { temperature: 0.5 },
      protocol: '2.x',
    });
  });

  it("refuses a dict without exactly one format key, with MLflow's message", () => {
    const none = refused(() => json({ foo: [[1]] }));
    expect([none.status, none.errorCode]).toEqual([400, 'BAD_REQUEST']);
    expect(none.message).toMatch(
      /^The input must be a JSON dictionary with exactly one of the input fields .* Received dictionary with input fields: \[\]\. IMPORTANT/,
    );
    expect(refused(() => json({ inputs: [[1]], instances: [[1]] })).message).toMatch(
      /input fields: \['inputs', 'instances'\]/,
    );
  });

  it('refuses malformed JSON with BAD_REQUEST', () => {
    const e = refused(() => json('{"dataframe_split": {"columns": ['));
    expect([e.status, e.errorCode]).toEqual([400, 'BAD_REQUEST']);
    expect(e.message).toMatch(/^Invalid input. Ensure that input is a valid JSON formatted string/);
  });

  it('reads a JSON string holding JSON (what requests.post(json=json.dumps(...)) sends)', () => {
    expect(json(JSON.stringify(JSON.stringify({ inputs: [[1]] }))).input).toEqual({ kind: 'tensor', data: [[1]] });
  });
});

describe('MLflow 1.x bodies', () => {
  it('reads a bare list of records (the 1.x default, and what Power BI sends)', () => {
    expect(json([{ a: 1, b: 2 }])).toEqual({
      input: { kind: 'dataframe', columns: ['a', 'b'], rows: [[1, 2]] },
      protocol: '1.x',
    });
  });

  it('reads a pandas-split dict', () => {
    expect(json({ columns: ['a'], data: [[1]], index: [0] })).toEqual({
      input: { kind: 'dataframe', columns: ['a'], rows: [[1]] },
      protocol: '1.x',
    });
  });

  it('honours the format parameter of the Content-Type', () => {
    expect(json([{ a: 1 }], 'application/json; format=pandas-records').protocol).toBe('1.x');
    expect(json({ columns: ['a'], data: [[1]] }, 'application/json; format=pandas-split').input).toEqual({
      kind: 'dataframe',
      columns: ['a'],
      rows: [[1]],
    });
    expect(json({ columns: ['a'], data: [[1]] }, 'application/json-numpy-split').protocol).toBe('1.x');
  });

  it('refuses an unknown format with 415', () => {
    expect(refused(() => json([{ a: 1 }], 'application/json; format=foo')).status).toBe(415);
  });
});

describe('CSV and content types', () => {
  it('reads CSV with a header, numbers as numbers, empty cells as null', () => {
    const request = parseScoringRequest('text/csv', Buffer.from('a,b,c\n1,2.5,x\n-3,,1e3\n'));
    expect(request).toEqual({
      input: {
        kind: 'dataframe',
        columns: ['a', 'b', 'c'],
        rows: [
          [1, 2.5, 'x'],
          [-3, null, 1000],
        ],
      },
      protocol: 'either',
    });
  });

  it('refuses ragged CSV with BAD_REQUEST', () => {
    expect(refused(() => parseScoringRequest('text/csv', Buffer.from('a,b\n1\n'))).errorCode).toBe('BAD_REQUEST');
  });

  it('answers 415 for a missing or unsupported Content-Type', () => {
    expect(refused(() => parseScoringRequest(undefined, Buffer.from('{}'))).status).toBe(415);
    const plain = refused(() => parseScoringRequest('text/plain', Buffer.from('{}')));
    expect(plain.status).toBe(415);
    expect(plain.message).toBe(
      "This predictor only supports the following content types: Types: ['text/csv', 'application/json']. Got 'text/plain'.",
    );
    expect(refused(() => parseScoringRequest('application/json; charset=latin-1', Buffer.from('{}'))).status).toBe(415);
  });
});

describe('answer shapes', () => {
  it('answers 1.x requests with a bare list and 2.x requests with predictions', () => {
    expect(responseBody(answerProtocol('1.x', '2.17.2'), [0])).toEqual([0]);
    expect(responseBody(answerProtocol('2.x', '1.30.0'), [0])).toEqual({ predictions: [0] });
  });

  it("answers requests valid in both protocols the way the model's MLflow version did", () => {
    expect(answerProtocol('either', '1.30.0')).toBe('1.x');
    expect(answerProtocol('either', '2.17.2')).toBe('2.x');
    expect(answerProtocol('either', undefined)).toBe('2.x');
  });
});
