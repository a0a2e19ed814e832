import { randomUUID } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ArchiveHook,
  archiveKey,
  currentPlatform,
  EnvironmentStore,
  type EnvironmentStoreOptions,
  parseArchiveLocation,
  withArchive,
} from '../../container/src/runtimes/env-archive';
import { pythonFor } from '../../container/src/runtimes/python-env';
import { documentClient } from '../../core/table/dynamo';
import { ensureRegistryTable, type LocalDynamo, startLocalDynamo } from '../../twin/local-dynamodb';
import { type LocalS3, startLocalS3 } from '../helpers/local-s3';

let s3: LocalS3;
let s3Client: S3Client;
let dynamo: LocalDynamo;
let dynamoClient: DynamoDBClient;
let tableName: string;
let dir: string;

beforeAll(async () => {
  [s3, dynamo] = await Promise.all([startLocalS3('env-bucket'), startLocalDynamo()]);
  s3Client = s3.client();
  tableName = `registry-${randomUUID()}`;
  await ensureRegistryTable(dynamo.clientConfig, tableName);
  dynamoClient = new DynamoDBClient(dynamo.clientConfig);
  dir = await mkdtemp(path.join(tmpdir(), 'mlserve-envs-'));
});

afterAll(async () => {
  s3Client?.destroy();
  dynamoClient?.destroy();
  await s3?.close();
  await dynamo?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The settings of a store on the local servers, with a clock the test can move. */
const storeOptions = (clock: { now: number }): EnvironmentStoreOptions => ({
  s3: s3Client,
  location: parseArchiveLocation('s3://env-bucket/environments'),
  table: documentClient(dynamoClient),
  tableName,
  release: 'r1',
  now: () => clock.now,
});

const store = (clock = { now: Date.now() }) => new EnvironmentStore(storeOptions(clock));

/** A small stand-in for a virtualenv: a bin/python link, a script, nested files, an empty folder. */
async function fakeEnvironment(envDir: string): Promise<void> {
  await mkdir(path.join(envDir, 'bin'), { recursive: true });
  await mkdir(path.join(envDir, 'lib', 'python3.11', 'site-packages', 'pkg'), { recursive: true });
  await mkdir(path.join(envDir, 'include'));
  await symlink('/usr/bin/python3', path.join(envDir, 'bin', 'python'));
  await symlink('python', path.join(envDir, 'bin', 'python3'));
  await writeFile(path.join(envDir, 'bin', 'pip'), `#!${envDir}/bin/python\nprint("pip")\n`);
  await chmod(path.join(envDir, 'bin', 'pip'), 0o755);
  await writeFile(path.join(envDir, 'pyvenv.cfg'), 'home = /usr/bin\nversion = 3.11.2\n');
  await writeFile(path.join(envDir, 'lib', 'python3.11', 'site-packages', 'pkg', '__init__.py'), 'x = 1\n'.repeat(500));
}

/** Every entry under `root`: its kind, mode, and content or link target. */
async function snapshot(root: string): Promise<Record<string, string>> {
  const entries: Record<string, string> = {};
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    const info = await lstat(full);
    const rel = path.relative(root, full);
    const mode = (info.mode & 0o777).toString(8);
    if (info.isSymbolicLink()) entries[rel] = `link -> ${await readlink(full)}`;
    else if (info.isDirectory()) entries[rel] = `dir ${mode}`;
    else entries[rel] = `file ${mode} ${(await readFile(full)).toString('base64')}`;
  }
  return entries;
}

const fresh = () => path.join(dir, randomUUID());

async function objectBytes(key: string): Promise<{ bytes: Buffer; sha256?: string }> {
  const out = await s3Client.send(new GetObjectCommand({ Bucket: 'env-bucket', Key: key }));
  return {
    bytes: Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()),
    sha256: out.Metadata?.sha256,
  };
}

async function objectExists(key: string): Promise<boolean> {
  try {
    await s3Client.send(new HeadObjectCommand({ Bucket: 'env-bucket', Key: key }));
    return true;
  } catch (error) {
    if ((error as { name?: string }).name === 'NotFound') return false;
    throw error;
  }
}

/** A fake environment saved to the archive under a new key. */
async function savedArchive() {
  const environments = store();
  const built = fresh();
  await fakeEnvironment(built);
  const key = randomUUID().replace(/-/g, '');
  await environments.save(key, built);
  return { environments, key, objectKey: environments.objectKey(key) };
}

describe('EnvironmentStore', () => {
  it('restores a saved environment into an empty folder with identical files, modes and symlinks', async () => {
    const environments = store();
    const built = fresh();
    await fakeEnvironment(built);
    const key = randomUUID().replace(/-/g, '');

    const saved = await environments.save(key, built);
    const target = fresh();
    const result = await environments.restore(key, target);

    expect(result).toMatchObject({ restored: true, bytes: saved.bytes });
    expect(await snapshot(target)).toEqual(await snapshot(built));
    expect((await lstat(path.join(target, 'bin', 'python'))).isSymbolicLink()).toBe(true);
    expect((await readdir(dir)).filter((name) => name.includes('.restore-') || name.includes('.archive-'))).toEqual([]);
  });

  it('reports an environment never saved as absent', async () => {
    const target = fresh();
    expect(await store().restore('0'.repeat(64), target)).toEqual({ restored: false, reason: 'absent' });
    await expect(lstat(target)).rejects.toThrow();
  });

  it('detects a truncated archive, deletes it and leaves no folder behind', async () => {
    const { environments, key, objectKey } = await savedArchive();
    const { bytes, sha256 } = await objectBytes(objectKey);
    await s3Client.send(
      new PutObjectCommand({
        Bucket: 'env-bucket',
        Key: objectKey,
        Body: bytes.subarray(0, Math.floor(bytes.length / 2)),
        Metadata: { sha256: sha256 as string },
      }),
    );

    const target = fresh();
    const result = await environments.restore(key, target);

    expect(result).toMatchObject({ restored: false, reason: 'corrupt' });
    expect(await objectExists(objectKey)).toBe(false);
    await expect(lstat(target)).rejects.toThrow();
    expect((await readdir(dir)).filter((name) => name.includes('.restore-'))).toEqual([]);
  });

  it('detects an archive whose bytes do not match its recorded sha256, and deletes it', async () => {
    const { environments, key, objectKey } = await savedArchive();
    const { bytes } = await objectBytes(objectKey);
    await s3Client.send(
      new PutObjectCommand({ Bucket: 'env-bucket', Key: objectKey, Body: bytes, Metadata: { sha256: 'f'.repeat(64) } }),
    );

    const result = await environments.restore(key, fresh());

    expect(result).toMatchObject({ restored: false, reason: 'corrupt' });
    expect(await objectExists(objectKey)).toBe(false);
  });

  it('gives a claim to exactly one of two hosts asking at once', async () => {
    const environments = store();
    const key = randomUUID();
    const results = await Promise.all([
      environments.claim(key, 'host-a', 60_000),
      environments.claim(key, 'host-b', 60_000),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('lets another host take over a claim that expired, and not before', async () => {
    const clock = { now: 1_000_000 };
    const environments = store(clock);
    const key = randomUUID();
    expect(await environments.claim(key, 'host-a', 1000)).toBe(true);

    clock.now += 999;
    expect(await environments.claim(key, 'host-b', 1000)).toBe(false);
    expect(await environments.claim(key, 'host-a', 1000)).toBe(true); // renewed until +1999
    clock.now += 999;
    expect(await environments.claim(key, 'host-b', 1000)).toBe(false);
    clock.now += 2;
    expect(await environments.claim(key, 'host-b', 1000)).toBe(true);
    expect(await environments.claim(key, 'host-a', 1000)).toBe(false);
  });

  it('frees a released claim for the next host', async () => {
    const environments = store();
    const key = randomUUID();
    await environments.claim(key, 'host-a', 60_000);
    await environments.release(key, 'host-b'); // not hers: stays
    expect(await environments.claim(key, 'host-b', 60_000)).toBe(false);
    await environments.release(key, 'host-a');
    expect(await environments.claim(key, 'host-b', 60_000)).toBe(true);
  });
});

describe('archiveKey', () => {
  const parts = {
    requirements: 'scikit-learn==1.5.2\n',
    python: '3.11.2',
    platform: 'linux-x64',
    imageRelease: 'r1',
    location: '/tmp/mlserve/envs/abc',
  };

  it('is a sha256 hex digest, the same for the same parts', () => {
    expect(archiveKey(parts)).toMatch(/^[0-9a-f]{64}$/);
    expect(archiveKey({ ...parts })).toBe(archiveKey(parts));
  });

  it.each(Object.keys(parts) as (keyof typeof parts)[])('changes when %s changes', (part) => {
    expect(archiveKey({ ...parts, [part]: `${parts[part]}x` })).not.toBe(archiveKey(parts));
  });

  it('does not confuse one part running into the next', () => {
    expect(archiveKey({ ...parts, requirements: 'a', python: 'b3.11' })).not.toBe(
      archiveKey({ ...parts, requirements: 'ab', python: '3.11' }),
    );
  });
});

describe('withArchive', () => {
  const hook = (environments: EnvironmentStore, owner: string, logs: string[]): ArchiveHook => ({
    store: environments,
    owner,
    log: (message) => logs.push(message),
    pollMs: 20,
  });

  it('builds an environment once: a host needing it later restores it instead', async () => {
    const environments = store();
    const logsA: string[] = [];
    const logsB: string[] = [];
    const a = hook(environments, 'host-a', logsA);
    const b = hook(environments, 'host-b', logsB);
    const spec = { requirements: 'pandas\n', python: '3.11' };
    const envDir = fresh(); // the same path on both hosts: a virtualenv is tied to it
    let builds = 0;

    const first = await withArchive(a, spec, envDir, async () => {
      builds++;
      await fakeEnvironment(envDir);
    });
    const built = await snapshot(envDir);
    const second = await withArchive(b, spec, envDir, async () => {
      builds++;
    });

    expect(builds).toBe(1);
    expect(first).toEqual({ from: 'build', seconds: expect.any(Number) });
    expect(second).toEqual({ from: 'archive', seconds: expect.any(Number) });
    expect(logsA).toEqual(['environment built', 'environment saved']);
    expect(logsB).toEqual(['environment restored']);
    expect(await snapshot(envDir)).toEqual(built);
  });

  it('makes a host that lost the claim wait for the archive and restore it', async () => {
    const logs: string[] = [];
    let claimLost = () => {};
    const lost = new Promise<void>((resolve) => {
      claimLost = resolve;
    });
    /** Host B's store: says when B's claim was refused. */
    class WatchedStore extends EnvironmentStore {
      override async claim(key: string, owner: string, ttlMs: number): Promise<boolean> {
        const won = await super.claim(key, owner, ttlMs);
        if (!won) claimLost();
        return won;
      }
    }
    const a = hook(store(), 'host-a', logs);
    const b = hook(new WatchedStore(storeOptions({ now: Date.now() })), 'host-b', logs);
    const spec = { requirements: 'numpy\n', python: '3.12' };
    const envDir = fresh();
    let builds = 0;
    let finishBuild = () => {};
    const mayFinish = new Promise<void>((resolve) => {
      finishBuild = resolve;
    });
    let buildStarted = () => {};
    const started = new Promise<void>((resolve) => {
      buildStarted = resolve;
    });
    const building = withArchive(a, spec, envDir, async () => {
      builds++;
      buildStarted();
      await mayFinish;
      await fakeEnvironment(envDir);
    });
    await started;

    const waiting = withArchive(b, spec, envDir, async () => {
      builds++;
    });
    await lost;
    finishBuild();
    await Promise.all([building, waiting]);

    expect(builds).toBe(1);
    expect([...logs].sort()).toEqual(['environment built', 'environment restored', 'environment saved']);
    expect((await lstat(path.join(envDir, 'bin', 'python'))).isSymbolicLink()).toBe(true);
  });

  it('builds when the claim holder stopped renewing it', async () => {
    const clock = { now: Date.now() };
    const environments = store(clock);
    const logs: string[] = [];
    const b = hook(environments, 'host-b', logs);
    const spec = { requirements: 'torch\n', python: '3.11' };
    const envDir = fresh();
    const key = archiveKey({
      ...spec,
      platform: currentPlatform(),
      imageRelease: environments.mlserveRelease,
      location: envDir,
    });
    await environments.claim(key, 'host-dead', 1000);
    clock.now += 1001;

    await withArchive(b, spec, envDir, () => fakeEnvironment(envDir));

    expect(logs).toEqual(['environment built', 'environment saved']);
    expect(await objectExists(environments.objectKey(key))).toBe(true);
  });
});

describe('pythonFor with an environment archive', () => {
  it('restores on a new task what an earlier task built, without running uv again', async () => {
    const modelDir = fresh();
    await mkdir(modelDir);
    await writeFile(path.join(modelDir, 'requirements.txt'), 'scikit-learn==1.5.2\n');
    const uv = path.join(dir, `uv-${randomUUID()}`);
    const uvLog = `${uv}.log`;
    await writeFile(
      uv,
      `#!/bin/sh\necho "$@" >> '${uvLog}'\nif [ "$1" = venv ]; then mkdir -p "$2/bin" && ln -s /usr/bin/python3 "$2/bin/python"; fi\n`,
    );
    await chmod(uv, 0o755);
    const logs: string[] = [];
    const options = {
      mode: 'per-version' as const,
      python: '/usr/bin/python3',
      cacheDir: path.join(dir, `envs-${randomUUID()}`),
      uv,
      installer: 'uv' as const,
      pythonDownloads: false,
      systemPackages: false,
      index: { noIndex: false },
      allowDefaultsChannel: false,
      archive: { store: store(), owner: 'task-1', log: (m: string) => logs.push(m) },
    };

    const { python } = await pythonFor(modelDir, options);
    await rm(options.cacheDir, { recursive: true }); // a new task starts with an empty disk
    const { python: again } = await pythonFor(modelDir, {
      ...options,
      archive: { ...options.archive, owner: 'task-2' },
    });

    expect(again).toBe(python);
    expect((await lstat(python)).isSymbolicLink()).toBe(true);
    expect((await readFile(uvLog, 'utf8')).trim().split('\n')).toHaveLength(2);
    expect(logs).toEqual(['environment built', 'environment saved', 'environment restored']);
  });
});
