import { describe, expect, it } from 'vitest';
import { ScoringError } from '../../container/src/errors';
import { parseScoringRequest } from '../../container/src/scoring/parse';
import { allStringsWellFormed, DEFAULT_MAX_JSON_DEPTH, jsonDepth, jsonTooDeep } from '../../core/shared/json-limits';

const nested = (depth: number, leaf = '1') => `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}`;
const bytes = (text: string) => Buffer.from(text, 'utf8');

describe('jsonDepth', () => {
  it('counts arrays and objects, not brackets inside strings', () => {
    expect(jsonDepth(bytes('1'))).toBe(0);
    expect(jsonDepth(bytes('{"a": [1, {"b": []}]}'))).toBe(4);
    expect(jsonDepth(bytes('["[[[[", "{{{{"]'))).toBe(1);
    expect(jsonDepth(bytes('["a\\"[[[", "\\\\", [2]]'))).toBe(2);
  });

  it('stops as soon as the limit is passed', () => {
    expect(jsonDepth(bytes(nested(100_000)), 64)).toBe(65);
  });

  it('reads invalid JSON without failing (the parser reports it afterwards)', () => {
    expect(jsonDepth(bytes('[[[[{"unterminated'))).toBe(5);
    expect(jsonDepth(bytes(']]]]'))).toBe(0);
  });

  it('answers whether a text is too deep, from a string or bytes', () => {
    expect(jsonTooDeep(nested(64), 64)).toBe(false);
    expect(jsonTooDeep(bytes(nested(65)), 64)).toBe(true);
  });
});

describe('allStringsWellFormed', () => {
  it('finds a lone surrogate in any string or key, at any depth', () => {
    expect(allStringsWellFormed(JSON.parse('{"a": ["ok", {"b": "fine 😀"}]}'))).toBe(true);
    expect(allStringsWellFormed(JSON.parse('{"a": ["ok", {"b": "fz-\\udc00x"}]}'))).toBe(false);
    expect(allStringsWellFormed(JSON.parse('{"\\ud800": 1}'))).toBe(false);
  });
});

describe('scoring requests nested too deep', () => {
  const refused = (body: string, contentType = 'application/json') => {
    try {
      parseScoringRequest(contentType, bytes(body));
    } catch (error) {
      return error as ScoringError;
    }
    throw new Error('the request was accepted');
  };

  it('are refused with 400 BAD_REQUEST naming the limit, before decoding, in every JSON format', () => {
    for (const body of [
      `{"inputs": ${nested(DEFAULT_MAX_JSON_DEPTH)}}`,
      `{"dataframe_split": {"columns": ["a"], "data": ${nested(1000)}}}`,
      `{"instances": ${nested(100_000)}}`,
      nested(10_000),
    ]) {
      const error = refused(body);
      expect(error).toBeInstanceOf(ScoringError);
      expect(error.status).toBe(400);
      expect(error.errorCode).toBe('BAD_REQUEST');
      expect(error.message).toContain(`deeper than ${DEFAULT_MAX_JSON_DEPTH} levels`);
    }
    expect(refused(nested(100), 'application/json; format=pandas-split').status).toBe(400);
    expect(refused(`{"data": ${nested(100)}}`, 'application/json-numpy-split').status).toBe(400);
  });

  it('are refused also when the body is a JSON string holding the deep JSON', () => {
    expect(refused(JSON.stringify(`{"inputs": ${nested(200)}}`)).message).toContain('deeper than');
  });

  it('at the limit are accepted', () => {
    const request = parseScoringRequest('application/json', bytes(`{"inputs": ${nested(DEFAULT_MAX_JSON_DEPTH - 1)}}`));
    expect(request.input.kind).toBe('tensor');
  });

  it('follow a configured limit', () => {
    expect(() => parseScoringRequest('application/json', bytes(`{"inputs": ${nested(5)}}`), { maxDepth: 4 })).toThrow(
      /deeper than 4 levels/,
    );
  });
});
