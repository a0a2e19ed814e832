/**
 * The deploy-model state machine, executed by the local ASL interpreter inside the twin with
 * its waits shortened: its DynamoDB tasks run against the real local DynamoDB-API server and
 * its ECS and load-balancer tasks against the twin's stand-ins (model hosts as processes).
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTokenSecret } from '../../core/auth/secrets';
import { STATE } from '../../core/deploy/deploy-model';
import type { BusEvent } from '../../core/events/in-process-bus';
import type { ExecutionProgress } from '../../twin/deploy-runner';
import { startTwin, type Twin } from '../../twin/twin';
import { eventually } from '../helpers/eventually';
import { score } from '../helpers/model-host';
import { trainSklearn } from '../helpers/models';
import { IRIS_MODEL } from '../helpers/paths';

const MODEL = 'deployed';
const ROWS = {
  dataframe_split: {
    columns: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
    data: [
      [5.1, 3.5, 1.4, 0.2],
      [6.7, 3.0, 5.2, 2.3],
    ],
  },
};

let twin: Twin;
let home: string;
let brokenTasks = false;
const ADMIN = newTokenSecret();
const auth = { Authorization: `Bearer ${ADMIN}` };

async function registerVersion(make: (dir: string) => Promise<void> | void): Promise<number> {
  const dir = path.join(twin.artifactDir, `v-${Math.random().toString(36).slice(2)}`);
  await make(dir);
  const v = await twin.registry.createModelVersion({ name: MODEL, source: pathToFileURL(dir).href });
  await eventually(async () => expect((await twin.registry.getModelVersion(MODEL, v.version)).status).toBe('READY'));
  return v.version;
}

const state = async () => (await twin.serving.modelServingStatus(MODEL)).state;
const tasks = () => twin.ecs.tasksForModel(MODEL);
const eventTypes = async () => (await twin.serving.servingEvents(MODEL, { limit: 200 })).map((e) => e.type);
const executions = () => twin.deployments.outcomes.filter((o) => o.modelName === MODEL);

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'mlserve-deploy-'));
  twin = await startTwin({
    home,
    port: 0,
    deployWaitMs: 10,
    deployMaxPolls: 800,
    reconcileMs: 0,
    adminToken: ADMIN,
    rateLimit: { perSecond: 10_000, burst: 10_000 },
    taskEnvironment: (): Record<string, string> => (brokenTasks ? { MLSERVE_REQUEST_TIMEOUT_MS: 'not-a-number' } : {}),
  });
  await twin.registry.createRegisteredModel({ name: MODEL });
  await registerVersion((dir) => cp(IRIS_MODEL, dir, { recursive: true }));
  await twin.registry.transitionModelVersionStage(MODEL, 1, 'Production', false);
}, 60_000);

afterAll(async () => {
  await twin?.close();
  await rm(home, { recursive: true, force: true });
});

describe('deploy-model', () => {
  it('enable: starts one task, routes /model/<name>/* to it, and records PENDING then READY', async () => {
    await twin.serving.enableServing(MODEL);
    expect(await state()).toBe('PENDING');
    await eventually(async () => expect(await state()).toBe('READY'));
    expect(tasks()).toHaveLength(1);
    const res = await score(`${twin.url}/model/${MODEL}/Production/invocations`, ROWS, 'application/json', auth);
    expect([res.status, res.json]).toEqual([200, { predictions: [0, 2] }]);
    expect(await eventTypes()).toEqual(expect.arrayContaining(['SERVING_ENABLED', 'MODEL_DEPLOYING', 'MODEL_READY']));
  });

  it('a new version arriving is served by the running task, without a new task', async () => {
    const pid = tasks()[0]?.pid;
    const before = executions().length;
    const v2 = await registerVersion((dir) => trainSklearn('iris-logreg', dir));
    await eventually(async () => {
      const res = await score(`${twin.url}/model/${MODEL}/${v2}/invocations`, ROWS, 'application/json', auth);
      expect(res.status).toBe(200);
    });
    await twin.deployments.idle();
    expect(executions().length).toBeGreaterThan(before);
    expect(executions().at(-1)?.status).toBe('SUCCEEDED');
    expect(tasks().map((t) => t.pid)).toEqual([pid]);
    expect(await state()).toBe('READY');
  });

  it('a stage move converges, and the stage URI follows it', async () => {
    const before = executions().length;
    await twin.registry.transitionModelVersionStage(MODEL, 2, 'Production', true);
    await eventually(async () => {
      const status = await fetch(`${tasks()[0]?.url}/status`).then(
        (r) => r.json() as Promise<{ versions: { version: number; stage: string }[] }>,
      );
      expect(status.versions.find((v) => v.version === 2)?.stage).toBe('Production');
    });
    await twin.deployments.idle();
    expect(
      executions()
        .slice(before)
        .map((e) => e.reason),
    ).toContain('ModelVersionStageChanged');
    expect(await state()).toBe('READY');
  });

  it('a burst of 10 events for one model: an execution each, and at most two converge while the rest leave it to them', async () => {
    await twin.deployments.idle();
    const before = executions().length;
    await Promise.all(Array.from({ length: 10 }, (_, i) => twin.registry.setAlias(MODEL, `burst${i}`, 2)));
    await twin.bus.drained();
    await twin.deployments.idle();
    const runs = executions().slice(before);
    expect(runs.map((r) => r.reason)).toEqual(Array.from({ length: 10 }, () => 'ModelAliasSet'));
    const converging = runs.filter((r) => !r.states.includes(STATE.anotherRunConverges));
    expect(converging.length).toBeGreaterThanOrEqual(1);
    expect(converging.length).toBeLessThanOrEqual(2);
    for (const run of runs) expect(run.status).toBe('SUCCEEDED');
  });

  it('a compute change rolls a new task in before the old one stops, with no failed request', async () => {
    const oldPid = tasks()[0]?.pid;
    const stop = { now: false };
    const steady = (async () => {
      let failures = 0;
      while (!stop.now) {
        const res = await score(`${twin.url}/model/${MODEL}/Production/invocations`, ROWS, 'application/json', auth);
        if (res.status !== 200) failures++;
      }
      return failures;
    })();
    await twin.serving.updateServingConfig(MODEL, { computeSize: 'Medium', tagsToSet: [{ key: 'team', value: 'a' }] });
    await eventually(async () => {
      expect(tasks().map((t) => t.pid)).not.toContain(oldPid);
      expect(tasks()).toHaveLength(1);
      expect(await state()).toBe('READY');
    }, 60_000);
    stop.now = true;
    expect(await steady).toBe(0);
    const status = await twin.serving.modelServingStatus(MODEL);
    expect(status.config).toMatchObject({ computeSize: 'Medium', tags: { team: 'a' } });
  }, 90_000);

  it('changes arriving during a run are taken by its claim (pendingRequests): it converges again to the last', async () => {
    await twin.deployments.idle();
    const before = executions().length;
    // A run that lasts: a new task has to roll in.
    await twin.serving.updateServingConfig(MODEL, { computeSize: 'Small' });
    let running: ExecutionProgress | undefined;
    await eventually(async () => {
      running = twin.deployments.inProgress(MODEL).find((e) => e.states.includes(STATE.waitForTask));
      expect(running).toBeDefined();
    });
    for (let i = 0; i < 3; i++) await twin.registry.setAlias(MODEL, `during${i}`, 2);
    await twin.registry.transitionModelVersionStage(MODEL, 1, 'Staging', false);
    await twin.serving.updateServingConfig(MODEL, { tagsToSet: [{ key: 'burst', value: 'last' }] });
    await twin.bus.drained();
    await twin.deployments.idle();

    const runs = executions().slice(before);
    const claimed = runs.find((r) => r.executionName === running?.executionName);
    // The run that held the claim took the requests and converged once more before it ended.
    expect(claimed?.states).toContain(STATE.restartRun);
    expect(claimed?.states.at(-1)).toBe(STATE.converged);
    const late = runs.filter((r) => r !== claimed);
    expect(late.map((r) => r.reason).sort()).toEqual([
      'ModelAliasSet',
      'ModelAliasSet',
      'ModelAliasSet',
      'ModelVersionStageChanged',
      'ServingReconfigured',
    ]);
    for (const run of late) expect(run.states.at(-1)).toBe(STATE.anotherRunConverges);
    for (const run of runs) expect(run.status).toBe('SUCCEEDED');
    // What is served is the last change: its revision, reported by the one task left once the
    // replaced task has drained (ECS stops it after the new one is healthy).
    const status = await twin.serving.modelServingStatus(MODEL);
    expect(status.config?.tags).toMatchObject({ burst: 'last' });
    expect(status.state).toBe('READY');
    expect(status.deployedRevision).toBe(status.config?.revision);
    expect((await twin.serving.hostReport(MODEL))?.revision).toBe(status.config?.revision);
    await eventually(async () => expect(tasks()).toHaveLength(1), 30_000);
  }, 90_000);

  it('a task that dies is restarted: ECS says so, the deploy trigger records it and converges', async () => {
    const pid = tasks()[0]?.pid as number;
    const before = executions().length;
    const stopped: BusEvent[] = [];
    const off = twin.bus.addRule({ source: ['aws.ecs'] }, (e) => {
      stopped.push(e);
    });
    process.kill(pid, 'SIGKILL');
    await eventually(async () => {
      expect(tasks()[0]?.pid).toBeDefined();
      expect(tasks()[0]?.pid).not.toBe(pid);
      const res = await score(`${twin.url}/model/${MODEL}/Production/invocations`, ROWS, 'application/json', auth);
      expect(res.status).toBe(200);
    }, 60_000);
    off();
    expect(stopped.map((e) => e.detail)).toContainEqual(
      expect.objectContaining({
        lastStatus: 'STOPPED',
        stopCode: 'EssentialContainerExited',
        group: expect.stringMatching(/^service:mlserve-/),
      }),
    );
    const events = await twin.serving.servingEvents(MODEL, { limit: 200 });
    expect(events.find((e) => e.type === 'TASK_STOPPED')?.message).toMatch(/killed by SIGKILL.*ECS starts a new one/);
    await twin.deployments.idle();
    expect(
      executions()
        .slice(before)
        .map((e) => e.reason),
    ).toContain('task stopped unexpectedly');
    expect(await state()).toBe('READY');
  }, 90_000);

  it('a new task that cannot start leaves the old one serving, and FAILED says why', async () => {
    const pid = tasks()[0]?.pid;
    brokenTasks = true;
    try {
      await twin.serving.updateServingConfig(MODEL, { computeSize: 'Large' });
      await eventually(async () => expect(await state()).toBe('FAILED'), 60_000);
    } finally {
      brokenTasks = false;
    }
    const status = await twin.serving.modelServingStatus(MODEL);
    expect(status.message).toMatch(/did not report revision/);
    expect(tasks().map((t) => t.pid)).toEqual([pid]);
    const res = await score(`${twin.url}/model/${MODEL}/Production/invocations`, ROWS, 'application/json', auth);
    expect(res.status).toBe(200);
    expect(await eventTypes()).toContain('MODEL_DEPLOY_FAILED');
  }, 90_000);

  it('disable: removes the service, rule and target group, and records STOPPED', async () => {
    await twin.deployments.idle();
    await twin.serving.disableServing(MODEL);
    await eventually(async () => expect(await state()).toBe('STOPPED'), 60_000);
    expect(tasks()).toHaveLength(0);
    const res = await score(`${twin.url}/model/${MODEL}/Production/invocations`, ROWS, 'application/json', auth);
    expect(res.status).toBe(404);
    expect(await eventTypes()).toEqual(expect.arrayContaining(['SERVING_DISABLED', 'MODEL_STOPPED']));
  }, 90_000);
});

describe('a run claim left by an earlier twin', () => {
  it('is taken over after a restart, so enabled models converge at once', async () => {
    const restartedHome = await mkdtemp(path.join(tmpdir(), 'mlserve-claim-'));
    const before = Date.now() - 60_000;
    const second = await startTwin({ home: restartedHome, port: 0, deployWaitMs: 10, reconcileMs: 0, demo: false });
    try {
      await second.registry.createRegisteredModel({ name: 'claimed' });
      const dir = path.join(second.artifactDir, 'iris');
      await cp(IRIS_MODEL, dir, { recursive: true });
      await second.registry.createModelVersion({ name: 'claimed', source: pathToFileURL(dir).href });
      await second.bus.drained();
      // An execution of an earlier run of the twin claimed the model a minute ago and never released it.
      const { DynamoDBClient, GetItemCommand, UpdateItemCommand } = await import('@aws-sdk/client-dynamodb');
      const client = new DynamoDBClient(second.dynamo.clientConfig);
      const pointer = await client.send(
        new GetItemCommand({ TableName: 'mlserve-registry', Key: { PK: { S: 'NAME#claimed' }, SK: { S: 'NAME' } } }),
      );
      await client.send(
        new UpdateItemCommand({
          TableName: 'mlserve-registry',
          Key: { PK: { S: `MODEL#${pointer.Item?.modelId?.S}` }, SK: { S: 'SERVING#MODEL' } },
          UpdateExpression: 'SET runOwner = :ghost, runStartedAt = :then',
          ExpressionAttributeValues: { ':ghost': { S: 'ghost' }, ':then': { S: new Date(before).toISOString() } },
        }),
      );
      client.destroy();
      await second.serving.enableServing('claimed');
      await eventually(
        async () => expect((await second.serving.modelServingStatus('claimed')).state).toBe('READY'),
        60_000,
      );
    } finally {
      await second.close();
      await rm(restartedHome, { recursive: true, force: true });
    }
  }, 90_000);
});
