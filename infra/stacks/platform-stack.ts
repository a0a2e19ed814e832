import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Vpc, type VpcAttributes } from 'aws-cdk-lib/aws-ec2';
import { DockerImageAsset, Platform } from 'aws-cdk-lib/aws-ecr-assets';
import { EventBus } from 'aws-cdk-lib/aws-events';
import type { IManagedPolicy } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { OnlineStores as OnlineStoresConfig } from '../../core/features/online-stores';
import { AdminToken } from '../constructs/admin-token';
import { ApiFunctions } from '../constructs/api-functions';
import { DeployTriggers } from '../constructs/deploy-triggers';
import { DeployWorkflow } from '../constructs/deploy-workflow';
import { Network, type NetworkProfile } from '../constructs/network';
import { OnlineStores } from '../constructs/online-stores';
import { Operations } from '../constructs/operations';
import { ScoringApi } from '../constructs/scoring-api';
import { ServingCluster } from '../constructs/serving-cluster';
import { WebConsole } from '../constructs/web-console';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface PlatformStackProps extends StackProps {
  readonly table: ITableV2;
  readonly artifactBucket: IBucket;
  /** Read access to the artifacts (a managed policy of the registry stack). */
  readonly artifactReadPolicy: IManagedPolicy;
  /**
   * Where serving tasks keep built Python environments, and the policy letting them (the
   * artifact store's `environmentsUri` and `environmentsPolicy`).
   * @default - none: every task builds the environments it needs
   */
  readonly environmentArchive?: { readonly uri: string; readonly policy: IManagedPolicy };
  /** @default 'lean' */
  readonly networkProfile?: NetworkProfile;
  /** @default false - see NetworkProps.interfaceEndpoints */
  readonly interfaceEndpoints?: boolean;
  /**
   * Comma-separated allowed model source roots.
   * @default - the artifact bucket's `models/` prefix
   */
  readonly sourceRoots?: string;
  /**
   * Email address the alarms go to.
   * @default - alarms without notifications
   */
  readonly alarmEmail?: string;
  /**
   * An existing VPC, by its attributes (no lookup at synth time). It needs public subnets for
   * `lean`, private subnets with egress for `hardened`; nothing is added to it.
   * @default - a new VPC for the network profile
   */
  readonly existingVpc?: VpcAttributes;
  /**
   * The online stores feature lookups may read: serving tasks get them as
   * `MLSERVE_ONLINE_STORES` and read access to exactly those tables, clusters and secrets.
   * @default - no stores: no variable, no grants
   */
  readonly onlineStores?: OnlineStoresConfig;
  /**
   * The package index secret serving tasks read at start. See DeployWorkflowProps.pipIndexSecretArn.
   * @default - none: environments are installed from PyPI
   */
  readonly pipIndexSecretArn?: string;
  /**
   * A regional WAFv2 web ACL for the API's stage. See ScoringApiProps.webAclArn.
   * @default - no web ACL
   */
  readonly webAclArn?: string;
  /**
   * The API's throttles: the stage's rate and burst, and each token's (its usage plan).
   * @default 200 requests per second, burst 400; per token 50, burst 100
   */
  readonly throttles?: {
    readonly stageRatePerSecond: number;
    readonly stageBurst: number;
    readonly perTokenRatePerSecond: number;
    readonly perTokenBurst: number;
  };
  /**
   * The API's custom domain and its ACM certificate (both or neither). See ScoringApiProps.
   * @default - no custom domain
   */
  readonly domainName?: string;
  /** @default - no custom domain */
  readonly certificateArn?: string;
  /**
   * The Route 53 hosted zone (id and name, both or neither) in which to make the custom domain's
   * alias record.
   * @default - no record: point the domain at the `CustomDomainTarget` output yourself
   */
  readonly hostedZoneId?: string;
  /** @default - no record */
  readonly hostedZoneName?: string;
}

/** Everything stateless: network, serving cluster, API and Lambdas, web console, deploy workflow and its triggers. */
export class PlatformStack extends Stack {
  public readonly apiFunctions: ApiFunctions;
  public readonly api: ScoringApi;
  public readonly workflow: DeployWorkflow;
  public readonly webConsole: WebConsole;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const sourceRoots = props.sourceRoots ?? `s3://${props.artifactBucket.bucketName}/models`;
    const existingVpc = props.existingVpc && Vpc.fromVpcAttributes(this, 'ExistingVpc', props.existingVpc);
    if (existingVpc)
      Validations.of(existingVpc).acknowledge({
        id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId',
        reason: "mlserve adds no routes to an existing VPC, so its subnets' route tables are never read.",
      });
    const network = new Network(this, 'Network', {
      profile: props.networkProfile,
      interfaceEndpoints: props.interfaceEndpoints,
      existingVpc,
    });
    const onlineStores = new OnlineStores(this, 'OnlineStores', { config: props.onlineStores });
    const serving = new ServingCluster(this, 'Serving', { vpc: network.vpc, subnets: network.taskSubnets });
    const eventBus = new EventBus(this, 'Events', { description: 'mlserve registry domain events' });
    const image = new DockerImageAsset(this, 'ModelHostImage', {
      directory: REPO_ROOT,
      file: 'container/Dockerfile',
      platform: Platform.LINUX_AMD64,
    });
    this.workflow = new DeployWorkflow(this, 'DeployModel', {
      table: props.table,
      cluster: serving.cluster,
      listener: serving.listener,
      vpc: network.vpc,
      taskSubnets: network.taskSubnets,
      taskSecurityGroups: [serving.taskSecurityGroup],
      imageUri: image.imageUri,
      sourceRoots,
      // Without a package index secret the fingerprint is what it was before there could be one.
      release: createHash('sha256')
        .update(
          JSON.stringify([
            image.assetHash,
            onlineStores.environment,
            ...(props.pipIndexSecretArn ? [props.pipIndexSecretArn] : []),
          ]),
        )
        .digest('hex')
        .slice(0, 16),
      taskEnvironment: onlineStores.environment,
      environmentArchive: props.environmentArchive?.uri,
      pipIndexSecretArn: props.pipIndexSecretArn,
      assignPublicIp: network.assignPublicIp,
    });
    this.workflow.taskRole.addManagedPolicy(props.artifactReadPolicy);
    if (props.environmentArchive) this.workflow.taskRole.addManagedPolicy(props.environmentArchive.policy);
    onlineStores.grantRead(this.workflow.taskRole);
    image.repository.grantPull(this.workflow.executionRole);
    // The functions keep the construct path `Api` and the REST API sits in their scope as
    // `Default` (an id left out of logical IDs), so every resource keeps the logical ID it had
    // when one construct made both: a deployed stack's API and functions are updated, not replaced.
    this.apiFunctions = new ApiFunctions(this, 'Api', {
      table: props.table,
      eventBus,
      artifactReadPolicy: props.artifactReadPolicy,
      sourceRoots,
      servingLogGroupName: this.workflow.taskLogGroup.logGroupName,
      networkProfile: network.profile,
    });
    this.api = new ScoringApi(this.apiFunctions, 'Default', {
      functions: this.apiFunctions,
      loadBalancer: serving.loadBalancer,
      listener: serving.listener,
      vpc: network.vpc,
      vpcLinkSubnets: network.taskSubnets,
      webAclArn: props.webAclArn,
      domainName: props.domainName,
      certificateArn: props.certificateArn,
      hostedZoneId: props.hostedZoneId,
      hostedZoneName: props.hostedZoneName,
      throttleRatePerSecond: props.throttles?.stageRatePerSecond,
      throttleBurst: props.throttles?.stageBurst,
      perTokenRatePerSecond: props.throttles?.perTokenRatePerSecond,
      perTokenBurst: props.throttles?.perTokenBurst,
    });
    this.webConsole = new WebConsole(this, 'Console', { api: this.api.api });
    const triggers = new DeployTriggers(this, 'DeployTriggers', {
      table: props.table,
      eventBus,
      stateMachine: this.workflow.stateMachine,
      cluster: serving.cluster,
      registrationCheck: this.apiFunctions.registrationCheck,
      sourceRoots,
    });
    new AdminToken(this, 'AdminToken', { table: props.table, api: this.api });
    const operations = new Operations(this, 'Operations', {
      api: this.api.api,
      stateMachine: this.workflow.stateMachine,
      taskStoppedRule: triggers.taskStoppedRule,
      deadLetterQueue: triggers.deadLetters,
      alarmEmail: props.alarmEmail,
    });
    new CfnOutput(this, 'ApiUrl', {
      value: this.api.api.url,
      description: 'mlserve API (MLFLOW_REGISTRY_URI, MLSERVE_URL)',
    });
    if (this.api.customDomain) {
      new CfnOutput(this, 'CustomDomainTarget', {
        value: this.api.customDomain.domainNameAliasDomainName,
        description: `The regional domain to point ${props.domainName} at (CNAME or alias)`,
      });
    }
    new CfnOutput(this, 'ConsoleUrl', {
      // Served at the root of the custom domain when there is one, else at the stage's URL.
      value: props.domainName ? `https://${props.domainName}/` : this.api.api.url,
      description: 'The mlserve web console (sign in with a token)',
    });
    new CfnOutput(this, 'StateMachineUrl', {
      value: `https://${this.region}.console.aws.amazon.com/states/home?region=${this.region}#/statemachines/view/${this.workflow.stateMachine.stateMachineArn}`,
      description: 'The deploy-model state machine in the AWS console',
    });
    new CfnOutput(this, 'DashboardUrl', {
      value: `https://${this.region}.console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards/dashboard/${operations.dashboard.dashboardName}`,
      description: 'The operations dashboard',
    });
  }
}
