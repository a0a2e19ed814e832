import validateAsl from 'asl-validator';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Port, SecurityGroup, SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { Cluster } from 'aws-cdk-lib/aws-ecs';
import { ApplicationLoadBalancer, ListenerAction } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { describe, expect, it } from 'vitest';
import { buildDeployModelDefinition } from '../../core/deploy/deploy-model';
import { DeployWorkflow, type DeployWorkflowProps } from '../../infra/constructs/deploy-workflow';
import { ModelRegistry } from '../../infra/constructs/model-registry';
import { twinDeploySettings } from '../../twin/twin';
import { nagFindings } from '../helpers/nag';

/** The synthesized definition as a document, each CloudFormation reference as `«ref»`. */
function synthesizedDefinition(template: Template): Record<string, unknown> {
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as {
    Properties: { DefinitionString: string | { 'Fn::Join': [string, unknown[]] } };
  }[];
  const body = machine?.Properties.DefinitionString;
  const text =
    typeof body === 'string'
      ? body
      : (body?.['Fn::Join'][1] ?? []).map((part) => (typeof part === 'string' ? part : '«ref»')).join('');
  return JSON.parse(text) as Record<string, unknown>;
}

/**
 * Where two definitions differ, given the twin's settings: every difference must be one of those
 * settings' values (a name, an ARN, a count), never a state, a transition, a path or a key.
 */
function structuralDifferences(twin: unknown, aws: unknown, settings: Set<string>, at = '$'): string[] {
  const isSetting = (v: unknown) =>
    settings.has(String(v)) || (typeof v === 'string' && [...settings].some((x) => x.length > 2 && v.includes(x)));
  if (Array.isArray(twin) && Array.isArray(aws)) {
    if (twin.length !== aws.length) return twin.every(isSetting) ? [] : [`${at}: lengths differ`];
    return twin.flatMap((t, i) => structuralDifferences(t, aws[i], settings, `${at}[${i}]`));
  }
  if (twin && aws && typeof twin === 'object' && typeof aws === 'object') {
    const a = Object.keys(twin).sort();
    const b = Object.keys(aws).sort();
    if (a.join() !== b.join()) return [`${at}: keys ${a.join()} vs ${b.join()}`];
    return a.flatMap((k) =>
      structuralDifferences(
        (twin as Record<string, unknown>)[k],
        (aws as Record<string, unknown>)[k],
        settings,
        `${at}.${k}`,
      ),
    );
  }
  if (twin === aws || isSetting(twin)) return [];
  return [`${at}: ${JSON.stringify(twin)} vs ${JSON.stringify(aws)}`];
}

/** A stack holding the workflow with the VPC, cluster and listener it is given. */
function workflowStack(
  app: App,
  options: Pick<DeployWorkflowProps, 'taskEnvironment' | 'environmentArchive' | 'pipIndexSecretArn'> = {},
) {
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
    release: 'release-1',
    ...options,
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
        release: 'x',
        pollSeconds: 1,
        maxPolls: 1,
      }).States as object,
    );
    for (const state of states) expect(text).toContain(`\\"${state}\\"`);
  });

  it('synthesizes a definition that passes the ASL validator', () => {
    const result = validateAsl(synthesizedDefinition(template));
    expect(result.errorsText(), result.errorsText()).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('is the document the twin executes, differing only in deployment values', () => {
    const settings = twinDeploySettings('file:///models', 480);
    const twin = buildDeployModelDefinition(settings);
    expect(validateAsl(structuredClone(twin)).isValid).toBe(true);
    const values = new Set([
      ...Object.values(settings).flatMap((v) =>
        Array.isArray(v) ? v.map(String) : typeof v === 'object' ? Object.values(v).map(String) : [String(v)],
      ),
      // assignPublicIp, as ECS spells it
      settings.assignPublicIp ? 'ENABLED' : 'DISABLED',
    ]);
    const aws = synthesizedDefinition(template);
    expect(structuralDifferences(twin, aws, values)).toEqual([]);
    // And the comparison can fail: a renamed state or a changed path is caught.
    const altered = structuredClone(aws) as { StartAt: string; States: Record<string, unknown> };
    altered.StartAt = 'Elsewhere';
    expect(structuralDifferences(twin, altered, values)).not.toEqual([]);
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
    const findings = nagFindings((app) => {
      workflowStack(app);
    }, '/DeployModel/');
    expect(findings).toEqual([]);
  });

  it('gives serving tasks the extra environment, but never lets it replace the workflow’s own variables', () => {
    const extra = Template.fromStack(
      workflowStack(new App(), { taskEnvironment: { MLSERVE_ONLINE_STORES: '{"stores":{}}' } }).stack,
    );
    expect(JSON.stringify(synthesizedDefinition(extra))).toContain(
      '{"Name":"MLSERVE_ONLINE_STORES","Value":"{\\"stores\\":{}}"}',
    );
    expect(() => workflowStack(new App(), { taskEnvironment: { REGISTRY_TABLE: 'elsewhere' } })).toThrow(
      /taskEnvironment may not set the workflow's own REGISTRY_TABLE/,
    );
  });

  it('tells serving tasks their release, and where built environments are kept when given', () => {
    expect(JSON.stringify(synthesizedDefinition(template))).toContain('{"Name":"MLSERVE_RELEASE","Value":"release-1"}');
    expect(JSON.stringify(synthesizedDefinition(template))).not.toContain('MLSERVE_ENV_ARCHIVE');
    const kept = Template.fromStack(
      workflowStack(new App(), { environmentArchive: 's3://models-bucket/environments' }).stack,
    );
    expect(JSON.stringify(synthesizedDefinition(kept))).toContain(
      '{"Name":"MLSERVE_ENV_ARCHIVE","Value":"s3://models-bucket/environments"}',
    );
    expect(() =>
      workflowStack(new App(), {
        taskEnvironment: { MLSERVE_ENV_ARCHIVE: 's3://elsewhere/x' },
        environmentArchive: 's3://models-bucket/environments',
      }),
    ).toThrow(/may not set the workflow's own MLSERVE_ENV_ARCHIVE/);
    expect(() => workflowStack(new App(), { taskEnvironment: { MLSERVE_RELEASE: 'r' } })).toThrow(
      /own MLSERVE_RELEASE/,
    );
  });

  describe('with a package index secret', () => {
    const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mlserve/pip-index-AbCdEf';
    const indexed = Template.fromStack(workflowStack(new App(), { pipIndexSecretArn: SECRET }).stack);
    /** The statements of the policies attached to the serving task role. */
    const taskRoleStatements = (t: Template) => {
      const [taskRole] = Object.keys(t.findResources('AWS::IAM::Role')).filter((id) => id.includes('TaskRole'));
      const policies = Object.values(t.findResources('AWS::IAM::Policy')) as {
        Properties: {
          Roles: { Ref: string }[];
          PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] };
        };
      }[];
      return policies
        .filter((p) => p.Properties.Roles.some((r) => r.Ref === taskRole))
        .flatMap((p) => p.Properties.PolicyDocument.Statement);
    };
    const secretReads = (t: Template) =>
      taskRoleStatements(t).filter((st) =>
        ([] as unknown[]).concat(st.Action).includes('secretsmanager:GetSecretValue'),
      );

    it('tells serving tasks the secret, and lets their role read exactly that secret', () => {
      expect(JSON.stringify(synthesizedDefinition(indexed))).toContain(
        `{"Name":"MLSERVE_PIP_INDEX_URL_SECRET_ARN","Value":"${SECRET}"}`,
      );
      expect(secretReads(indexed)).toEqual([
        expect.objectContaining({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: SECRET }),
      ]);
    });

    it('gives neither the variable nor the grant without one', () => {
      expect(taskRoleStatements(template).length).toBeGreaterThan(0);
      expect(secretReads(template)).toEqual([]);
      expect(JSON.stringify(synthesizedDefinition(template))).not.toContain('MLSERVE_PIP_INDEX_URL');
    });

    it('lets the extra environment set neither the secret nor an index URL beside it', () => {
      for (const name of ['MLSERVE_PIP_INDEX_URL_SECRET_ARN', 'MLSERVE_PIP_INDEX_URL'])
        expect(() =>
          workflowStack(new App(), { pipIndexSecretArn: SECRET, taskEnvironment: { [name]: 'https://x.example' } }),
        ).toThrow(new RegExp(`may not set the workflow's own ${name}$`));
    });

    it("passes cdk-nag's AWS Solutions checks", () => {
      const findings = nagFindings((app) => {
        workflowStack(app, { pipIndexSecretArn: SECRET });
      }, '/DeployModel/');
      expect(findings).toEqual([]);
    });
  });
});
