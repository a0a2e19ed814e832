import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { ApplicationLoadBalancer, ListenerAction } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { EventBus } from 'aws-cdk-lib/aws-events';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ApiFunctions } from '../../infra/constructs/api-functions';
import { ArtifactStore } from '../../infra/constructs/artifact-store';
import { ModelRegistry } from '../../infra/constructs/model-registry';
import { ScoringApi, type ScoringApiProps } from '../../infra/constructs/scoring-api';
import { nagFindings } from '../helpers/nag';

type ApiOptions = Pick<
  ScoringApiProps,
  'webAclArn' | 'domainName' | 'certificateArn' | 'hostedZoneId' | 'hostedZoneName'
>;

const WEB_ACL_ARN = 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/mlserve/0a1b2c3d-1111-2222-3333-444455556666';
const CERTIFICATE_ARN = 'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666';

/** A stack holding the API and its functions with the network, load balancer, table, bus and bucket they are given. */
function apiStack(app: App, options: ApiOptions = {}) {
  const stack = new Stack(app, 'Api', { env: { account: '123456789012', region: 'eu-west-1' } });
  const vpc = new Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const alb = new ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: false });
  const listener = alb.addListener('Http', { port: 80, open: false, defaultAction: ListenerAction.fixedResponse(404) });
  const registry = new ModelRegistry(stack, 'Registry');
  const artifacts = new ArtifactStore(stack, 'Artifacts');
  const functions = new ApiFunctions(stack, 'ApiFunctions', {
    table: registry.table,
    eventBus: new EventBus(stack, 'Bus'),
    artifactReadPolicy: artifacts.readPolicy,
    sourceRoots: 's3://bucket/models',
    servingLogGroupName: '/mlserve/model-hosts',
  });
  const api = new ScoringApi(stack, 'ScoringApi', {
    functions,
    loadBalancer: alb,
    listener,
    vpc,
    vpcLinkSubnets: { subnetType: SubnetType.PUBLIC },
    ...options,
  });
  return { stack, api };
}

/** The API's and its functions' construct paths, whose nag findings the tests judge. */
const OWN = ['/ApiFunctions/', '/ScoringApi/'];

/** The rule ids acknowledged anywhere under `scope`. */
function acknowledgedRules(scope: IConstruct): string[] {
  return scope.node
    .findAll()
    .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
    .flatMap((m) => Object.keys(m.data as Record<string, string>));
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

  it('sends scoring through a VPC link (v2) to the load balancer listener', () => {
    const only = (type: string) => {
      const ids = Object.keys(template.findResources(type));
      expect(ids).toHaveLength(1);
      return ids[0] as string;
    };
    const link = only('AWS::ApiGatewayV2::VpcLink');
    const listener = only('AWS::ElasticLoadBalancingV2::Listener');
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'ANY',
      RequestParameters: { 'method.request.path.name': true, 'method.request.path.proxy': true },
      Integration: Match.objectLike({
        Type: 'HTTP_PROXY',
        IntegrationHttpMethod: 'ANY',
        ConnectionType: 'VPC_LINK',
        ConnectionId: { Ref: link },
        IntegrationTarget: { Ref: listener },
        Uri: { 'Fn::Join': ['', ['http://', Match.anyValue(), '/model/{name}/{proxy}']] },
        RequestParameters: {
          'integration.request.path.name': 'method.request.path.name',
          'integration.request.path.proxy': 'method.request.path.proxy',
        },
        TimeoutInMillis: 29000,
      }),
    });
  });

  it('lets the VPC link reach only the load balancer, on its listener port', () => {
    const [link] = Object.values(template.findResources('AWS::ApiGatewayV2::VpcLink')) as {
      Properties: { SecurityGroupIds: { 'Fn::GetAtt': [string, string] }[]; SubnetIds: unknown[] };
    }[];
    const group = link?.Properties.SecurityGroupIds[0]?.['Fn::GetAtt'][0] as string;
    expect(link?.Properties.SubnetIds).toHaveLength(2);
    // Its only egress rule is the one to the load balancer (CloudFormation drops a group's
    // default allow-all rule once an egress rule resource exists for it).
    const resources = template.toJSON().Resources as Record<string, { Properties: { SecurityGroupEgress?: unknown } }>;
    expect(resources[group]?.Properties.SecurityGroupEgress).toBeUndefined();
    const egress = Object.values(template.findResources('AWS::EC2::SecurityGroupEgress')) as {
      Properties: { GroupId: unknown };
    }[];
    expect(egress.filter((e) => JSON.stringify(e.Properties.GroupId).includes(group))).toHaveLength(1);
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      GroupId: { 'Fn::GetAtt': [group, 'GroupId'] },
      IpProtocol: 'tcp',
      FromPort: 80,
      ToPort: 80,
      DestinationSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Alb'), 'GroupId'] },
    });
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
      }, OWN),
    ).toEqual([]);
    expect(name).toBe('mlserve');
  }, 120_000);

  it('acknowledges AwsSolutions-APIG3 (no WAF) only while no web ACL is configured, and associates none', () => {
    const { stack, api } = apiStack(new App());
    Template.fromStack(stack).resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
    expect(acknowledgedRules(api)).toContain('AwsSolutions::AwsSolutions-APIG3');
  });
});

describe('ScoringApi with a WAF web ACL', () => {
  it('associates the web ACL with the API stage', () => {
    const { stack } = apiStack(new App(), { webAclArn: WEB_ACL_ARN });
    const template = Template.fromStack(stack);
    const [stageId] = Object.keys(template.findResources('AWS::ApiGateway::Stage'));
    const [apiId] = Object.keys(template.findResources('AWS::ApiGateway::RestApi'));
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      WebACLArn: WEB_ACL_ARN,
      ResourceArn: {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':apigateway:eu-west-1::/restapis/',
            { Ref: apiId },
            '/stages/',
            { Ref: stageId },
          ],
        ],
      },
    });
  });

  it('then satisfies AwsSolutions-APIG3 instead of acknowledging it', () => {
    let acknowledged: string[] = [];
    const findings = nagFindings((app) => {
      acknowledged = acknowledgedRules(apiStack(app, { webAclArn: WEB_ACL_ARN }).api);
    }, OWN);
    expect(acknowledged).not.toContain('AwsSolutions::AwsSolutions-APIG3');
    expect(findings).toEqual([]);
  }, 120_000);
});

describe('ScoringApi with a custom domain', () => {
  const { stack, api } = apiStack(new App(), {
    domainName: 'models.example.com',
    certificateArn: CERTIFICATE_ARN,
    hostedZoneId: 'Z0123456789ABCDEFGHIJ',
    hostedZoneName: 'example.com',
  });
  const template = Template.fromStack(stack);

  it('serves the API on a REGIONAL domain name with TLS 1.2 and the given certificate', () => {
    template.hasResourceProperties('AWS::ApiGateway::DomainName', {
      DomainName: 'models.example.com',
      EndpointConfiguration: { Types: ['REGIONAL'] },
      RegionalCertificateArn: CERTIFICATE_ARN,
      SecurityPolicy: 'TLS_1_2',
    });
    expect(api.customDomain?.domainName).toBeDefined();
  });

  it("maps the domain's root to the API's stage", () => {
    const [domainId] = Object.keys(template.findResources('AWS::ApiGateway::DomainName'));
    const [apiId] = Object.keys(template.findResources('AWS::ApiGateway::RestApi'));
    const [stageId] = Object.keys(template.findResources('AWS::ApiGateway::Stage'));
    template.resourceCountIs('AWS::ApiGateway::BasePathMapping', 1);
    template.hasResourceProperties('AWS::ApiGateway::BasePathMapping', {
      DomainName: { Ref: domainId },
      RestApiId: { Ref: apiId },
      Stage: { Ref: stageId },
    });
    const [mapping] = Object.values(template.findResources('AWS::ApiGateway::BasePathMapping')) as {
      Properties: { BasePath?: string };
    }[];
    expect(mapping?.Properties.BasePath).toBeUndefined();
  });

  it('makes an alias A record in the hosted zone, pointing at the regional domain', () => {
    const [domainId] = Object.keys(template.findResources('AWS::ApiGateway::DomainName'));
    template.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'models.example.com.',
      Type: 'A',
      HostedZoneId: 'Z0123456789ABCDEFGHIJ',
      AliasTarget: {
        DNSName: { 'Fn::GetAtt': [domainId, 'RegionalDomainName'] },
        HostedZoneId: { 'Fn::GetAtt': [domainId, 'RegionalHostedZoneId'] },
      },
    });
  });

  it('makes no record without a hosted zone', () => {
    const bare = Template.fromStack(
      apiStack(new App(), { domainName: 'models.example.com', certificateArn: CERTIFICATE_ARN }).stack,
    );
    bare.resourceCountIs('AWS::ApiGateway::DomainName', 1);
    bare.resourceCountIs('AWS::Route53::RecordSet', 0);
  });

  it('refuses a domain without its certificate, a certificate without its domain, and half a hosted zone', () => {
    expect(() => apiStack(new App(), { domainName: 'models.example.com' })).toThrow(
      /needs both domainName and certificateArn/,
    );
    expect(() => apiStack(new App(), { certificateArn: CERTIFICATE_ARN })).toThrow(
      /needs both domainName and certificateArn/,
    );
    expect(() =>
      apiStack(new App(), {
        domainName: 'models.example.com',
        certificateArn: CERTIFICATE_ARN,
        hostedZoneId: 'Z0123456789ABCDEFGHIJ',
      }),
    ).toThrow(/needs both hostedZoneId and hostedZoneName/);
    expect(() =>
      apiStack(new App(), {
        domainName: 'models.example.org',
        certificateArn: CERTIFICATE_ARN,
        hostedZoneId: 'Z0123456789ABCDEFGHIJ',
        hostedZoneName: 'example.com',
      }),
    ).toThrow(/'models.example.org' is not in the hosted zone 'example.com'/);
  });

  it("passes cdk-nag's AWS Solutions checks for its own resources", () => {
    expect(
      nagFindings((app) => {
        apiStack(app, {
          webAclArn: WEB_ACL_ARN,
          domainName: 'models.example.com',
          certificateArn: CERTIFICATE_ARN,
          hostedZoneId: 'Z0123456789ABCDEFGHIJ',
          hostedZoneName: 'example.com',
        });
      }, OWN),
    ).toEqual([]);
  }, 120_000);
});
