/**
 * `npm run bench` (fourth part): a task's cold start with per-version Python environments — from
 * starting the model host to every version READY in its `/status` — for one registered model
 * with three versions, each needing its own environment (`mlserve_probe==1.0`, `2.0`, `3.0`, all
 * with `mlserve_ballast`, a copy of Debian's Pygments as something of a real package's size).
 * Wheels are built here and installed with pip from a wheel directory (no package index).
 * Three starts: (a) environments built (empty cache, empty archive; the host also saves them to
 * the archive), (b) restored from the archive (s3rver) by a host with an empty cache, (c) already
 * on disk (the cache (b) left).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HostStatus } from '../test/helpers/iris-host';
import { startLocalS3 } from '../test/helpers/local-s3';
import { type RunningHost, request, startModelHost } from '../test/helpers/model-host';
import {
  buildBallastWheel,
  buildProbeWheels,
  IMAGE_PYTHON,
  pipEnvironmentSettings,
  writeProbeModel,
} from '../test/helpers/probe-wheels';
import { startRegistryEnv } from '../test/helpers/registry-env';

const MODEL = 'cold-start';
const PROBE_VERSIONS = ['1.0', '2.0', '3.0'];
const BALLAST_SOURCE = '/usr/lib/python3/dist-packages/pygments';
const READY_TIMEOUT_MS = 300_000;

/** Resolves when every version of the host's status is READY; rejects when one FAILED or time runs out. */
async function allReady(host: RunningHost, count: number): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const status = (await request(`${host.url}/status`, { method: 'GET' }).catch(() => undefined))?.json as
      | HostStatus
      | undefined;
    const versions = status?.versions ?? [];
    const failed = versions.find((v) => v.state === 'FAILED');
    if (failed) throw new Error(`version ${failed.version} FAILED:\n${host.output().slice(-4000)}`);
    if (versions.length === count && versions.every((v) => v.state === 'READY')) return;
    if (Date.now() > deadline) throw new Error(`versions not READY in time:\n${host.output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const lines = (output: string, message: string) =>
  output.split('\n').filter((line) => line.includes(`"message":"${message}"`));

const dir = await mkdtemp(path.join(tmpdir(), 'mlserve-cold-start-'));
const [env, s3] = await Promise.all([startRegistryEnv(), startLocalS3('env-bucket')]);
const hosts: RunningHost[] = [];
try {
  const probe = await buildProbeWheels(dir, PROBE_VERSIONS);
  const ballast = existsSync(BALLAST_SOURCE);
  if (ballast) await buildBallastWheel(dir, probe.wheels, BALLAST_SOURCE);

  await env.registry.createRegisteredModel({ name: MODEL });
  for (const version of PROBE_VERSIONS) {
    const modelDir = path.join(env.artifacts.dir, `probe-${version}`);
    await writeProbeModel(modelDir, probe, [`mlserve_probe==${version}`, ...(ballast ? ['mlserve_ballast==1.0'] : [])]);
    const v = await env.registry.createModelVersion({ name: MODEL, source: pathToFileURL(modelDir).href });
    const ready = await env.ready(MODEL, v.version);
    if (ready.status !== 'READY') throw new Error(`version ${v.version}: ${ready.statusMessage}`);
  }

  const s3Client = s3.client();
  const endpoint = await s3Client.config.endpoint?.();
  s3Client.destroy();
  // The same folder on every host: a virtualenv is tied to its path, and so is its archive key.
  const envCache = path.join(dir, 'envs');

  /** Starts a host (as a new task: its own artifact cache), times it to all READY, stops it. */
  async function coldStart(label: string): Promise<{ label: string; seconds: number; output: string }> {
    const artifactCache = await mkdtemp(path.join(dir, 'artifacts-'));
    const started = performance.now();
    const host = await startModelHost({
      modelName: MODEL,
      tableName: env.tableName,
      dynamoEndpoint: env.dynamo.endpoint,
      sourceRoots: env.artifacts.uri,
      artifactCache,
      env: {
        MLSERVE_METRICS_INTERVAL_MS: '0',
        MLSERVE_PYTHON: IMAGE_PYTHON,
        ...pipEnvironmentSettings({
          findLinks: probe.wheels,
          envCache,
          bucket: 'env-bucket',
          s3Endpoint: `${endpoint?.protocol}//${endpoint?.hostname}:${endpoint?.port}`,
        }),
      },
    });
    hosts.push(host);
    await allReady(host, PROBE_VERSIONS.length);
    const seconds = (performance.now() - started) / 1000;
    for (const [i, version] of PROBE_VERSIONS.entries()) {
      const answer = await request(`${host.url}/model/${MODEL}/${i + 1}/invocations`, {
        body: { dataframe_split: { columns: ['x'], data: [[1]] } },
        contentType: 'application/json',
      });
      if (JSON.stringify(answer.json) !== JSON.stringify({ predictions: [version] })) {
        throw new Error(`version ${i + 1} answered ${answer.text}`);
      }
    }
    await host.stop();
    await rm(artifactCache, { recursive: true, force: true });
    return { label, seconds, output: host.output() };
  }

  const built = await coldStart('(a) environments built, empty cache and archive');
  await rm(envCache, { recursive: true, force: true }); // a new task: an empty disk
  const restored = await coldStart('(b) restored from the archive, empty cache');
  const onDisk = await coldStart('(c) already on disk');

  const count = (output: string, message: string) => lines(output, message).length;
  const requireEach = (run: { label: string; output: string }, message: string) => {
    if (count(run.output, message) !== PROBE_VERSIONS.length) {
      throw new Error(
        `${run.label}: expected ${PROBE_VERSIONS.length} '${message}' lines:\n${run.output.slice(-4000)}`,
      );
    }
  };
  requireEach(built, 'environment built');
  requireEach(built, 'environment saved');
  requireEach(restored, 'environment restored');
  if (count(restored.output, 'environment built') + count(onDisk.output, 'environment built') > 0) {
    throw new Error('an environment was built again');
  }
  const archiveBytes = lines(built.output, 'environment saved').map((l) => Number(JSON.parse(l).bytes ?? 0));

  console.log(
    `\ncold start, ${PROBE_VERSIONS.length} versions each with its own environment` +
      ` (pip from a wheel directory${ballast ? ', mlserve_probe + mlserve_ballast (Pygments)' : ''}),` +
      ` task start → all READY; archives ${archiveBytes.map((b) => `${(b / 1024 / 1024).toFixed(1)} MiB`).join(', ')}`,
  );
  console.log('| start | seconds |');
  console.log('| --- | ---: |');
  for (const run of [built, restored, onDisk]) console.log(`| ${run.label} | ${run.seconds.toFixed(2)} |`);
  console.log(
    `built / restored: ${(built.seconds / restored.seconds).toFixed(1)}×; restored / on disk: ${(restored.seconds / onDisk.seconds).toFixed(1)}×; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  await Promise.all(hosts.map((h) => h.stop()));
  await env.close();
  await s3.close();
  await rm(dir, { recursive: true, force: true });
}
