import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  ApiKeySourceType,
  AuthorizationType,
  type CfnMethod,
  type DomainName,
  EndpointType,
  HttpIntegration,
  IdentitySource,
  type IResource,
  LambdaIntegration,
  LogGroupLogDestination,
  type Method,
  MethodLoggingLevel,
  RequestAuthorizer,
  ResponseType,
  RestApi,
  SecurityPolicy,
  type UsagePlan,
} from 'aws-cdk-lib/aws-apigateway';
import { CfnVpcLink } from 'aws-cdk-lib/aws-apigatewayv2';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { type IVpc, Port, SecurityGroup, type SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import type { IApplicationListener, IApplicationLoadBalancer } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ARecord, HostedZone, RecordTarget } from 'aws-cdk-lib/aws-route53';
import { ApiGatewayDomain } from 'aws-cdk-lib/aws-route53-targets';
import { CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import type { ApiFunctions } from './api-functions';
import type { MlserveFunction } from './mlserve-function';

export interface ScoringApiProps {
  /** The functions the API routes to and authorizes with (their cache TTL is the authorizers'). */
  readonly functions: ApiFunctions;
  /** The internal load balancer in front of the serving tasks, and its listener. */
  readonly loadBalancer: IApplicationLoadBalancer;
  readonly listener: IApplicationListener;
  readonly vpc: IVpc;
  /** Subnets of the VPC link's network interfaces. */
  readonly vpcLinkSubnets: SubnetSelection;
  /**
   * Stage-wide request rate and burst.
   * @default 200 requests per second, burst 400
   */
  readonly throttleRatePerSecond?: number;
  readonly throttleBurst?: number;
  /**
   * Per-token rate (usage plan; each token's API key counts against it).
   * @default 50 requests per second, burst 100
   */
  readonly perTokenRatePerSecond?: number;
  readonly perTokenBurst?: number;
  /**
   * Require each request's token to have its API key in the per-token usage plan (the tokens API
   * and the admin bootstrap make one per token, value `mlserve-token-<token_id>`, and delete it
   * when the token is revoked). Turn it off only to run without per-token limits.
   * @default true
   */
  readonly enforcePerTokenLimits?: boolean;
  /**
   * The ARN of an AWS WAF (v2, regional scope) web ACL to associate with the API's stage.
   * @default - no web ACL
   */
  readonly webAclArn?: string;
  /**
   * A custom domain name for the API (REGIONAL endpoint, TLS 1.2, mapped from its root to the
   * API's stage). Needs `certificateArn`.
   * @default - the API answers on its execute-api URL only
   */
  readonly domainName?: string;
  /**
   * The ARN of the ACM certificate for `domainName`, in the API's region. Needs `domainName`.
   * @default - no custom domain
   */
  readonly certificateArn?: string;
  /**
   * The id of the Route 53 public hosted zone in which to make an alias A record from
   * `domainName` to the API's regional domain. Needs `hostedZoneName` and `domainName`.
   * @default - no DNS record: point `domainName` at `customDomain.domainNameAliasDomainName` yourself
   */
  readonly hostedZoneId?: string;
  /**
   * The name of the hosted zone `hostedZoneId` (e.g. `example.com`); `domainName` must be in it.
   * @default - no DNS record
   */
  readonly hostedZoneName?: string;
}

/** Custom-domain props come in pairs: a name with its certificate, a zone id with its name. */
function validateDomainProps(props: ScoringApiProps): void {
  const given = (v: string | undefined) => v !== undefined && v !== '';
  if (given(props.domainName) !== given(props.certificateArn))
    throw new Error(
      'ScoringApi: a custom domain needs both domainName and certificateArn (mlserve:domainName and mlserve:certificateArn)',
    );
  if (given(props.hostedZoneId) !== given(props.hostedZoneName))
    throw new Error(
      'ScoringApi: a DNS record needs both hostedZoneId and hostedZoneName (mlserve:hostedZoneId and mlserve:hostedZoneName)',
    );
  if (given(props.hostedZoneId) && !given(props.domainName))
    throw new Error('ScoringApi: hostedZoneId and hostedZoneName need a custom domain (domainName and certificateArn)');
  const domain = props.domainName?.toLowerCase().replace(/\.$/, '');
  const zone = props.hostedZoneName?.toLowerCase().replace(/\.$/, '');
  if (
    domain &&
    zone &&
    !Token.isUnresolved(domain) &&
    !Token.isUnresolved(zone) &&
    domain !== zone &&
    !domain.endsWith(`.${zone}`)
  )
    throw new Error(`ScoringApi: domainName '${props.domainName}' is not in the hosted zone '${props.hostedZoneName}'`);
}

/**
 * AwsSolutions-COG4 (no Cognito authorizer), acknowledged method by method, so a method added
 * to the API elsewhere (the web console's public ones) answers for itself.
 */
function acknowledgeTokenAuthorizer(method: Method): void {
  Validations.of(method).acknowledge({
    id: 'AwsSolutions::AwsSolutions-COG4',
    reason: 'The method uses mlserve’s Lambda REQUEST authorizer (tokens), not Cognito.',
  });
}

/** The JSON body API Gateway answers with when it refuses a request itself. */
const errorTemplate = (code: string) => `{"error_code": "${code}", "message": $context.error.messageString}`;

/**
 * The REST API: every route behind the one Lambda REQUEST authorizer, in two configurations so
 * a cached answer can only ever apply to what it decided (docs/security.md, "The authorizer and its
 * caches"): scoring routes key the cache by token *and* model; API routes by token, with the
 * per-model decision in each handler. Scoring goes through a VPC link (v2) to the internal load
 * balancer, where each enabled model has its listener rule. The functions it routes to are
 * `ApiFunctions`; this construct attaches them, the authorizers, the stage and its limits.
 */
export class ScoringApi extends Construct {
  public readonly api: RestApi;
  /** The per-token usage plan; every token's API key is in it. */
  public readonly usagePlan: UsagePlan;
  /**
   * The plan's name, which functions find it by: its id in a function's environment would make
   * the API's deployment depend on the function it routes to, a cycle.
   */
  public readonly usagePlanName: string;
  /** The custom domain name, when one is configured (its regional domain is the DNS target). */
  public readonly customDomain?: DomainName;
  /** The alias record in the hosted zone, when one is configured. */
  public readonly aliasRecord?: ARecord;
  /** The stage's web ACL association, when a web ACL is configured. */
  public readonly webAclAssociation?: CfnWebACLAssociation;

  constructor(scope: Construct, id: string, props: ScoringApiProps) {
    super(scope, id);
    validateDomainProps(props);
    const { functions } = props;
    const ttl = functions.authCacheTtl;
    const stack = Stack.of(this);

    const accessLogs = new LogGroup(this, 'ApiAccessLogs', {
      retention: RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api = new RestApi(this, 'Api', {
      restApiName: 'mlserve',
      description: 'mlserve: MLflow model registry, serving control and scoring',
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      apiKeySourceType: ApiKeySourceType.AUTHORIZER,
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.DESTROY,
      deployOptions: {
        stageName: 'prod',
        tracingEnabled: true,
        loggingLevel: MethodLoggingLevel.ERROR,
        metricsEnabled: true,
        throttlingRateLimit: props.throttleRatePerSecond ?? 200,
        throttlingBurstLimit: props.throttleBurst ?? 400,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
      },
    });

    const apiAuthorizer = new RequestAuthorizer(this, 'ApiAuthorizer', {
      handler: functions.authorizer,
      identitySources: [IdentitySource.header('Authorization')],
      resultsCacheTtl: ttl,
    });
    const scoringAuthorizer = new RequestAuthorizer(this, 'ScoringAuthorizer', {
      handler: functions.authorizer,
      // The model is part of the cache key: a cached answer for model A is never used for model B.
      identitySources: [IdentitySource.header('Authorization'), 'method.request.path.name'],
      resultsCacheTtl: ttl,
    });

    // ---- the APIs: Lambda proxy integrations
    const api = this.api.root.addResource('api').addResource('2.0');
    const route = (parent: IResource, pathParts: string[], fn: MlserveFunction) => {
      let resource: IResource = parent;
      for (const part of pathParts) resource = resource.getResource(part) ?? resource.addResource(part);
      const method = resource.addResource('{proxy+}').addMethod('ANY', new LambdaIntegration(fn), {
        authorizer: apiAuthorizer,
        authorizationType: AuthorizationType.CUSTOM,
        apiKeyRequired: props.enforcePerTokenLimits ?? true,
      });
      acknowledgeTokenAuthorizer(method);
    };
    route(api, ['mlflow'], functions.registry);
    route(api, ['preview', 'mlflow', 'endpoints'], functions.serving);
    route(api, ['tokens'], functions.access);
    route(api, ['permissions'], functions.access);

    // ---- scoring: /model/{name}/{proxy+} through the VPC link to the load balancer's listener
    const linkSecurityGroup = new SecurityGroup(this, 'VpcLinkSecurityGroup', {
      vpc: props.vpc,
      description: 'mlserve API Gateway VPC link to the internal load balancer',
      allowAllOutbound: false,
    });
    linkSecurityGroup.connections.allowTo(props.loadBalancer, Port.tcp(80), 'the load balancer listener');
    const vpcLink = new CfnVpcLink(this, 'VpcLink', {
      name: `${stack.stackName}-scoring`,
      subnetIds: props.vpc.selectSubnets(props.vpcLinkSubnets).subnetIds,
      securityGroupIds: [linkSecurityGroup.securityGroupId],
    });
    const scoring = this.api.root.addResource('model').addResource('{name}').addResource('{proxy+}');
    const method: Method = scoring.addMethod(
      'ANY',
      new HttpIntegration(`http://${props.loadBalancer.loadBalancerDnsName}/model/{name}/{proxy}`, {
        httpMethod: 'ANY',
        proxy: true,
        options: {
          requestParameters: {
            'integration.request.path.name': 'method.request.path.name',
            'integration.request.path.proxy': 'method.request.path.proxy',
          },
          timeout: Duration.seconds(29),
        },
      }),
      {
        authorizer: scoringAuthorizer,
        authorizationType: AuthorizationType.CUSTOM,
        apiKeyRequired: props.enforcePerTokenLimits ?? true,
        requestParameters: { 'method.request.path.name': true, 'method.request.path.proxy': true },
      },
    );
    acknowledgeTokenAuthorizer(method);
    // A private integration with an ALB: a VPC link (v2) plus the listener as integration target.
    const cfnMethod = method.node.defaultChild as CfnMethod;
    cfnMethod.addPropertyOverride('Integration.ConnectionType', 'VPC_LINK');
    cfnMethod.addPropertyOverride('Integration.ConnectionId', vpcLink.ref);
    cfnMethod.addPropertyOverride('Integration.IntegrationTarget', props.listener.listenerArn);

    // ---- refusals are JSON, as the twin answers them
    const responses: [ResponseType, string, string][] = [
      [ResponseType.UNAUTHORIZED, '401', 'UNAUTHENTICATED'],
      [ResponseType.MISSING_AUTHENTICATION_TOKEN, '404', 'ENDPOINT_NOT_FOUND'],
      [ResponseType.ACCESS_DENIED, '403', 'PERMISSION_DENIED'],
      [ResponseType.INVALID_API_KEY, '401', 'UNAUTHENTICATED'],
      [ResponseType.REQUEST_TOO_LARGE, '413', 'BAD_REQUEST'],
      [ResponseType.THROTTLED, '429', 'REQUEST_LIMIT_EXCEEDED'],
      [ResponseType.QUOTA_EXCEEDED, '429', 'REQUEST_LIMIT_EXCEEDED'],
      [ResponseType.DEFAULT_4XX, '400', 'BAD_REQUEST'],
      [ResponseType.DEFAULT_5XX, '502', 'TEMPORARILY_UNAVAILABLE'],
    ];
    for (const [type, statusCode, code] of responses) {
      this.api.addGatewayResponse(`Json${code}${statusCode}${type.responseType}`, {
        type,
        statusCode: type === ResponseType.DEFAULT_4XX || type === ResponseType.DEFAULT_5XX ? undefined : statusCode,
        templates: { 'application/json': errorTemplate(code) },
      });
    }

    // ---- per-token limits: each token's API key (`mlserve-token-<id>`) is in this usage plan
    this.usagePlanName = `${stack.stackName}-per-token`;
    this.usagePlan = this.api.addUsagePlan('PerToken', {
      name: this.usagePlanName,
      description: 'Per-token request limits (the authorizer returns the token’s API key).',
      throttle: { rateLimit: props.perTokenRatePerSecond ?? 50, burstLimit: props.perTokenBurst ?? 100 },
      apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
    });
    functions.access.addEnvironment('USAGE_PLAN_NAME', this.usagePlanName);
    this.grantTokenKeys(functions.access);

    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason: "API Gateway's account role for stage logs uses AWS's AmazonAPIGatewayPushToCloudWatchLogs.",
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions::AwsSolutions-APIG2',
      reason: 'Each handler validates its requests with a schema and answers MLflow-style JSON errors.',
    });
    if (props.webAclArn) {
      this.webAclAssociation = new CfnWebACLAssociation(this, 'WebAcl', {
        resourceArn: this.api.deploymentStage.stageArn,
        webAclArn: props.webAclArn,
      });
    } else {
      Validations.of(this).acknowledge({
        id: 'AwsSolutions::AwsSolutions-APIG3',
        reason: 'No WAF web ACL is configured (optional: -c mlserve:webAclArn=<arn> associates one with the stage).',
      });
    }

    if (props.domainName && props.certificateArn) {
      this.customDomain = this.api.addDomainName('CustomDomain', {
        domainName: props.domainName,
        certificate: Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn),
        endpointType: EndpointType.REGIONAL,
        securityPolicy: SecurityPolicy.TLS_1_2,
      });
      if (props.hostedZoneId && props.hostedZoneName) {
        this.aliasRecord = new ARecord(this, 'AliasRecord', {
          zone: HostedZone.fromHostedZoneAttributes(this, 'Zone', {
            hostedZoneId: props.hostedZoneId,
            zoneName: props.hostedZoneName,
          }),
          recordName: props.domainName,
          target: RecordTarget.fromAlias(new ApiGatewayDomain(this.customDomain)),
          comment: 'mlserve API custom domain',
        });
      }
    }
  }

  /**
   * Lets `fn` make and delete the per-token API keys (UsagePlanKeys): find the plan by name, create
   * keys, add them to the plan, find keys by name, delete them. A policy of its own, not the
   * function's default policy, so the function does not wait for the plan (which waits for the
   * API's deployment). API keys get their ids at run time, hence `/apikeys/*` for deletion.
   */
  grantTokenKeys(fn: MlserveFunction): Policy {
    const stack = Stack.of(this);
    const base = `arn:${stack.partition}:apigateway:${stack.region}::`;
    const policy = new Policy(fn, 'TokenKeys', {
      roles: fn.role ? [fn.role] : [],
      statements: [
        new PolicyStatement({ actions: ['apigateway:GET'], resources: [`${base}/usageplans`, `${base}/apikeys`] }),
        new PolicyStatement({
          actions: ['apigateway:POST'],
          resources: [`${base}/apikeys`, `${base}/usageplans/${this.usagePlan.usagePlanId}/keys`],
        }),
        new PolicyStatement({ actions: ['apigateway:DELETE'], resources: [`${base}/apikeys/*`] }),
      ],
    });
    Validations.of(policy).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:apigateway:${Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region}::/apikeys/*]`,
      reason: 'Deletes the API key of a revoked token; key ids are made at run time, so no narrower ARN exists.',
    });
    return policy;
  }
}
