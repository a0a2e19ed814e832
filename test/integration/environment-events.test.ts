/**
 * A version's environment through the real model host: built with pip from a local wheel
 * directory and shared through the environment archive (s3rver, the claim in dynalite), each
 * step recorded in the version's serving events; a second host restores it without installing.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServingEvent } from '../../core/registry/model';
import { eventually } from '../helpers/eventually';
import { type LocalS3, startLocalS3 } from '../helpers/local-s3';
import { type RunningHost, score, startModelHost } from '../helpers/model-host';
import { buildProbeWheels, type ProbeWheels, pipEnvironmentSettings, writeProbeModel } from '../helpers/probe-wheels';
import { type RegistryEnv, startRegistryEnv } from '../helpers/registry-env';

const MODEL = 'probe';

let env: RegistryEnv;
let s3: LocalS3;
let s3Endpoint: string;
let dir: string;
let probe: ProbeWheels;
/** Where every host keeps its environments: a virtualenv is archived under the path it lives at. */
let envCache: string;
const hosts: RunningHost[] = [];
const versions: Record<string, number> = {};

/** Registers a version whose pickle is a mlserve_probe.VersionModel and whose requirements are `requirement`. */
async function registerProbe(requirement: string): Promise<number> {
  const modelDir = path.join(env.artifacts.dir, `probe-${Math.random().toString(36).slice(2)}`);
  await writeProbeModel(modelDir, probe, [requirement]);
  const created = await env.registry.createModelVersion({ name: MODEL, source: pathToFileURL(modelDir).href });
  const ready = await env.ready(MODEL, created.version);
  expect(ready.status, ready.statusMessage).toBe('READY');
  return created.version;
}

/** A model host with per-version environments built by pip from `findLinks` and shared through the archive. */
async function startHost(findLinks: string): Promise<RunningHost> {
  const artifactCache = await mkdtemp(path.join(dir, 'artifacts-'));
  const host = await startModelHost({
    modelName: MODEL,
    tableName: env.tableName,
    dynamoEndpoint: env.dynamo.endpoint,
    sourceRoots: env.artifacts.uri,
    artifactCache,
    env: {
      ...pipEnvironmentSettings({ findLinks, envCache, bucket: s3.bucket, s3Endpoint }),
      MLSERVE_UV: '/nonexistent/uv',
      MLSERVE_WORKER_LOADER: 'sklearn',
    },
  });
  hosts.push(host);
  await host.healthy();
  return host;
}

const eventsOf = async (version: number): Promise<ServingEvent[]> =>
  [...(await env.serving.servingEvents(MODEL, { version }))].sort((a, b) => a.time - b.time);
const typesOf = (events: readonly ServingEvent[], prefix = 'ENV_') =>
  events.map((e) => e.type).filter((t) => t.startsWith(prefix));
const stateOf = async (version: number) =>
  (await env.serving.servingStatuses(MODEL)).find((s) => s.version === version);

const rows = { dataframe_split: { columns: ['x'], data: [[1], [2]] } };

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mlserve-env-events-'));
  envCache = path.join(dir, 'envs');
  [env, s3] = await Promise.all([startRegistryEnv(), startLocalS3('env-bucket')]);
  const client = s3.client();
  s3Endpoint = `http://127.0.0.1:${(await client.config.endpoint?.())?.port}`;
  client.destroy();
  probe = await buildProbeWheels(dir, ['1.0', '2.0']);
  await env.registry.createRegisteredModel({ name: MODEL });
  versions.one = await registerProbe('mlserve_probe==1.0');
}, 180_000);

afterAll(async () => {
  await Promise.all(hosts.map((h) => h.stop()));
  await env?.close();
  await s3?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('environment events through the model host', () => {
  it('builds the version’s environment, records ENV_BUILDING then ENV_BUILT, and serves', async () => {
    const host = await startHost(probe.wheels);
    const one = versions.one as number;
    await eventually(async () => expect((await stateOf(one))?.state).toBe('READY'), 150_000);
    const res = await score(`${host.url}/model/${MODEL}/${one}/invocations`, rows);
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({ predictions: ['1.0', '1.0'] });
    const events = await eventsOf(one);
    expect(typesOf(events)).toEqual(['ENV_BUILDING', 'ENV_BUILT']);
    const [building, built] = events.filter((e) => e.type.startsWith('ENV_'));
    expect(building?.message).toBe(
      'building the environment from requirements.txt with pip, or restoring it from the archive',
    );
    expect(built?.message).toMatch(/^environment built with pip in \d+\.\d s$/);
    // Logged when the version loaded, the environment recorded before it.
    expect(events.findIndex((e) => e.type === 'ENV_BUILT')).toBeLessThan(
      events.findIndex((e) => e.type === 'VERSION_LOADED'),
    );
    expect(host.output()).toMatch(/"message":"environment saved"/);
  }, 200_000);

  it('fails a version whose requirement cannot be installed with ENV_BUILD_FAILED, while another serves', async () => {
    const host = hosts[0] as RunningHost;
    const broken = await registerProbe('mlserve_probe==3.0');
    versions.broken = broken;
    await eventually(async () => expect((await stateOf(broken))?.state).toBe('FAILED'), 150_000);
    const failed = (await eventsOf(broken)).filter((e) => e.type.startsWith('ENV_'));
    expect(failed.map((e) => e.type)).toEqual(['ENV_BUILDING', 'ENV_BUILD_FAILED']);
    const message = failed[1]?.message ?? '';
    expect(message).toMatch(/^could not build the Python environment for /);
    expect(message).toMatch(/No matching distribution found for mlserve_probe==3\.0/);
    expect(message.length).toBeLessThanOrEqual(1500);
    const res = await score(`${host.url}/model/${MODEL}/${versions.one}/invocations`, rows);
    expect(res.json).toEqual({ predictions: ['1.0', '1.0'] });
    // Out of the way of the next host.
    await env.registry.transitionModelVersionStage(MODEL, broken, 'Archived', false);
  }, 200_000);

  it('restores it on another host with an empty cache and no usable wheels, without installing', async () => {
    await (hosts[0] as RunningHost).stop();
    await rm(envCache, { recursive: true, force: true });
    const nothing = path.join(dir, 'no-wheels');
    await mkdir(nothing, { recursive: true });
    const one = versions.one as number;
    const before = await eventsOf(one);
    const host = await startHost(nothing);
    await eventually(async () => {
      const events = await eventsOf(one);
      expect(events.filter((e) => e.type === 'VERSION_LOADED').length).toBeGreaterThan(
        before.filter((e) => e.type === 'VERSION_LOADED').length,
      );
      expect((await stateOf(one))?.state).toBe('READY');
    }, 120_000);
    const res = await score(`${host.url}/model/${MODEL}/${one}/invocations`, rows);
    expect(res.json).toEqual({ predictions: ['1.0', '1.0'] });
    const added = (await eventsOf(one)).slice(before.length);
    expect(typesOf(added)).toEqual(['ENV_BUILDING', 'ENV_RESTORED']);
    expect(added.find((e) => e.type === 'ENV_RESTORED')?.message).toMatch(
      /^environment restored from the archive in \d+\.\d s$/,
    );
    expect(host.output()).toMatch(/"message":"environment restored".*"seconds":\d/);
    expect(host.output()).not.toMatch(/"message":"environment built"/);
  }, 200_000);
});
