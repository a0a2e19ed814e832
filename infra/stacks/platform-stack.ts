import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { DockerImageAsset, Platform } from 'aws-cdk-lib/aws-ecr-assets';
import { EventBus } from 'aws-cdk-lib/aws-events';
import type { IManagedPolicy } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { AdminToken } from '../constructs/admin-token';
import { DeployTriggers } from '../constructs/deploy-triggers';
import { DeployWorkflow } from '../constructs/deploy-workflow';
import { Network, type NetworkProfile } from '../constructs/network';
import { Operations } from '../constructs/operations';
import { ScoringApi } from '../constructs/scoring-api';
import { ServingCluster } from '../constructs/serving-cluster';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface PlatformStackProps extends StackProps {
  readonly table: ITableV2;
  readonly artifactBucket: IBucket;
  /** Read access to the artifacts (a managed policy of the registry stack). */
  readonly artifactReadPolicy: IManagedPolicy;
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
}

/** Everything stateless: network, serving cluster, API and Lambdas, deploy workflow and its triggers. */
export class PlatformStack extends Stack {
  public readonly api: ScoringApi;
  public readonly workflow: DeployWorkflow;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const sourceRoots = props.sourceRoots ?? `s3://${props.artifactBucket.bucketName}/models`;
    const network = new Network(this, 'Network', {
      profile: props.networkProfile,
      interfaceEndpoints: props.interfaceEndpoints,
    });
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
      assignPublicIp: network.assignPublicIp,
    });
    this.workflow.taskRole.addManagedPolicy(props.artifactReadPolicy);
    image.repository.grantPull(this.workflow.executionRole);
    this.api = new ScoringApi(this, 'Api', {
      table: props.table,
      eventBus,
      artifactReadPolicy: props.artifactReadPolicy,
      sourceRoots,
      servingLogGroupName: this.workflow.taskLogGroup.logGroupName,
      loadBalancer: serving.loadBalancer,
      listener: serving.listener,
      vpc: network.vpc,
      vpcLinkSubnets: network.taskSubnets,
    });
    const triggers = new DeployTriggers(this, 'DeployTriggers', {
      table: props.table,
      eventBus,
      stateMachine: this.workflow.stateMachine,
      cluster: serving.cluster,
      registrationCheck: this.api.registrationCheckFunction,
      sourceRoots,
    });
    new AdminToken(this, 'AdminToken', { table: props.table, api: this.api });
    const operations = new Operations(this, 'Operations', {
      api: this.api.api,
      stateMachine: this.workflow.stateMachine,
      taskStoppedRule: triggers.taskStoppedRule,
      alarmEmail: props.alarmEmail,
    });
    new CfnOutput(this, 'ApiUrl', {
      value: this.api.api.url,
      description: 'mlserve API (MLFLOW_REGISTRY_URI, MLSERVE_URL)',
    });
    new CfnOutput(this, 'ConsoleUrl', {
      value: `https://${this.region}.console.aws.amazon.com/states/home?region=${this.region}#/statemachines/view/${this.workflow.stateMachine.stateMachineArn}`,
      description: 'The deploy-model state machine in the AWS console',
    });
    new CfnOutput(this, 'DashboardUrl', {
      value: `https://${this.region}.console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards/dashboard/${operations.dashboard.dashboardName}`,
      description: 'The operations dashboard',
    });
  }
}
