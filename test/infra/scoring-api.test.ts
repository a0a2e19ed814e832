import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { ApplicationLoadBalancer, ListenerAction } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../infra/constructs/artifact-store';
import { ModelRegistry } from '../../infra/constructs/model-registry';
import { ScoringApi } from '../../infra/constructs/scoring-api';
import { nagFindings } from '../helpers/nag';

/** A stack holding the API with the network, load balancer, table, bus and bucket it is given. */
function apiStack(app: App) {
  const stack = new Stack(app, 'Api', { env: { account: '123456789012', region: 'eu-west-1' } });
  const vpc = new Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const alb = new ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: false });
  const listener = alb.addListener('Http', { port: 80, open: false, defaultAction: ListenerAction.fixedResponse(404) });
  const registry = new ModelRegistry(stack, 'Registry');
  const artifacts = new ArtifactStore(stack, 'Artifacts');
  const api = new ScoringApi(stack, 'ScoringApi', {
    table: registry.table,
    eventBus: new EventBus(stack, 'Bus'),
    artifactReadPolicy: artifacts.readPolicy,
    sourceRoots: 's3://bucket/models',
    servingLogGroupName: '/mlserve/model-hosts',
    loadBalancer: alb,
    listener,
    vpc,
    vpcLinkSubnets: { subnetType: SubnetType.PUBLIC },
  });
  return { stack, api };
}

describe('ScoringApi', () => {
  let template: Template;
  beforeAll(() => {
    template = Template.fromStack(apiStack(new App()).stack);
  }, 120_000);

  it('puts every method behind the REQUEST authorizer, per-token API keys coming from the authorizer', () => {
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')) as {
      Properties: { HttpMethod: string; AuthorizationType: string; ApiKeyRequired: boolean };
    }[];
    expect(methods.length).toBe(5);
    for (const m of methods) expect(m.Properties).toMatchObject({ AuthorizationType: 'CUSTOM', ApiKeyRequired: true });
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { ApiKeySourceType: 'AUTHORIZER' });
  });

  it('lets the tokens API make, plan and delete the per-token API keys, finding the plan by name', () => {
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: 'Api-per-token',
      Throttle: { RateLimit: 50, BurstLimit: 100 },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Environment: { Variables: Match.objectLike({ USAGE_PLAN_NAME: 'Api-per-token' }) },
    });
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as {
      Properties: { PolicyName: string; PolicyDocument: { Statement: { Action: string | string[] }[] } };
    }[];
    const keys = policies.find((p) => p.Properties.PolicyName.includes('TokenKeys'));
    expect(keys?.Properties.PolicyDocument.Statement.map((st) => st.Action)).toEqual([
      'apigateway:GET',
      'apigateway:POST',
      'apigateway:DELETE',
    ]);
  });

  it('keys scoring decisions by token and model, API decisions by token', () => {
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'REQUEST',
      IdentitySource: 'method.request.header.Authorization,method.request.path.name',
      AuthorizerResultTtlInSeconds: 60,
    });
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'REQUEST',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: 60,
    });
  });

  it('sends scoring through a VPC link to the load balancer listener', () => {
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      Integration: Match.objectLike({
        ConnectionType: 'VPC_LINK',
        ConnectionId: Match.anyValue(),
        IntegrationTarget: Match.anyValue(),
        Type: 'HTTP_PROXY',
      }),
    });
    template.resourceCountIs('AWS::ApiGatewayV2::VpcLink', 1);
  });

  it('answers refusals in JSON', () => {
    for (const [type, status] of [
      ['UNAUTHORIZED', '401'],
      ['ACCESS_DENIED', '403'],
      ['THROTTLED', '429'],
      ['REQUEST_TOO_LARGE', '413'],
    ]) {
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        StatusCode: status,
        ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"error_code"') },
      });
    }
  });

  it('runs Node 22 Lambdas on arm64 with tracing', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as {
      Properties: { Runtime: string; Architectures: string[]; TracingConfig?: { Mode: string } };
    }[];
    const ours = functions.filter((f) => f.Properties.Runtime === 'nodejs22.x');
    expect(ours).toHaveLength(5);
    for (const f of ours)
      expect(f.Properties).toMatchObject({ Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } });
  });

  it("passes cdk-nag's AWS Solutions checks for its own resources (suppressions carry reasons)", () => {
    let name = '';
    expect(
      nagFindings((app) => {
        name = apiStack(app).api.api.restApiName;
      }, '/ScoringApi/'),
    ).toEqual([]);
    expect(name).toBe('mlserve');
  }, 120_000);
});
