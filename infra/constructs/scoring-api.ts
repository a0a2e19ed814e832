import { ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
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
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { type IVpc, Port, SecurityGroup, type SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import type { IApplicationListener, IApplicationLoadBalancer } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { type IManagedPolicy, Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ARecord, HostedZone, RecordTarget } from 'aws-cdk-lib/aws-route53';
import { ApiGatewayDomain } from 'aws-cdk-lib/aws-route53-targets';
import { CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { REGISTRY_TABLE_SCHEMA } from '../../core/table/layout';
import { MlserveFunction } from './mlserve-function';
import type { NetworkProfile } from './network';

export interface ScoringApiProps {
  readonly table: ITableV2;
  readonly eventBus: IEventBus;
  /** Read access to the artifact bucket, for the registration check. */
  readonly artifactReadPolicy: IManagedPolicy;
  /** Comma-separated allowed model source roots. */
  readonly sourceRoots: string;
  /** The serving tasks' log group (the serving API reads version logs from it). */
  readonly servingLogGroupName: string;
  /**
   * The app's network profile: whether serving tasks have public IPv4 addresses (lean), which
   * the serving API's compute-size prices include (`MLSERVE_NETWORK_PROFILE` of the serving function).
   * @default 'lean'
   */
  readonly networkProfile?: NetworkProfile;
  /** The internal load balancer in front of the serving tasks, and its listener. */
  readonly loadBalancer: IApplicationLoadBalancer;
  readonly listener: IApplicationListener;
  readonly vpc: IVpc;
  /** Subnets of the VPC link's network interfaces. */
  readonly vpcLinkSubnets: SubnetSelection;
  /**
   * How long authorizer answers and in-process access decisions are cached.
   * @default Duration.seconds(60)
   */
  readonly authCacheTtl?: Duration;
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
 * a cached answer can only ever apply to what it decided (README, "The authorizer and its
 * caches"): scoring routes key the cache by token *and* model; API routes by token, with the
 * per-model decision in each handler. Scoring goes through a VPC link (v2) to the internal load
 * balancer, where each enabled model has its listener rule.
 */
export class ScoringApi extends Construct {
  public readonly api: RestApi;
  public readonly authorizerFunction: MlserveFunction;
  public readonly registryFunction: MlserveFunction;
  public readonly registrationCheckFunction: MlserveFunction;
  public readonly servingFunction: MlserveFunction;
  public readonly accessFunction: MlserveFunction;
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
    const ttl = props.authCacheTtl ?? Duration.seconds(60);
    const common = {
      REGISTRY_TABLE: props.table.tableName,
      AUTH_CACHE_TTL_SECONDS: String(ttl.toSeconds()),
      POWERTOOLS_SERVICE_NAME: 'mlserve',
    };
    const withRegistry = {
      ...common,
      MLSERVE_SOURCE_ROOTS: props.sourceRoots,
      EVENT_BUS_NAME: props.eventBus.eventBusName,
    };

    this.authorizerFunction = new MlserveFunction(this, 'Authorizer', {
      invokedSynchronously: true,
      entry: 'lambdas/authorizer/handler.ts',
      environment: common,
      memoryMiB: 256,
      timeoutSeconds: 10,
    });
    this.registryFunction = new MlserveFunction(this, 'Registry', {
      invokedSynchronously: true,
      entry: 'lambdas/registry/handler.ts',
      environment: withRegistry,
    });
    this.registrationCheckFunction = new MlserveFunction(this, 'RegistrationCheck', {
      entry: 'lambdas/registry/registration-check.ts',
      environment: withRegistry,
      timeoutSeconds: 60,
    });
    this.servingFunction = new MlserveFunction(this, 'Serving', {
      invokedSynchronously: true,
      entry: 'lambdas/serving/handler.ts',
      environment: {
        ...withRegistry,
        SERVING_LOG_GROUP: props.servingLogGroupName,
        METRICS_NAMESPACE: 'mlserve',
        MLSERVE_NETWORK_PROFILE: props.networkProfile ?? 'lean',
      },
    });
    this.accessFunction = new MlserveFunction(this, 'Access', {
      invokedSynchronously: true,
      entry: 'lambdas/access/handler.ts',
      environment: withRegistry,
    });

    // Least privilege: the authorizer reads tokens and permissions (and notes a token's last use).
    this.authorizerFunction.addToRolePolicy(
      new PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resources: [props.table.tableArn] }),
    );
    // The registry's reads and writes, on the table and its two named indexes (no wildcards).
    const tableResources = [
      props.table.tableArn,
      ...REGISTRY_TABLE_SCHEMA.indexes.map((index) => `${props.table.tableArn}/index/${index.name}`),
    ];
    const registryActions = [
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:Query',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
    ];
    for (const fn of [
      this.registryFunction,
      this.registrationCheckFunction,
      this.servingFunction,
      this.accessFunction,
    ]) {
      fn.addToRolePolicy(new PolicyStatement({ actions: registryActions, resources: tableResources }));
      props.eventBus.grantPutEventsTo(fn);
    }
    // The registration check reads MLmodel from version sources in the artifact bucket, and the
    // registry API a version's input example (model-versions/get-input-example).
    this.registrationCheckFunction.role?.addManagedPolicy(props.artifactReadPolicy);
    this.registryFunction.role?.addManagedPolicy(props.artifactReadPolicy);
    const stack = Stack.of(this);
    this.servingFunction.addToRolePolicy(
      new PolicyStatement({
        actions: ['logs:FilterLogEvents'],
        resources: [
          stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: props.servingLogGroupName,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    this.servingFunction.addToRolePolicy(
      new PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }),
    );

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
      handler: this.authorizerFunction,
      identitySources: [IdentitySource.header('Authorization')],
      resultsCacheTtl: ttl,
    });
    const scoringAuthorizer = new RequestAuthorizer(this, 'ScoringAuthorizer', {
      handler: this.authorizerFunction,
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
    route(api, ['mlflow'], this.registryFunction);
    route(api, ['preview', 'mlflow', 'endpoints'], this.servingFunction);
    route(api, ['tokens'], this.accessFunction);
    route(api, ['permissions'], this.accessFunction);

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
    this.accessFunction.addEnvironment('USAGE_PLAN_NAME', this.usagePlanName);
    this.grantTokenKeys(this.accessFunction);

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
