import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSourceRoots, SourcePolicy } from '../../core/registry/sources';

let base: string;
let root: string;
let policy: SourcePolicy;

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'mlserve-sources-'));
  root = path.join(base, 'root');
  await mkdir(path.join(root, 'models', 'iris'), { recursive: true });
  await mkdir(path.join(base, 'elsewhere'), { recursive: true });
  await symlink(path.join(base, 'elsewhere'), path.join(root, 'escape'));
  await symlink(path.join(root, 'models'), path.join(root, 'inner-link'));
  policy = new SourcePolicy(parseSourceRoots(`${pathToFileURL(root).href}, s3://ml-bucket/models`));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('source roots', () => {
  it('parses file and s3 roots', () => {
    expect(parseSourceRoots('file:///srv/a,s3://bucket,s3://bucket/p/q/')).toEqual([
      { kind: 'file', dir: '/srv/a' },
      { kind: 's3', bucket: 'bucket', prefix: '' },
      { kind: 's3', bucket: 'bucket', prefix: 'p/q' },
    ]);
  });

  it.each(['http://x/y', 'relative/dir', 's3://B/x', 'file:///a/../b'])('refuses the root %j', (root) => {
    expect(() => parseSourceRoots(root)).toThrow();
  });
});

describe('sources', () => {
  it('accepts file:// URIs and absolute paths inside a root', async () => {
    const dir = path.join(root, 'models', 'iris');
    expect(await policy.resolve(pathToFileURL(dir).href)).toEqual({ kind: 'file', dir });
    expect(await policy.resolve(dir)).toEqual({ kind: 'file', dir });
  });

  it('accepts a source that does not exist yet (the registration check reports it)', async () => {
    const dir = path.join(root, 'models', 'later');
    expect(await policy.resolve(pathToFileURL(dir).href)).toEqual({ kind: 'file', dir });
  });

  it('follows links that stay inside the root', async () => {
    expect(await policy.resolve(pathToFileURL(path.join(root, 'inner-link', 'iris')).href)).toEqual({
      kind: 'file',
      dir: path.join(root, 'models', 'iris'),
    });
  });

  it('accepts s3 keys under an allowed prefix only', async () => {
    expect(await policy.resolve('s3://ml-bucket/models/iris')).toEqual({
      kind: 's3',
      bucket: 'ml-bucket',
      prefix: 'models/iris',
    });
    await expect(policy.resolve('s3://ml-bucket/modelsX/iris')).rejects.toThrow(/outside every allowed/);
    await expect(policy.resolve('s3://other-bucket/models/iris')).rejects.toThrow(/outside every allowed/);
  });

  it.each([
    ['a .. segment', () => `${pathToFileURL(root).href}/models/../../elsewhere`],
    ['an encoded .. segment', () => `${pathToFileURL(root).href}/models/%2E%2E/%2E%2E/elsewhere`],
    ['a symlink out of the root', () => pathToFileURL(path.join(root, 'escape')).href],
    ['the root itself', () => pathToFileURL(root).href],
    ['a sibling with the root as prefix', () => `${pathToFileURL(root).href}-other/model`],
    ['an s3 .. segment', () => 's3://ml-bucket/models/../secrets'],
    ['a remote file host', () => 'file://evil.example/share/model'],
    ['a relative path', () => 'models/iris'],
    ['another scheme', () => 'hdfs://nn/models/iris'],
  ])('refuses %s', async (_, source) => {
    await expect(policy.resolve(source())).rejects.toThrow(/Invalid model version source/);
  });
});
