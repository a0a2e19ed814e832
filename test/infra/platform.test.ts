import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY_TRIGGERS } from '../../core/deploy/triggers';
import { buildApp } from '../../infra/app';

let outdir: string;
let registry: Template;
let platform: Template;

beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), 'mlserve-app-'));
  const app = buildApp(new App({ outdir }));
  const stack = (id: string) => app.node.findChild(id) as Stack;
  registry = Template.fromStack(stack('MlserveRegistry'));
  platform = Template.fromStack(stack('MlservePlatform'));
}, 180_000);
afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
});

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
}

/** Every IAM statement a template grants, from policies, managed policies and inline role policies. */
function statements(template: Template): { resource: string; statement: Statement }[] {
  const found: { resource: string; statement: Statement }[] = [];
  const collect = (resource: string, document?: { Statement: Statement[] }) => {
    for (const statement of document?.Statement ?? []) found.push({ resource, statement });
  };
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const [id, r] of Object.entries(template.findResources(type)))
      collect(id, (r as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument);
  }
  for (const [id, r] of Object.entries(template.findResources('AWS::IAM::Role'))) {
    const props = (r as { Properties: { Policies?: { PolicyDocument: { Statement: Statement[] } }[] } }).Properties;
    for (const policy of props.Policies ?? []) collect(id, policy.PolicyDocument);
  }
  return found;
}

/** Actions AWS only grants on `*`: they name no resource, or none that exists beforehand. */
const RESOURCELESS_ACTIONS = new Set([
  'ecr:GetAuthorizationToken',
  'ecs:RegisterTaskDefinition',
  'ecs:TagResource',
  'ecs:DescribeTaskDefinition',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'cloudwatch:PutMetricData',
  'cloudwatch:GetMetricData',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
  'elasticloadbalancing:DescribeListeners',
  'elasticloadbalancing:DescribeRules',
  'elasticloadbalancing:DescribeTargetGroups',
  'elasticloadbalancing:DescribeTargetHealth',
  'elasticloadbalancing:DescribeLoadBalancers',
]);

describe('the app', () => {
  it('grants no wildcard action, and `*` resources only for actions AWS scopes no other way', () => {
    const all = [...statements(registry), ...statements(platform)];
    expect(all.length).toBeGreaterThan(20);
    const offending: string[] = [];
    for (const { resource, statement } of all) {
      const actions = ([] as string[]).concat(statement.Action);
      for (const action of actions)
        if (action === '*' || action.endsWith(':*')) offending.push(`${resource}: ${action}`);
      const resources = ([] as unknown[]).concat(statement.Resource ?? []);
      if (statement.Effect === 'Allow' && resources.includes('*')) {
        for (const action of actions)
          if (!RESOURCELESS_ACTIONS.has(action)) offending.push(`${resource}: ${action} on *`);
      }
    }
    expect(offending).toEqual([]);
  });

  it('keeps artifacts in a retained, versioned, encrypted, private, TLS-only bucket with access logs', () => {
    registry.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: Match.anyValue(),
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'artifacts/' }),
      }),
    });
    registry.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it("lets serving tasks keep built environments under the artifact bucket's environments/ prefix only, and tells them where", () => {
    const policies = Object.entries(registry.findResources('AWS::IAM::ManagedPolicy')) as [
      string,
      { Properties: { PolicyDocument: { Statement: Statement[] } } },
    ][];
    const writers = policies.filter(([, p]) =>
      p.Properties.PolicyDocument.Statement.some((st) => ([] as string[]).concat(st.Action).includes('s3:PutObject')),
    );
    expect(writers.map(([id]) => id)).toEqual([expect.stringMatching(/^ArtifactsEnvironmentsPolicy/)]);
    const [, policy] = writers[0] as (typeof writers)[number];
    for (const statement of policy.Properties.PolicyDocument.Statement) {
      const actions = ([] as string[]).concat(statement.Action);
      const resource = JSON.stringify(statement.Resource);
      if (actions.includes('s3:ListBucket')) expect(actions).toEqual(['s3:ListBucket']);
      else expect(resource).toMatch(/"\/environments\/\*"\]/);
    }
    const taskRole = Object.entries(platform.findResources('AWS::IAM::Role')).find(([id]) =>
      id.startsWith('DeployModelTaskRole'),
    );
    expect(JSON.stringify(taskRole?.[1])).toContain('ArtifactsEnvironmentsPolicy');
    const definition = JSON.stringify(platform.findResources('AWS::StepFunctions::StateMachine'));
    // {"Name":"MLSERVE_ENV_ARCHIVE","Value":"s3://<artifact bucket>/environments"}, the bucket imported.
    expect(definition).toMatch(
      /MLSERVE_ENV_ARCHIVE[\\"]+,[\\"]+Value[\\"]+:[\\"]+s3:\/\/",\{"Fn::ImportValue":"[^"]*ArtifactsBucket\w+"\},"\/environments\\/,
    );
  });

  it("puts every API method of the app behind the authorizer, but the web console's page and assets", () => {
    const methods = Object.entries(platform.findResources('AWS::ApiGateway::Method')) as [
      string,
      { Properties: { HttpMethod: string; AuthorizationType: string; ApiKeyRequired?: boolean } },
    ][];
    expect(methods.length).toBeGreaterThanOrEqual(7);
    const open = methods.filter(([, m]) => m.Properties.AuthorizationType !== 'CUSTOM');
    expect(open.map(([id]) => id).sort()).toEqual([
      expect.stringMatching(/^ApiGET[0-9A-F]{8}$/),
      expect.stringMatching(/^ApiassetsproxyGET[0-9A-F]{8}$/),
    ]);
    for (const [, m] of open)
      expect(m.Properties).toMatchObject({ HttpMethod: 'GET', AuthorizationType: 'NONE', ApiKeyRequired: false });
    for (const [, m] of methods.filter(([, m]) => m.Properties.AuthorizationType === 'CUSTOM'))
      expect(m.Properties.ApiKeyRequired).toBe(true);
  });

  it("keeps the logical IDs of the API and its functions, so a deployed stack's are updated, not replaced", () => {
    const ids = (type: string) => Object.keys(platform.findResources(type));
    expect(ids('AWS::ApiGateway::RestApi')).toEqual(['ApiCD79AAA0']);
    expect(ids('AWS::ApiGateway::Stage')).toEqual(['ApiDeploymentStageprod95EFE650']);
    expect(ids('AWS::ApiGateway::Authorizer').sort()).toEqual([
      'ApiApiAuthorizer3C98D580',
      'ApiScoringAuthorizer26F956D2',
    ]);
    expect(ids('AWS::ApiGateway::UsagePlan')).toEqual(['ApiPerToken351A1573']);
    expect(ids('AWS::ApiGatewayV2::VpcLink')).toEqual(['ApiVpcLink623DC6E4']);
    expect(ids('AWS::Lambda::Function')).toEqual(
      expect.arrayContaining([
        'ApiAuthorizer787544C1',
        'ApiRegistry827BA63D',
        'ApiRegistrationCheck95329075',
        'ApiServingC3E5D14E',
        'ApiAccess9F15EABE',
      ]),
    );
    expect(ids('AWS::Logs::LogGroup')).toEqual(
      expect.arrayContaining([
        'ApiAuthorizerLogsC726F6FF',
        'ApiRegistryLogs698ABB14',
        'ApiRegistrationCheckLogs87D63D2F',
        'ApiServingLogsFDAD747F',
        'ApiAccessLogs50B185DB',
        'ApiApiAccessLogs4EAA4C13',
      ]),
    );
  });

  it('serves the web console from its own function on the API, and outputs its URL', () => {
    const outputs = platform.findOutputs('*') as Record<string, { Value: unknown; Description: string }>;
    const [apiId] = Object.keys(platform.findResources('AWS::ApiGateway::RestApi'));
    const [stageId] = Object.keys(platform.findResources('AWS::ApiGateway::Stage'));
    const url = JSON.stringify(outputs.ConsoleUrl?.Value);
    expect(url).toContain(`"Ref":"${apiId}"`);
    expect(url).toContain(`"Ref":"${stageId}"`);
    expect(outputs.StateMachineUrl?.Description).toMatch(/state machine/);
    const functions = Object.entries(platform.findResources('AWS::Lambda::Function')).filter(([id]) =>
      id.startsWith('ConsoleFunction'),
    );
    expect(functions).toHaveLength(1);
  });

  it('starts deploy-model on the registry events, on unexpected task stops, and on a schedule', () => {
    platform.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['mlserve.registry'], 'detail-type': [...DEPLOY_TRIGGERS] },
    });
    platform.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ecs'],
        'detail-type': ['ECS Task State Change'],
        // Stopped tasks of the cluster's model services only (mlserve-<model id>).
        detail: { clusterArn: [Match.anyValue()], lastStatus: ['STOPPED'], group: [{ prefix: 'service:mlserve-' }] },
      },
    });
    platform.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['mlserve.registry'], 'detail-type': ['ModelVersionCreated'] },
    });
    platform.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(5 minutes)' });
  });

  it('makes the first admin token at deploy time, its secret in Secrets Manager, its API key in the usage plan', () => {
    platform.resourceCountIs('AWS::SecretsManager::Secret', 1);
    const resources = Object.values(platform.findResources('AWS::CloudFormation::CustomResource')) as {
      DependsOn?: string[];
    }[];
    expect(resources).toHaveLength(1);
    // The token's API key goes into the per-token usage plan, so the plan and the grant come first.
    const plan = Object.keys(platform.findResources('AWS::ApiGateway::UsagePlan'))[0];
    expect(resources[0]?.DependsOn).toEqual(expect.arrayContaining([plan, expect.stringContaining('TokenKeys')]));
    expect(Object.keys(platform.findOutputs('*')).some((k) => k.includes('AdminTokenSecretArn'))).toBe(true);
  });

  it('keeps every log group for a set time, and gives every function its own', () => {
    const groups = Object.values(platform.findResources('AWS::Logs::LogGroup')) as {
      Properties: { RetentionInDays?: number };
    }[];
    expect(groups.length).toBeGreaterThan(5);
    for (const g of groups) expect(g.Properties.RetentionInDays).toBeGreaterThan(0);
    const functions = Object.values(platform.findResources('AWS::Lambda::Function')) as {
      Properties: { LoggingConfig?: { LogGroup?: unknown } };
    }[];
    expect(functions.length).toBeGreaterThanOrEqual(8);
    for (const f of functions) expect(f.Properties.LoggingConfig?.LogGroup).toBeDefined();
  });

  it('keeps what the deploy triggers cannot handle in a dead-letter queue', () => {
    const [queue] = Object.keys(platform.findResources('AWS::SQS::Queue'));
    const dlq = { 'Fn::GetAtt': [queue, 'Arn'] };
    const rules = Object.values(platform.findResources('AWS::Events::Rule')) as {
      Properties: { Targets: { DeadLetterConfig?: unknown }[] };
    }[];
    expect(rules.length).toBe(3);
    for (const rule of rules)
      for (const target of rule.Properties.Targets) expect(target.DeadLetterConfig).toEqual({ Arn: dlq });
    platform.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({ DeadLetterConfig: { Arn: dlq } }),
    });
    const withDlq = Object.values(platform.findResources('AWS::Lambda::Function')).filter(
      (f) => (f as { Properties: { DeadLetterConfig?: unknown } }).Properties.DeadLetterConfig,
    );
    expect(withDlq).toHaveLength(2);
  });

  it('has the operations dashboard and its five alarms, and outputs the dashboard URL', () => {
    platform.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    platform.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    expect(Object.keys(platform.findOutputs('*')).some((k) => k.includes('DashboardUrl'))).toBe(true);
  });

  it('alarms on the deploy triggers’ dead-letter queue', () => {
    const [queue] = Object.keys(platform.findResources('AWS::SQS::Queue'));
    platform.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('without options: no online stores or package index secret for serving tasks, no web ACL, no custom domain, a new VPC and bucket', () => {
    const machines = JSON.stringify(platform.findResources('AWS::StepFunctions::StateMachine'));
    expect(machines).not.toContain('MLSERVE_ONLINE_STORES');
    expect(machines).not.toContain('MLSERVE_PIP_INDEX_URL');
    const actions = statements(platform).flatMap(({ statement }) => ([] as string[]).concat(statement.Action));
    expect(actions).not.toContain('rds-data:ExecuteStatement');
    expect(actions).not.toContain('secretsmanager:GetSecretValue');
    platform.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
    platform.resourceCountIs('AWS::ApiGateway::DomainName', 0);
    expect(Object.keys(platform.findOutputs('*')).some((k) => k.includes('CustomDomainTarget'))).toBe(false);
    platform.resourceCountIs('AWS::EC2::VPC', 1);
    registry.resourceCountIs('AWS::S3::Bucket', 2);
  });

  it('runs serving on a Container Insights cluster behind an internal load balancer', () => {
    platform.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
    platform.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internal' });
    platform.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
  });
});
