import { describe, expect, it } from 'vitest';
import {
  decodePageToken,
  encodePageToken,
  type FilterSpec,
  likeToRegExp,
  matches,
  parseFilter,
  parseOrderBy,
} from '../../core/registry/search';
import { MlflowError } from '../../core/shared/errors';

const SPEC: FilterSpec = {
  attributes: { name: ['=', '!=', 'LIKE', 'ILIKE'], run_id: ['=', 'IN'], version_number: ['=', '>', '<='] },
  numeric: ['version_number'],
  tagComparators: ['=', '!=', 'LIKE', 'ILIKE'],
};

describe('parseFilter', () => {
  it('parses AND-ed clauses with single and double quotes', () => {
    expect(parseFilter(`name = 'iris' and tags.team != "a b"`, SPEC)).toEqual([
      { type: 'attribute', key: 'name', comparator: '=', value: 'iris' },
      { type: 'tag', key: 'team', comparator: '!=', value: 'a b' },
    ]);
  });

  it('reads backticked tag keys, lower-case comparators and escaped quotes', () => {
    expect(parseFilter("tags.`my key` ilike 'it''s%'", SPEC)).toEqual([
      { type: 'tag', key: 'my key', comparator: 'ILIKE', value: "it's%" },
    ]);
  });

  it('parses IN lists and numbers', () => {
    expect(parseFilter("run_id IN ('a', 'b') AND version_number > 2", SPEC)).toEqual([
      { type: 'attribute', key: 'run_id', comparator: 'IN', value: ['a', 'b'] },
      { type: 'attribute', key: 'version_number', comparator: '>', value: 2 },
    ]);
  });

  it('treats an empty filter as no clauses', () => {
    expect(parseFilter('   ', SPEC)).toEqual([]);
    expect(parseFilter(undefined, SPEC)).toEqual([]);
  });

  it.each([
    ["name = 'a' OR name = 'b'", /joined with AND/],
    ['name = iris', /must be a quoted string/],
    ["name > 'a'", /comparator '>' is not supported for 'name'/],
    ["owner = 'x'", /invalid attribute key 'owner'/],
    ["name = 'unterminated", /unterminated string/],
    ["name = 'a' AND", /dangling AND/],
    ["run_id IN 'a'", /expected '\(' after IN/],
    ["tags. = 'x'", /tag key is empty/],
  ])('rejects %s', (filter, message) => {
    expect(() => parseFilter(filter, SPEC)).toThrow(message);
    try {
      parseFilter(filter, SPEC);
    } catch (error) {
      expect((error as MlflowError).errorCode).toBe('INVALID_PARAMETER_VALUE');
    }
  });
});

describe('matching', () => {
  it('implements SQL LIKE wildcards, case-sensitive, with regex characters taken literally', () => {
    expect(likeToRegExp('iris%', false).test('iris-classifier')).toBe(true);
    expect(likeToRegExp('iris%', false).test('Iris-classifier')).toBe(false);
    expect(likeToRegExp('iris%', true).test('Iris-classifier')).toBe(true);
    expect(likeToRegExp('a_c', false).test('abc')).toBe(true);
    expect(likeToRegExp('a_c', false).test('abbc')).toBe(false);
    expect(likeToRegExp('a.c', false).test('abc')).toBe(false);
    expect(likeToRegExp('(x)+', false).test('(x)+')).toBe(true);
  });

  it('does not match a tag clause against a model without that tag', () => {
    const [clause] = parseFilter("tags.team != 'a'", SPEC);
    expect(clause && matches(clause, undefined)).toBe(false);
    expect(clause && matches(clause, 'b')).toBe(true);
  });
});

describe('order_by and page tokens', () => {
  it('parses keys with directions and maps synonyms', () => {
    expect(parseOrderBy(['name DESC', 'timestamp'], { name: 'name', timestamp: 'last_updated_timestamp' })).toEqual([
      { key: 'name', ascending: false },
      { key: 'last_updated_timestamp', ascending: true },
    ]);
  });

  it('rejects unknown keys', () => {
    expect(() => parseOrderBy(['size'], { name: 'name' })).toThrow(MlflowError);
  });

  it("writes tokens as MLflow's SQL store does and reads them back", () => {
    expect(encodePageToken(100)).toBe('eyJvZmZzZXQiOiAxMDB9');
    expect(decodePageToken(encodePageToken(7))).toBe(7);
    expect(decodePageToken(undefined)).toBe(0);
    expect(() => decodePageToken('bm90IGpzb24=')).toThrow(/Invalid page token/);
    expect(() => decodePageToken(Buffer.from('{"offset": -1}').toString('base64'))).toThrow(/Invalid page token/);
  });
});
