import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { permissionLevel } from '../../core/auth/identifiers';
import { hashTokenSecret, newTokenSecret, tokenIdOf } from '../../core/auth/secrets';
import {
  aliasName,
  description,
  modelName,
  principalName,
  servingBatching,
  stageList,
  stageName,
  tag,
  tagKey,
  tokenId,
  versionNumber,
  workersPerVersion,
} from '../../core/registry/identifiers';
import { canonicalStage } from '../../core/registry/model';
import {
  isModelName,
  modelNameProblem,
  parseVersion,
  stageProblem,
  validateAlias,
  validateModelName,
  validateTag,
  validateTagKey,
} from '../../core/registry/validation';
import type { MlflowError } from '../../core/shared/errors';
import { DEFAULT_MAX_JSON_DEPTH, tooDeepMessage } from '../../core/shared/json-limits';
import { requestParams } from '../../lambdas/shared/http';

describe('model names', () => {
  it('accepts names MLflow users give, spaces and dots included', () => {
    for (const name of ['iris-classifier', 'My Model v2', 'a.b_c', 'модель'])
      expect(() => validateModelName(name)).not.toThrow();
  });

  it.each([
    ['', /Missing value/],
    ['a/b', /may not contain/],
    ['..', /may not contain/],
    [' padded', /start or end with spaces/],
    ['x'.repeat(257), /limit is 256/],
  ])('refuses %j', (name, message) => {
    expect(() => validateModelName(name)).toThrow(message);
  });
});

describe('tags', () => {
  it.each(['team', 'mlflow.source.name', 'a b', 'ns:key', 'path/like'])('accepts key %j', (key) => {
    expect(() => validateTagKey(key)).not.toThrow();
  });

  it.each(['', '../up', '/abs', 'a//b', 'a/./b', 'star*', 'trailing/'])('refuses key %j', (key) => {
    expect(() => validateTagKey(key)).toThrow();
  });

  it('limits keys to 250 and values to 5000 characters', () => {
    expect(() => validateTag('k'.repeat(250), 'v'.repeat(5000))).not.toThrow();
    expect(() => validateTag('k'.repeat(251), 'v')).toThrow(/limit is 250/);
    expect(() => validateTag('k', 'v'.repeat(5001))).toThrow(/limit is 5000/);
  });
});

describe('aliases', () => {
  it.each(['champion', 'blue-green', 'v1x', 'A_1'])('accepts %j', (alias) => {
    expect(() => validateAlias(alias)).not.toThrow();
  });

  it.each([
    ['', /cannot be empty/],
    ['latest', /reserved/],
    ['LATEST', /reserved/],
    ['v12', /Version alias name 'v12' is reserved/],
    ['with space', /Invalid alias name/],
    ['a'.repeat(256), /limit is 255/],
  ])('refuses %j', (alias, message) => {
    expect(() => validateAlias(alias)).toThrow(message);
  });
});

describe('versions and stages', () => {
  it('parses versions given as strings or numbers', () => {
    expect(parseVersion('3')).toBe(3);
    expect(parseVersion(4)).toBe(4);
    for (const bad of ['0', '-1', '1.5', 'two', '', '99999999999999999999']) expect(() => parseVersion(bad)).toThrow();
  });

  it('reads stages in any case and gives the canonical spelling', () => {
    expect(canonicalStage('production')).toBe('Production');
    expect(canonicalStage('STAGING')).toBe('Staging');
    expect(canonicalStage('none')).toBe('None');
    expect(canonicalStage('prod')).toBeUndefined();
  });
});

describe('the identifiers every API takes', () => {
  const problem = (schema: z.ZodType, value: unknown) => schema.safeParse(value).error?.issues[0]?.message;

  it('refuses in every model name field what create refuses, naming the field and the limit', () => {
    expect(problem(modelName('registered_model_name'), 'x'.repeat(2100))).toMatch(
      /parameter 'registered_model_name'\) is 2100 characters long; the limit is 256/,
    );
    expect(problem(modelName('new_name'), 'x'.repeat(300))).toMatch(/'new_name'.*limit is 256/);
    expect(problem(modelName(), 'fz-\udc00x')).toMatch(/not well-formed Unicode/);
    expect(problem(modelName(), 'fz-\u0001x')).toMatch(/may not contain '\/', '\\' or control characters/);
    expect(problem(modelName(), 'a/b')).toBe(modelNameProblem('a/b'));
  });

  it('accepts a name at the limit in three-byte characters (768 UTF-8 bytes)', () => {
    expect(modelName().parse('€'.repeat(256))).toBe('€'.repeat(256));
    expect(isModelName('€'.repeat(257))).toBe(false);
  });

  it('checks aliases, tag keys and values, and descriptions with the registry rules', () => {
    expect(problem(aliasName(), 'latest')).toMatch(/reserved/);
    expect(problem(aliasName(), 'a'.repeat(2100))).toMatch(/limit is 255/);
    expect(problem(tagKey(), '../k')).toMatch(/Invalid tag name: '\.\.\/k'/);
    expect(problem(tagKey(), 'k'.repeat(300))).toMatch(/limit is 250/);
    expect(problem(tag(), { key: 'team', value: 'v'.repeat(5001) })).toMatch(/for key 'team' .*limit is 5000/);
    expect(problem(description(), 'd'.repeat(5001))).toMatch(/limit is 5000/);
    expect(description().parse('line one\nline two')).toBe('line one\nline two');
  });

  it('parses versions to numbers and refuses what is not a positive integer', () => {
    expect(versionNumber().parse('3')).toBe(3);
    expect(versionNumber('endpoint_version_name').parse(4)).toBe(4);
    expect(problem(versionNumber('endpoint_version_name'), '1'.repeat(2100))).toMatch(
      /Parameter 'endpoint_version_name' must be a positive integer, got '1{40}…'/,
    );
  });

  it('reads one stage or a list, in any case, and names a bad one as MLflow does', () => {
    expect(stageList().parse('production')).toEqual(['production']);
    expect(stageList().parse(['Staging', 'None'])).toEqual(['Staging', 'None']);
    expect(problem(stageList(), ['Prod'])).toMatch(/^Invalid Model Version stage: Prod\. Value must be one of/);
    expect(problem(stageName(), 'Live')).toBe(stageProblem('Live'));
  });

  it('checks principals, token ids and permission levels', () => {
    expect(principalName().parse('alice@example.com')).toBe('alice@example.com');
    expect(problem(principalName(), 'p'.repeat(129))).toMatch(/limit is 128/);
    expect(problem(principalName(), 'a b')).toMatch(/Invalid principal 'a b'/);
    expect(tokenId().parse(tokenIdOf(hashTokenSecret(newTokenSecret())))).toMatch(/^[0-9a-f]{16}$/);
    expect(problem(tokenId(), 'x'.repeat(2100))).toMatch(/16 hexadecimal digits/);
    expect(permissionLevel().parse('CAN_READ')).toBe('CAN_READ');
    expect(problem(permissionLevel(), 'CAN_FLY')).toMatch(/Invalid permission level 'CAN_FLY'/);
  });
});

describe('batching and worker settings', () => {
  const problem = (schema: z.ZodType, value: unknown) => schema.safeParse(value).error?.issues[0]?.message;

  it('parses a partial batching object to the registry change, keeping nulls (back to the default)', () => {
    expect(servingBatching().parse({ enabled: true, max_batch_rows: 64 })).toEqual({ enabled: true, maxBatchRows: 64 });
    expect(servingBatching().parse({ max_wait_ms: 0, enabled: null })).toEqual({ maxWaitMs: 0, enabled: null });
    expect(servingBatching().parse(null)).toBeNull();
    expect(servingBatching().parse(undefined)).toBeUndefined();
  });

  it.each([
    [{ max_batch_rows: 0 }, "'batching.max_batch_rows': use a whole number of rows from 1 to 10000"],
    [{ max_batch_rows: 10_001 }, 'from 1 to 10000'],
    [{ max_batch_rows: 2.5 }, "Invalid value 2.5 for parameter 'batching.max_batch_rows'"],
    [{ max_batch_rows: '64' }, 'Invalid value "64"'],
    [{ max_wait_ms: 101 }, "'batching.max_wait_ms': use a whole number of milliseconds from 0 to 100"],
    [{ max_wait_ms: -1 }, 'from 0 to 100'],
    [{ enabled: 'yes' }, "'batching.enabled': use true or false, or null for the host's default"],
    [
      { max_batch_size: 8 },
      "Unknown field 'max_batch_size' in parameter 'batching': use enabled, max_batch_rows, max_wait_ms",
    ],
    [[1], "Invalid value [1] for parameter 'batching': use an object"],
    [true, "Invalid value true for parameter 'batching'"],
  ])('refuses batching %j, naming the field and its range', (value, message) => {
    expect(problem(servingBatching(), value)).toContain(message);
  });

  it('takes 1 to 16 workers per version, or null for automatic', () => {
    expect(workersPerVersion().parse(1)).toBe(1);
    expect(workersPerVersion().parse(16)).toBe(16);
    expect(workersPerVersion().parse(null)).toBeNull();
    for (const bad of [0, 17, 1.5, '4', true]) {
      expect(problem(workersPerVersion(), bad)).toMatch(
        /^Invalid value .* for parameter 'workers_per_version': use a whole number of workers from 1 to 16, or null for automatic/,
      );
    }
  });
});

describe('request parameters', () => {
  const event = (httpMethod: string, body: string | null, query?: Record<string, string>) =>
    ({
      httpMethod,
      body,
      isBase64Encoded: false,
      queryStringParameters: query ?? null,
      multiValueQueryStringParameters: null,
    }) as unknown as APIGatewayProxyEvent;
  const refusal = (e: APIGatewayProxyEvent) => {
    try {
      requestParams(e);
    } catch (error) {
      return (error as MlflowError).toJSON();
    }
    return undefined;
  };

  it('refuses a body nested past the limit before parsing it', () => {
    const deep = `{"name": ${'['.repeat(DEFAULT_MAX_JSON_DEPTH)}${']'.repeat(DEFAULT_MAX_JSON_DEPTH)}}`;
    expect(refusal(event('POST', deep))).toEqual({
      error_code: 'BAD_REQUEST',
      message: tooDeepMessage(DEFAULT_MAX_JSON_DEPTH),
    });
    const deepest = `{"a": ${'['.repeat(DEFAULT_MAX_JSON_DEPTH - 1)}${']'.repeat(DEFAULT_MAX_JSON_DEPTH - 1)}}`;
    expect(refusal(event('POST', deepest))).toBeUndefined();
  });

  it('refuses a lone surrogate in any string of a body, naming the parameter', () => {
    expect(refusal(event('POST', '{"name": "fz-\\udc00x"}'))?.message).toMatch(/^Parameter 'name' is not well-formed/);
    expect(refusal(event('POST', '{"name": "m", "tags": [{"key": "k", "value": "\\ud800"}]}'))).toMatchObject({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: expect.stringMatching(/^Parameter 'tags'/),
    });
    expect(refusal(event('DELETE', null, { name: 'fz-\udc00x' }))?.message).toMatch(/Parameter 'name'/);
    expect(refusal(event('POST', '{"name": "fz-\\ud83d\\ude00x"}'))).toBeUndefined();
  });
});
