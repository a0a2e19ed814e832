import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTokenSecret } from '../../core/auth/secrets';
import { createControlPlane } from '../../core/control-plane';
import { NO_EVENTS } from '../../core/events/domain-events';
import { startLocalDynamo } from '../../twin/local-dynamodb';
import { TWIN_TABLE } from '../../twin/twin';
import { runCli } from '../helpers/cli';
import { eventually } from '../helpers/eventually';
import { request, score } from '../helpers/model-host';
import { trainSklearn } from '../helpers/models';
import { IRIS_MODEL } from '../helpers/paths';
import { startTwinProcess, type TwinProcess } from '../helpers/twin-process';

let home: string;
let twin: TwinProcess | undefined;
const ADMIN = newTokenSecret();
const auth = { Authorization: `Bearer ${ADMIN}` };

const IRIS = {
  dataframe_split: {
    columns: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
    data: [
      [5.1, 3.5, 1.4, 0.2],
      [6.7, 3.0, 5.2, 2.3],
    ],
  },
};

const DIABETES = {
  dataframe_split: {
    columns: ['age', 'sex', 'bmi', 'bp', 's1', 's2', 's3', 's4', 's5', 's6'],
    data: [[0.03, 0.05, 0.06, 0.02, -0.04, -0.03, -0.04, 0, 0.02, -0.02]],
  },
};

/** `npm start`, as a process. */
const startTwin = () =>
  startTwinProcess({ MLSERVE_HOME: home, MLSERVE_ADMIN_TOKEN: ADMIN, POWERTOOLS_LOG_LEVEL: 'WARN' });

async function stopTwin(): Promise<void> {
  await twin?.stop();
}

/** Runs the CLI against the twin. */
const mlserve = (...args: string[]) =>
  runCli(args, {
    env: { MLSERVE_URL: twin?.url, MLSERVE_TOKEN: ADMIN, MLSERVE_ARTIFACT_ROOT: path.join(home, 'artifacts') },
  });

const scoreAt = (ref: string, body: unknown = IRIS) =>
  score(`${twin?.url}/model/iris/${ref}/invocations`, body, 'application/json', auth);

/** Writes a new version into the stopped twin's table with no events, so nothing checks it. */
async function registerWithoutCheck(name: string, modelDir: string): Promise<number> {
  const artifactDir = path.join(home, 'artifacts', `unchecked-${Date.now()}`);
  await cp(modelDir, artifactDir, { recursive: true });
  const dynamo = await startLocalDynamo({ path: path.join(home, 'dynamodb') });
  try {
    const { registry } = createControlPlane({
      tableName: TWIN_TABLE,
      sourceRoots: pathToFileURL(path.join(home, 'artifacts')).href,
      events: NO_EVENTS,
      dynamodb: dynamo.clientConfig,
    });
    const version = await registry.createModelVersion({ name, source: pathToFileURL(artifactDir).href });
    expect(version.status).toBe('PENDING_REGISTRATION');
    return version.version;
  } finally {
    await dynamo.close();
  }
}

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'mlserve-e2e-'));
  twin = await startTwin();
}, 90_000);

afterAll(async () => {
  await stopTwin();
  await rm(home, { recursive: true, force: true });
});

describe('the local twin, end to end', () => {
  it('serves its demo model on first start, with the curl it printed', async () => {
    const curl = /curl -s -u token:(\S+) -X POST (\S+) -H 'Content-Type: application\/json' -d '([^']+)'/.exec(
      twin?.output() ?? '',
    );
    expect(curl).not.toBeNull();
    const res = await eventually(async () => {
      // The printed curl names the token variable; the seeds' `curl -u token:$TOKEN` is HTTP Basic.
      expect(curl?.[1]).toBe('$MLSERVE_ADMIN_TOKEN');
      const basic = `Basic ${Buffer.from(`token:${ADMIN}`).toString('base64')}`;
      const r = await score(curl?.[2] as string, curl?.[3] as string, 'application/json', { Authorization: basic });
      expect(r.status).toBe(200);
      return r;
    });
    expect((res.json as { predictions: { label: number[] } }).predictions.label).toEqual([0, 2]);
  });

  it('registers v1 with the CLI, enables serving, and answers by version, stage and alias', async () => {
    expect((await mlserve('models', 'create', 'iris')).code).toBe(0);
    const created = await mlserve('versions', 'create', '--name', 'iris', '--from', IRIS_MODEL);
    expect(created.code, created.stderr).toBe(0);
    expect((await mlserve('stage', 'iris', '1', 'Production')).code).toBe(0);
    expect((await mlserve('alias', 'set', 'iris', 'champion', '1')).code).toBe(0);
    const enable = await mlserve('serving', 'enable', 'iris', '--wait', '--timeout', '120');
    expect(enable.code, enable.stderr).toBe(0);
    expect(enable.stderr).toMatch(/PENDING/);
    expect(enable.stdout).toMatch(/READY/);
    for (const ref of ['1', 'Production', 'production', '@champion']) {
      const res = await eventually(async () => {
        const r = await scoreAt(ref);
        expect(r.status).toBe(200);
        return r;
      }, 10_000);
      expect(res.json).toEqual({ predictions: [0, 2] });
    }
  });

  it("accepts the seeds' 1.x curl body", async () => {
    const res = await scoreAt('Production', [
      { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 },
    ]);
    expect([res.status, res.json]).toEqual([200, [0]]);
  });

  it('serves a newly registered version without any further command', async () => {
    const dir = path.join(home, 'staging-area', 'regressor');
    trainSklearn('diabetes-regressor', dir);
    const created = await mlserve('versions', 'create', '--name', 'iris', '--from', dir);
    expect(created.code, created.stderr).toBe(0);
    const res = await eventually(async () => {
      const r = await scoreAt('2', DIABETES);
      expect(r.status).toBe(200);
      return r;
    });
    expect(typeof (res.json as { predictions: number[] }).predictions[0]).toBe('number');
    // The stage URI answers v2 once Production moves to it.
    expect((await mlserve('stage', 'iris', '2', 'Production')).code).toBe(0);
    await eventually(async () => expect((await scoreAt('Production', DIABETES)).status).toBe(200), 10_000);
  });

  it('stops serving an archived version', async () => {
    expect((await mlserve('stage', 'iris', '1', 'Archived')).code).toBe(0);
    await eventually(async () => {
      const r = await scoreAt('1');
      expect(r.status).toBe(404);
      expect((r.json as { message: string }).message).toMatch(/archived/);
    }, 10_000);
  });

  it('brings a killed host back, and status and events say so', async () => {
    const status = (await request(`${twin?.url}/model/iris/status`, { method: 'GET', headers: auth })).json as {
      process: { pid: number };
    };
    const pid = status.process.pid;
    process.kill(pid, 'SIGKILL');
    await eventually(async () => {
      const now = (await request(`${twin?.url}/model/iris/status`, { method: 'GET', headers: auth })).json as {
        process: { pid: number };
      };
      expect(now.process.pid).not.toBe(pid);
      expect((await scoreAt('2', DIABETES)).status).toBe(200);
    });
    const events = await mlserve('serving', 'events', 'iris');
    expect(events.stdout).toMatch(/TASK_STOPPED/);
    await eventually(async () => expect((await mlserve('serving', 'status', 'iris')).stdout).toMatch(/READY/));
  });

  it('disables serving: STOPPED and 404', async () => {
    const disable = await mlserve('serving', 'disable', 'iris', '--wait', '--timeout', '120');
    expect(disable.code, disable.stderr).toBe(0);
    const res = await scoreAt('Production');
    expect(res.status).toBe(404);
    expect((await mlserve('serving', 'status', 'iris')).stdout).toMatch(/STOPPED/);
  });

  it('keeps its state across a restart: models, versions, and enabled models come back up', async () => {
    await stopTwin();
    // A version whose registration check never ran (the twin stopped before its event was delivered).
    const pendingVersion = await registerWithoutCheck('iris', IRIS_MODEL);
    twin = await startTwin();
    const versions = await mlserve('versions', 'list', 'iris');
    expect(versions.code).toBe(0);
    expect(versions.stdout).toMatch(/Production/);
    // Its ModelVersionCreated is delivered again at start, through the rule and the registration check.
    const checked = await mlserve('versions', 'get', 'iris', String(pendingVersion));
    expect(checked.stdout, checked.stderr).toMatch(/READY/);
    const demo = await eventually(async () => {
      const r = await score(
        `${twin?.url}/model/iris-demo/Production/invocations`,
        { inputs: [[5.1, 3.5, 1.4, 0.2]] },
        'application/json',
        auth,
      );
      expect(r.status).toBe(200);
      return r;
    });
    expect((demo.json as { predictions: { label: number[] } }).predictions.label).toEqual([0]);
    expect((await scoreAt('Production')).status).toBe(404);
  });
});
