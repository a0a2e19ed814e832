import { describe, expect, it } from 'vitest';
import { canonicalStage } from '../../core/registry/model';
import {
  parseVersion,
  validateAlias,
  validateModelName,
  validateTag,
  validateTagKey,
} from '../../core/registry/validation';

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
