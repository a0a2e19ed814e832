import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import {
  buildDeployModelDefinition,
  DEPLOY_MODEL_PHASES,
  type DeployModelSettings,
  STATE,
} from '../../core/deploy/deploy-model';
import { keys } from '../../core/deploy/deploy-model/asl';
import { type AslKey, eventKey, hostReportKey, modelKey, nameKey, servingModelKey } from '../../core/table/layout';
import { context, evaluateKey, input, modelId } from '../helpers/asl-keys';

const settings: DeployModelSettings = {
  tableName: 'registry',
  clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/mlserve',
  listenerArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/mlserve/abc/def',
  vpcId: 'vpc-123',
  subnetIds: ['subnet-1', 'subnet-2'],
  securityGroupIds: ['sg-1'],
  assignPublicIp: false,
  image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/model-host:latest',
  executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
  taskRoleArn: 'arn:aws:iam::123456789012:role/task',
  logGroupName: '/mlserve/model-hosts',
  region: 'eu-west-1',
  containerPort: 8080,
  environment: { MLSERVE_SOURCE_ROOTS: 's3://bucket/models' },
  release: 'release-2',
  pollSeconds: 10,
  maxPolls: 60,
};
const definition = buildDeployModelDefinition(settings);
type Transitions = { Next?: string; Default?: string; Choices?: { Next: string }[]; Catch?: { Next: string }[] };
const states = definition.States as Record<string, { Type: string; Resource?: string } & Transitions>;

type DynamoParameters = { TableName: string; Key?: unknown; Item?: { PK: unknown; SK: unknown } };

/** Every state a state may move to: `Next`, `Default`, its choices' and its catchers' `Next`. */
function transitions(state: Transitions): string[] {
  return [
    state.Next,
    state.Default,
    ...(state.Choices ?? []).map((c) => c.Next),
    ...(state.Catch ?? []).map((c) => c.Next),
  ].filter((next): next is string => next !== undefined);
}

describe('deploy-model definition', () => {
  it('is valid Amazon States Language (JSONPath), paths and ARNs checked', () => {
    expect(
      () => new StateMachine(definition as never, { validationOptions: { checkPaths: true, checkArn: true } }),
    ).not.toThrow();
    expect(definition).not.toHaveProperty('QueryLanguage');
  });

  it('uses AWS SDK service integrations for DynamoDB, ECS and Elastic Load Balancing, and no Lambda', () => {
    const resources = Object.values(states).flatMap((s) => (s.Resource ? [s.Resource] : []));
    expect(resources.length).toBeGreaterThan(15);
    for (const r of resources) {
      expect(r).toMatch(
        /^arn:aws:states:::(dynamodb:(getItem|putItem|updateItem)|aws-sdk:(ecs|elasticloadbalancingv2):\w+)$/,
      );
    }
    expect(states[STATE.updateService]?.Resource).toBe('arn:aws:states:::aws-sdk:ecs:updateService');
    expect(states[STATE.createRule]?.Resource).toBe('arn:aws:states:::aws-sdk:elasticloadbalancingv2:createRule');
  });

  it('rolls new tasks in with the circuit breaker on and never below one healthy task', () => {
    const update = states[STATE.updateService] as unknown as {
      Parameters: { DeploymentConfiguration: unknown; DesiredCount: number };
    };
    expect(update.Parameters.DesiredCount).toBe(1);
    expect(update.Parameters.DeploymentConfiguration).toEqual({
      MinimumHealthyPercent: 100,
      MaximumPercent: 200,
      DeploymentCircuitBreaker: { Enable: true, Rollback: true },
    });
  });

  it('names every state it moves to, and reaches every state from the start', () => {
    for (const [name, state] of Object.entries(states)) {
      for (const next of transitions(state)) expect(states, `${name} → ${next}`).toHaveProperty([next]);
    }
    const reached = new Set<string>();
    const toVisit = [definition.StartAt as string];
    for (let name = toVisit.pop(); name !== undefined; name = toVisit.pop()) {
      if (reached.has(name)) continue;
      reached.add(name);
      toVisit.push(...transitions(states[name] ?? {}));
    }
    expect([...reached].sort()).toEqual(Object.keys(states).sort());
  });

  it('is its phases in the order of a run, each state built by one phase', () => {
    const phases = Object.entries(DEPLOY_MODEL_PHASES).map(
      ([phase, build]) => [phase, Object.keys(build(settings))] as const,
    );
    expect(phases.map(([phase]) => phase)).toEqual(['claim', 'deploy', 'wait', 'stop', 'failure', 'finish']);
    expect(phases.flatMap(([, names]) => names)).toEqual(Object.keys(states));
    expect(phases.find(([phase]) => phase === 'claim')?.[1][0]).toBe(definition.StartAt);
  });

  it('hands over from one phase to another only through named states (STATE)', () => {
    const named = new Set<string>(Object.values(STATE));
    const entered = new Set<string>();
    for (const [phase, build] of Object.entries(DEPLOY_MODEL_PHASES)) {
      const own = build(settings);
      for (const state of Object.values(own)) {
        for (const next of transitions(state)) {
          if (next in own) continue;
          expect(named, `${phase} → ${next}`).toContain(next);
          entered.add(next);
        }
      }
    }
    // claim → deploy | stop, deploy → wait, wait and stop → finish, any → failure, finish → claim's model read.
    expect([...entered].sort()).toEqual(
      [
        STATE.markPending,
        STATE.readServingForTeardown,
        STATE.startWaiting,
        STATE.releaseRun,
        STATE.recordFailure,
        STATE.readModel,
      ].sort(),
    );
  });

  it('addresses the registry table only through its key expressions, always naming the table', () => {
    const known = Object.values(keys).map((key) => JSON.stringify(key));
    const dynamo = Object.entries(states).filter(([, s]) => s.Resource?.startsWith('arn:aws:states:::dynamodb:'));
    expect(dynamo.length).toBeGreaterThan(10);
    for (const [name, state] of dynamo) {
      const parameters = (state as unknown as { Parameters: DynamoParameters }).Parameters;
      expect(parameters.TableName, name).toBe(settings.tableName);
      const key = parameters.Key ?? { PK: parameters.Item?.PK, SK: parameters.Item?.SK };
      expect(known, name).toContain(JSON.stringify(key));
    }
  });

  it("writes the table's keys as the stores build them (core/table/layout.ts)", () => {
    // Every item the workflow reads or writes, evaluated on a sample execution as Step Functions would.
    const addressed = new Set<string>();
    for (const [, state] of Object.entries(states).filter(([, s]) =>
      s.Resource?.startsWith('arn:aws:states:::dynamodb:'),
    )) {
      const parameters = (state as unknown as { Parameters: DynamoParameters }).Parameters;
      const key = parameters.Key ?? { PK: parameters.Item?.PK, SK: parameters.Item?.SK };
      addressed.add(JSON.stringify(evaluateKey(key as AslKey)));
    }
    const stored = [
      nameKey(input.modelName),
      modelKey(modelId),
      servingModelKey(modelId),
      hostReportKey(modelId),
      eventKey(modelId, context.State.EnteredTime, context.Execution.Name),
    ].map((key) => JSON.stringify(key));
    expect([...addressed].sort()).toEqual(stored.sort());
  });

  it('keeps the running task definition only when it carries both the revision and the release', async () => {
    const machine = new StateMachine({
      StartAt: 'NewRevision?',
      States: {
        'NewRevision?': states['NewRevision?'],
        KeepTaskDefinition: { Type: 'Pass', Result: 'keep', End: true },
        [STATE.registerTaskDefinition]: { Type: 'Pass', Result: 'register', End: true },
      },
    } as never);
    const running = {
      taskDefinitionArn: { S: 'td' },
      deployingRevision: { N: '3' },
      deployingRelease: { S: 'release-2' },
    };
    const decide = (serving: Record<string, unknown>) =>
      machine.run({ model: { Item: { servingRevision: { N: '3' } } }, serving: { Item: serving } } as never).result;

    expect(await decide(running)).toBe('keep');
    expect(await decide({ ...running, deployingRevision: { N: '2' } })).toBe('register');
    expect(await decide({ ...running, deployingRelease: { S: 'release-1' } })).toBe('register');
    const { deployingRelease: _, ...beforeReleases } = running;
    expect(await decide(beforeReleases)).toBe('register');
  });

  it('marks a model PENDING when its deployed release is another, and records the release it deploys', () => {
    const parameters = (name: string) =>
      (definition.States as Record<string, { Parameters: Record<string, unknown> }>)[name]?.Parameters ?? {};
    expect(parameters(STATE.markPending).ConditionExpression).toMatch(/deployedRelease <> :release/);
    expect(parameters(STATE.recordDeployment).UpdateExpression).toMatch(/deployingRelease = :release/);
    expect(parameters(STATE.recordReady).UpdateExpression).toMatch(/deployedRelease = :release/);
    expect(parameters(STATE.recordReady).ExpressionAttributeValues).toMatchObject({ ':release': { S: 'release-2' } });
  });
});
