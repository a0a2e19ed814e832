import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import type { ICluster } from 'aws-cdk-lib/aws-ecs';
import type { IApplicationListener } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Effect, type IRole, ManagedPolicy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { buildDeployModelDefinition } from '../../core/deploy/deploy-model';

export interface DeployWorkflowProps {
  /** The registry table the workflow reads and records serving state in. */
  readonly table: ITableV2;
  /** The ECS cluster the serving tasks run in. */
  readonly cluster: ICluster;
  /** The internal load balancer's listener that gets one rule per enabled model. */
  readonly listener: IApplicationListener;
  readonly vpc: IVpc;
  /** Where serving tasks run. */
  readonly taskSubnets: SubnetSelection;
  /** Security groups of the serving tasks (allowing only the load balancer in). */
  readonly taskSecurityGroups: readonly ISecurityGroup[];
  /** The model host image (built from `container/`). */
  readonly imageUri: string;
  /** Comma-separated allowed model source roots, given to every serving task. */
  readonly sourceRoots: string;
  /**
   * A fingerprint of what serving tasks run besides their model (the image's asset hash, the
   * extra environment): when it changes, the next run of the workflow for each served model
   * replaces its task, so an upgrade rolls every served model. See DeployModelSettings.release.
   */
  readonly release: string;
  /**
   * More environment variables for every serving task (e.g. `MLSERVE_ONLINE_STORES`). The
   * workflow's own variables (`MLSERVE_SOURCE_ROOTS`, `REGISTRY_TABLE`, `MLSERVE_MODEL_NAME`,
   * `MLSERVE_REVISION`, `MLSERVE_RELEASE`, `MLSERVE_ENV_ARCHIVE` with an environment archive,
   * `MLSERVE_PIP_INDEX_URL_SECRET_ARN` and `MLSERVE_PIP_INDEX_URL` with a package index secret)
   * cannot be replaced.
   * @default - none: only the workflow's own variables
   */
  readonly taskEnvironment?: Readonly<Record<string, string>>;
  /**
   * Where serving tasks keep the Python environments they build, so that the next task needing
   * one restores it instead of building it: `s3://bucket/prefix`, given to them as
   * `MLSERVE_ENV_ARCHIVE` (docs/environments.md). The task role needs read, write and delete
   * there (ArtifactStore.environmentsPolicy).
   * @default - none: every task builds the environments it needs
   */
  readonly environmentArchive?: string;
  /**
   * The full ARN of a Secrets Manager secret holding the URL of the package index serving tasks
   * install Python environments from (docs/environments.md), given to them as
   * `MLSERVE_PIP_INDEX_URL_SECRET_ARN`; the task role may read exactly that secret. A secret
   * encrypted with a customer managed KMS key also needs `kms:Decrypt` on that key, which is not
   * granted here.
   * @default - none: environments are installed from PyPI
   */
  readonly pipIndexSecretArn?: string;
  /**
   * Give serving tasks public IPs (the lean network profile without NAT).
   * @default false - tasks reach AWS through NAT or VPC endpoints
   */
  readonly assignPublicIp?: boolean;
  /**
   * Seconds between checks on a new task while waiting for it.
   * @default 10
   */
  readonly pollSeconds?: number;
  /**
   * Checks before a deployment counts as failed.
   * @default 90 - 15 minutes with the default poll interval
   */
  readonly maxPolls?: number;
  /**
   * How long the serving tasks' logs are kept.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

/**
 * The deploy-model state machine, from the same builder the local twin runs, with the roles
 * its serving tasks run under and the permissions its SDK integrations need.
 */
export class DeployWorkflow extends Construct {
  public readonly stateMachine: StateMachine;
  public readonly taskRole: IRole;
  public readonly executionRole: IRole;
  public readonly taskLogGroup: LogGroup;

  constructor(scope: Construct, id: string, props: DeployWorkflowProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.taskLogGroup = new LogGroup(this, 'TaskLogs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const executionRole = new Role(this, 'TaskExecutionRole', {
      assumedBy: new ServicePrincipal('ecs-tasks.amazonaws.com'),
      managedPolicies: [ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonECSTaskExecutionRolePolicy')],
    });
    const taskRole = new Role(this, 'TaskRole', { assumedBy: new ServicePrincipal('ecs-tasks.amazonaws.com') });
    // The model host reads its model and versions and records serving state, events and its report.
    taskRole.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [
          'dynamodb:GetItem',
          'dynamodb:Query',
          'dynamodb:BatchGetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
        ],
        resources: [props.table.tableArn],
      }),
    );
    // The model host reads the package index URL from its secret once, at start.
    if (props.pipIndexSecretArn)
      taskRole.addToPrincipalPolicy(
        new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [props.pipIndexSecretArn] }),
      );
    this.executionRole = executionRole;
    this.taskRole = taskRole;
    const environments = props.environmentArchive ? { MLSERVE_ENV_ARCHIVE: props.environmentArchive } : undefined;
    const packageIndex = props.pipIndexSecretArn
      ? { MLSERVE_PIP_INDEX_URL_SECRET_ARN: props.pipIndexSecretArn }
      : undefined;

    const taken = [
      'MLSERVE_SOURCE_ROOTS',
      'REGISTRY_TABLE',
      'MLSERVE_MODEL_NAME',
      'MLSERVE_REVISION',
      'MLSERVE_RELEASE',
    ];
    if (environments) taken.push('MLSERVE_ENV_ARCHIVE');
    // The host takes the index URL or its secret, not both.
    if (packageIndex) taken.push('MLSERVE_PIP_INDEX_URL_SECRET_ARN', 'MLSERVE_PIP_INDEX_URL');
    const clashes = Object.keys(props.taskEnvironment ?? {}).filter((name) => taken.includes(name));
    if (clashes.length > 0)
      throw new Error(`DeployWorkflow: taskEnvironment may not set the workflow's own ${clashes.join(', ')}`);
    const subnets = props.vpc.selectSubnets(props.taskSubnets).subnetIds;
    const definition = buildDeployModelDefinition({
      tableName: props.table.tableName,
      clusterArn: props.cluster.clusterArn,
      listenerArn: props.listener.listenerArn,
      vpcId: props.vpc.vpcId,
      subnetIds: subnets,
      securityGroupIds: props.taskSecurityGroups.map((g) => g.securityGroupId),
      assignPublicIp: props.assignPublicIp ?? false,
      image: props.imageUri,
      release: props.release,
      executionRoleArn: executionRole.roleArn,
      taskRoleArn: taskRole.roleArn,
      logGroupName: this.taskLogGroup.logGroupName,
      region: stack.region,
      containerPort: 8080,
      environment: {
        MLSERVE_SOURCE_ROOTS: props.sourceRoots,
        ...environments,
        ...packageIndex,
        ...props.taskEnvironment,
      },
      pollSeconds: props.pollSeconds ?? 10,
      maxPolls: props.maxPolls ?? 90,
    });

    this.stateMachine = new StateMachine(this, 'StateMachine', {
      definitionBody: DefinitionBody.fromString(JSON.stringify(definition)),
      tracingEnabled: true,
      timeout: Duration.hours(1),
      logs: {
        destination: new LogGroup(this, 'ExecutionLogs', {
          retention: RetentionDays.ONE_MONTH,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
        level: LogLevel.ALL,
        includeExecutionData: true,
      },
    });
    const role = this.stateMachine.role;
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        resources: [props.table.tableArn],
      }),
    );
    const serviceArn = stack.formatArn({
      service: 'ecs',
      resource: 'service',
      resourceName: '*/mlserve-*',
    });
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ecs:CreateService', 'ecs:UpdateService', 'ecs:DeleteService', 'ecs:DescribeServices'],
        resources: [serviceArn],
      }),
    );
    // RegisterTaskDefinition and TagResource on new task definitions cannot be scoped to a resource.
    role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['ecs:RegisterTaskDefinition', 'ecs:TagResource'], resources: ['*'] }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [executionRole.roleArn, taskRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    );
    const targetGroupArn = stack.formatArn({
      service: 'elasticloadbalancing',
      resource: 'targetgroup',
      resourceName: 'mls-*',
    });
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [
          'elasticloadbalancing:CreateTargetGroup',
          'elasticloadbalancing:DeleteTargetGroup',
          'elasticloadbalancing:AddTags',
        ],
        resources: [targetGroupArn],
      }),
    );
    const ruleArn = stack.formatArn({
      service: 'elasticloadbalancing',
      resource: 'listener-rule',
      resourceName: 'app/*',
    });
    role.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: [
          'elasticloadbalancing:CreateRule',
          'elasticloadbalancing:ModifyRule',
          'elasticloadbalancing:DeleteRule',
        ],
        resources: [props.listener.listenerArn, ruleArn],
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTargetGroups'],
        resources: ['*'],
      }),
    );

    // cdk-nag names each wildcard finding by the resource as written; these are the ones above.
    const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
    const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
    const arn = (service: string, resource: string) =>
      `Resource::arn:<AWS::Partition>:${service}:${region}:${account}:${resource}`;
    Validations.of(executionRole).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: 'Pulling the serving image needs ecr:GetAuthorizationToken, which takes no resource.',
    });
    Validations.of(executionRole).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy]',
      reason: "The task execution role uses AWS's AmazonECSTaskExecutionRolePolicy: pull the image, write logs.",
    });
    const perModel =
      'Serving resources are created per model at run time, so they are scoped by name prefix (services mlserve-*, target groups mls-*, the listener rules of this load balancer).';
    const findings: [string, string][] = [
      [arn('ecs', 'service/*/mlserve-*'), perModel],
      [arn('elasticloadbalancing', 'targetgroup/mls-*'), perModel],
      [arn('elasticloadbalancing', 'listener-rule/app/*'), perModel],
      [
        'Resource::*',
        'ECS RegisterTaskDefinition/TagResource, ELB Describe*, X-Ray and log delivery take no resource.',
      ],
    ];
    for (const [finding, reason] of findings) {
      Validations.of(role).acknowledge({ id: `AwsSolutions::AwsSolutions-IAM5[${finding}]`, reason });
    }
  }
}
