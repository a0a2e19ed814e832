import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Port, SecurityGroup, SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { Cluster } from 'aws-cdk-lib/aws-ecs';
import { ApplicationLoadBalancer, ListenerAction } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { buildDeployModelDefinition } from '../../core/deploy/deploy-model-definition';
import { DeployWorkflow } from '../../infra/constructs/deploy-workflow';
import { ModelRegistry } from '../../infra/constructs/model-registry';

/** A stack holding the workflow with the VPC, cluster and listener it is given. */
function workflowStack(app: App) {
  const stack = new Stack(app, 'Workflow', { env: { account: '123456789012', region: 'eu-west-1' } });
  const vpc = new Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const cluster = new Cluster(stack, 'Cluster', { vpc, containerInsightsV2: undefined });
  const alb = new ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: false });
  const listener = alb.addListener('Http', { port: 80, open: false, defaultAction: ListenerAction.fixedResponse(404) });
  const tasks = new SecurityGroup(stack, 'Tasks', { vpc, allowAllOutbound: true });
  tasks.connections.allowFrom(alb, Port.tcp(8080));
  const registry = new ModelRegistry(stack, 'Registry');
  const workflow = new DeployWorkflow(stack, 'DeployModel', {
    table: registry.table,
    cluster,
    listener,
    vpc,
    taskSubnets: { subnetType: SubnetType.PUBLIC },
    taskSecurityGroups: [tasks],
    imageUri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/model-host:1',
    sourceRoots: 's3://models-bucket/models',
    assignPublicIp: true,
  });
  return { stack, workflow };
}

describe('DeployWorkflow', () => {
  const { stack } = workflowStack(new App());
  const template = Template.fromStack(stack);

  it('holds the state machine the shared builder makes', () => {
    const machines = template.findResources('AWS::StepFunctions::StateMachine');
    const [machine] = Object.values(machines) as { Properties: { DefinitionString: unknown } }[];
    const text = JSON.stringify(machine?.Properties.DefinitionString);
    const states = Object.keys(
      buildDeployModelDefinition({
        tableName: 't',
        clusterArn: 'c',
        listenerArn: 'l',
        vpcId: 'v',
        subnetIds: [],
        securityGroupIds: [],
        assignPublicIp: false,
        image: 'i',
        executionRoleArn: 'e',
        taskRoleArn: 'r',
        logGroupName: 'g',
        region: 'r',
        containerPort: 8080,
        environment: {},
        pollSeconds: 1,
        maxPolls: 1,
      }).States as object,
    );
    for (const state of states) expect(text).toContain(`\\"${state}\\"`);
  });

  it('traces and logs executions', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL' }),
    });
  });

  it('lets the workflow pass only the serving task roles, only to ECS tasks', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'iam:PassRole',
            Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
          }),
        ]),
      },
    });
  });

  it("passes cdk-nag's AWS Solutions checks (suppressions carry reasons)", () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'mlserve-nag-'));
    try {
      const app = new App({ outdir });
      const built = workflowStack(app);
      Validations.of(built.stack).acknowledge({
        id: 'AwsSolutions::AwsSolutions-VPC7',
        reason: 'Test VPC: flow logs belong to the network construct.',
      });
      Validations.of(built.stack).acknowledge({
        id: 'AwsSolutions::AwsSolutions-ELB2',
        reason: 'Test load balancer: access logs belong to the serving construct.',
      });
      Validations.of(built.stack).acknowledge({
        id: 'AwsSolutions::AwsSolutions-EC23',
        reason: 'Test security groups.',
      });
      Validations.of(built.stack).acknowledge({
        id: 'AwsSolutions::AwsSolutions-ECS4',
        reason: 'Test cluster: Container Insights belongs to the serving construct.',
      });
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      app.synth();
      const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
        pluginReports: {
          conclusion: string;
          violations?: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
        }[];
      };
      const workflowViolations = report.pluginReports
        .flatMap((r) => r.violations ?? [])
        .filter((v) => v.violatingConstructs.some((c) => c.constructPath.includes('/DeployModel/')));
      expect(workflowViolations).toEqual([]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
