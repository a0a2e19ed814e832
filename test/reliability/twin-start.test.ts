/**
 * `npm start` with a MLSERVE_SOURCE_ROOTS that leaves out the twin's artifact folder: the twin
 * stays up, registers nothing, and says what to change; a later start with a good setting
 * registers and serves the demo, and a start over a half-registered demo finishes it.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { newTokenSecret } from '../../core/auth/secrets';
import { type DemoModel, serveDemoModel } from '../../twin/demo-model';
import { eventually } from '../helpers/eventually';
import { score } from '../helpers/model-host';
import { REPO_ROOT } from '../helpers/paths';
import { call, startTestTwin, type TestTwin } from '../helpers/twin';
import { startTwinProcess, type TwinProcess } from '../helpers/twin-process';

const ADMIN = newTokenSecret();
const auth = { Authorization: `Bearer ${ADMIN}` };
const API = '/api/2.0/mlflow';
const DEMO = 'iris-demo';
/** How long the demo may take to serve after the twin listens. */
const SERVE_WITHIN_MS = 120_000;

const homes: string[] = [];
const running = new Set<TwinProcess>();

afterEach(async () => {
  for (const twin of running) await twin.stop();
  running.clear();
});
afterAll(async () => {
  for (const home of homes) await rm(home, { recursive: true, force: true });
});

async function newHome(): Promise<string> {
  const home = await mkdtemp(path.join(tmpdir(), 'mlserve-start-'));
  homes.push(home);
  return home;
}

/** `npm start` on `home` (without the local MySQL server, so without the feature-lookup demo). */
async function start(home: string, env: Record<string, string> = {}): Promise<TwinProcess> {
  const twin = await startTwinProcess({
    MLSERVE_HOME: home,
    MLSERVE_ADMIN_TOKEN: ADMIN,
    MLSERVE_LOCAL_MYSQL: 'false',
    POWERTOOLS_LOG_LEVEL: 'WARN',
    ...env,
  });
  running.add(twin);
  return twin;
}

/** Runs the demo's printed curl until it answers 200 (bounded); resolves with the answer. */
async function printedCurlAnswers(twin: TwinProcess) {
  const curl = await eventually(async () => {
    const m = /curl -s -u token:(\S+) -X POST (\S+) -H 'Content-Type: application\/json' -d '([^']+)'/.exec(
      twin.output(),
    );
    expect(m, twin.output()).not.toBeNull();
    return m as RegExpExecArray;
  }, 10_000);
  expect(curl[2]).toBe(`${twin.url}/model/${DEMO}/Production/invocations`);
  const basic = `Basic ${Buffer.from(`token:${ADMIN}`).toString('base64')}`;
  return eventually(
    async () => {
      const res = await score(curl[2] as string, curl[3] as string, 'application/json', { Authorization: basic });
      expect(res.status, res.text).toBe(200);
      return res;
    },
    SERVE_WITHIN_MS,
    500,
  );
}

async function demoVersions(twin: TwinProcess) {
  const res = await call(twin.url, 'GET', `${API}/model-versions/search`, { filter: `name = '${DEMO}'` }, auth);
  expect(res.status, res.text).toBe(200);
  return (res.json.model_versions ?? []) as { version: string; current_stage: string; status: string }[];
}

describe('npm start with MLSERVE_SOURCE_ROOTS leaving out the artifact folder', () => {
  let home: string;

  it('stays up, registers no demo, and prints what is wrong and the fix', async () => {
    home = await newHome();
    const twin = await start(home, { MLSERVE_SOURCE_ROOTS: 'file:///somewhere/else' });
    const artifacts = pathToFileURL(path.join(home, 'artifacts')).href;
    await eventually(async () => {
      const out = twin.output();
      expect(out).toContain(`leaves out the twin's artifact folder ${artifacts}`);
      expect(out).toContain(`MLSERVE_SOURCE_ROOTS='file:///somewhere/else,${artifacts}' npm start`);
    }, 10_000);
    // No curl for a demo that is not there.
    expect(twin.output()).not.toMatch(/curl -s -u token/);

    const demo = await call(twin.url, 'GET', `${API}/registered-models/get`, { name: DEMO }, auth);
    expect(demo.status, demo.text).toBe(404);
    expect(demo.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    const all = await call(twin.url, 'GET', `${API}/registered-models/search`, {}, auth);
    expect(all.json).toEqual({});

    // Still up a moment later, and still answering.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(twin.child.exitCode).toBeNull();
    expect((await call(twin.url, 'GET', `${API}/registered-models/search`, {}, auth)).status).toBe(200);
  }, 90_000);

  it(
    'registers and serves the demo on the next start with a good MLSERVE_SOURCE_ROOTS',
    async () => {
      const twin = await start(home); // unset: the default root is the artifact folder
      const res = await printedCurlAnswers(twin);
      expect((res.json as { predictions: { label: number[] } }).predictions.label).toEqual([0, 2]);
      expect(twin.output()).not.toMatch(/leaves out the twin's artifact folder/);
      const versions = await demoVersions(twin);
      expect(versions.map((v) => [v.version, v.current_stage, v.status])).toEqual([['1', 'Production', 'READY']]);
    },
    SERVE_WITHIN_MS + 60_000,
  );
});

describe('npm start over a half-registered demo', () => {
  it(
    'finishes it (one version, in Production, served), and a further start adds nothing',
    async () => {
      const home = await newHome();
      // What a start that failed mid-registration left: the model, without a version.
      const setup = await start(home, { MLSERVE_DEMO: 'false' });
      const created = await call(setup.url, 'POST', `${API}/registered-models/create`, { name: DEMO }, auth);
      expect(created.status, created.text).toBe(200);
      await setup.stop();

      const twin = await start(home);
      const res = await printedCurlAnswers(twin);
      expect((res.json as { predictions: { label: number[] } }).predictions.label).toEqual([0, 2]);
      expect((await demoVersions(twin)).map((v) => [v.version, v.current_stage, v.status])).toEqual([
        ['1', 'Production', 'READY'],
      ]);
      await twin.stop();

      const again = await start(home);
      await printedCurlAnswers(again);
      expect(await demoVersions(again)).toHaveLength(1);
    },
    2 * SERVE_WITHIN_MS + 60_000,
  );
});

describe.skipIf(!existsSync('/usr/sbin/mariadbd'))(
  'npm start with the local MySQL server (the feature-lookup demo)',
  () => {
    it('registers neither demo when MLSERVE_SOURCE_ROOTS leaves out the artifact folder, and stays up', async () => {
      const home = await newHome();
      const twin = await start(home, { MLSERVE_SOURCE_ROOTS: 'file:///somewhere/else', MLSERVE_LOCAL_MYSQL: 'true' });
      await eventually(async () => {
        expect(twin.output()).toMatch(/demo models iris-demo, iris-features: not registered: MLSERVE_SOURCE_ROOTS/);
      }, 10_000);
      for (const name of [DEMO, 'iris-features']) {
        const res = await call(twin.url, 'GET', `${API}/registered-models/get`, { name }, auth);
        expect(res.status, res.text).toBe(404);
      }
      await new Promise((r) => setTimeout(r, 1_000));
      expect(twin.child.exitCode).toBeNull();
    }, 90_000);
  },
);

describe('setting up a demo (serveDemoModel)', () => {
  let twin: TestTwin;
  afterAll(async () => {
    await twin?.close();
  });

  /** A demo whose artifact folder is empty, so its registration check fails. */
  const broken = (name: string): DemoModel => {
    const dir = path.join(twin.artifactDir, name, '1');
    return {
      name,
      dir,
      description: 'broken demo',
      prepare: () => mkdir(dir, { recursive: true }).then(() => undefined),
    };
  };

  it('deletes the model again when a step after creating it fails', async () => {
    twin = await startTestTwin();
    await expect(serveDemoModel(twin.registry, twin.serving, broken('broken-new'))).rejects.toThrow(
      /FAILED_REGISTRATION/,
    );
    await expect(twin.registry.getRegisteredModel('broken-new')).rejects.toThrow(/not found|does not exist/i);
  });

  it('keeps a model it did not create, and a later attempt finishes it without touching it again', async () => {
    await twin.registry.createRegisteredModel({ name: 'broken-old' });
    await expect(serveDemoModel(twin.registry, twin.serving, broken('broken-old'))).rejects.toThrow(
      /FAILED_REGISTRATION/,
    );
    expect((await twin.registry.getRegisteredModel('broken-old')).serving).toBeUndefined();
    // Once the artifacts are there, the next attempt finishes it with a new version.
    const demo = broken('broken-old');
    const fixed: DemoModel = {
      ...demo,
      prepare: () => cp(path.join(REPO_ROOT, 'twin/demo/iris-onnx'), demo.dir, { recursive: true }),
    };
    expect(await serveDemoModel(twin.registry, twin.serving, fixed)).toBe('enabled');
    const versions = (await twin.registry.searchModelVersions({ filter: "name = 'broken-old'" })).items;
    expect(versions.map((v) => [v.version, v.status, v.currentStage]).sort()).toEqual([
      [1, 'FAILED_REGISTRATION', 'None'],
      [2, 'READY', 'Production'],
    ]);
    // Finished: a further call changes nothing; serving turned off since stays off.
    await twin.serving.disableServing('broken-old');
    expect(await serveDemoModel(twin.registry, twin.serving, fixed)).toBe('disabled');
    expect((await twin.registry.getRegisteredModel('broken-old')).serving?.enabled).toBe(false);
    expect((await twin.registry.searchModelVersions({ filter: "name = 'broken-old'" })).items).toHaveLength(2);
  }, 60_000);
});
