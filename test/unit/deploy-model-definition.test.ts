import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { buildDeployModelDefinition, type DeployModelSettings, STATE } from '../../core/deploy/deploy-model-definition';

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
const states = definition.States as Record<
  string,
  { Type: string; Resource?: string; Next?: string; Default?: string }
>;

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

  it('names every state it moves to', () => {
    for (const state of Object.values(states)) {
      for (const next of [state.Next, state.Default]) if (next) expect(states).toHaveProperty([next]);
    }
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
