/**
 * The deploy-model state machine (Amazon States Language, JSONPath): converges one model's
 * serving task to what the registry says it should be. Built by this one function for both
 * the CDK app (Step Functions) and the local twin (a local ASL interpreter whose ECS and load
 * balancer tasks are answered by local stand-ins).
 *
 * Input: `{"modelName": "...", "staleBefore": "<ISO time>", "reason": "..."}`. `staleBefore`
 * lets a run take over the model's run claim from an execution that died before releasing it.
 */
import { SERVICE_PREFIX } from './triggers';

export interface DeployModelSettings {
  readonly tableName: string;
  readonly clusterArn: string;
  readonly listenerArn: string;
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  readonly assignPublicIp: boolean;
  readonly image: string;
  readonly executionRoleArn: string;
  readonly taskRoleArn: string;
  readonly logGroupName: string;
  readonly region: string;
  readonly containerPort: number;
  /** Environment every serving task gets besides its model's (source roots, table, …). */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * A fingerprint of what every serving task runs besides its model (the image, the
   * environment): a running task of another release is replaced even when its model's serving
   * revision is unchanged, so an upgrade of mlserve rolls every served model on the next run.
   */
  readonly release: string;
  /** Seconds between checks of the task's report while waiting for it. */
  readonly pollSeconds: number;
  /** How many checks before the deployment counts as failed. */
  readonly maxPolls: number;
}

type State = Record<string, unknown>;

/** Names of the states, so local runs can answer the ECS and load-balancer tasks by name. */
export const STATE = {
  lookUpModel: 'LookUpModel',
  readModel: 'ReadModel',
  claimRun: 'ClaimRun',
  markPending: 'MarkPending',
  registerTaskDefinition: 'RegisterTaskDefinition',
  ensureTargetGroup: 'EnsureTargetGroup',
  readServing: 'ReadServing',
  createRule: 'CreateRule',
  updateRule: 'UpdateRule',
  updateService: 'UpdateService',
  createService: 'CreateService',
  recordDeployment: 'RecordDeployment',
  waitForTask: 'WaitForTask',
  readHostReport: 'ReadHostReport',
  recordReady: 'RecordReady',
  recordReadyEvent: 'RecordReadyEvent',
  deleteService: 'DeleteService',
  deleteRule: 'DeleteRule',
  deleteTargetGroup: 'DeleteTargetGroup',
  recordStopped: 'RecordStopped',
  recordStoppedEvent: 'RecordStoppedEvent',
  recordFailure: 'RecordFailure',
  recordFailureEvent: 'RecordFailureEvent',
  releaseRun: 'ReleaseRun',
  restartRun: 'RestartRun',
  /** The end of a run that converged the model (and released its claim). */
  converged: 'Converged',
  /** The end of a run that found the model claimed: the claiming run converges again for it. */
  anotherRunConverges: 'AnotherRunConverges',
} as const;

const DDB = 'arn:aws:states:::dynamodb';
const SDK = 'arn:aws:states:::aws-sdk';

/** The model item's key from the looked-up id. */
const modelKey = { PK: { 'S.$': "States.Format('MODEL#{}', $.lookup.Item.modelId.S)" }, SK: { S: 'MODEL' } };
const servingKey = { PK: { 'S.$': "States.Format('MODEL#{}', $.lookup.Item.modelId.S)" }, SK: { S: 'SERVING#MODEL' } };
const hostKey = { PK: { 'S.$': "States.Format('MODEL#{}', $.lookup.Item.modelId.S)" }, SK: { S: 'SERVING#HOST' } };

/** Names of the model's AWS resources, derived from its registry id (stable across renames). */
const serviceName = `States.Format('${SERVICE_PREFIX}{}', $.lookup.Item.modelId.S)`;
const idParts = "States.StringSplit($.lookup.Item.modelId.S, '-')";
const targetGroupName = `States.Format('mls-{}-{}', States.ArrayGetItem(${idParts}, 0), States.ArrayGetItem(${idParts}, 1))`;

function eventItem(type: string, message: Record<string, string>): State {
  return {
    Type: 'Task',
    Resource: `${DDB}:putItem`,
    Parameters: {
      TableName: undefined,
      Item: {
        PK: { 'S.$': "States.Format('MODEL#{}', $.lookup.Item.modelId.S)" },
        SK: { 'S.$': "States.Format('EVENT#{}#{}', $$.State.EnteredTime, $$.Execution.Name)" },
        kind: { S: 'EVENT' },
        at: { 'S.$': '$$.State.EnteredTime' },
        type: { S: type },
        message,
      },
    },
    ResultPath: null,
  };
}

export function buildDeployModelDefinition(s: DeployModelSettings): Record<string, unknown> {
  const table = s.tableName;
  const withTable = (state: State): State => {
    const parameters = state.Parameters as Record<string, unknown>;
    return { ...state, Parameters: { ...parameters, TableName: table } };
  };
  const catchAll = [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: STATE.recordFailure }];
  const environment = [
    ...Object.entries(s.environment).map(([name, value]) => ({ Name: name, Value: value })),
    { Name: 'REGISTRY_TABLE', Value: table },
    { Name: 'MLSERVE_MODEL_NAME', 'Value.$': '$.modelName' },
    { Name: 'MLSERVE_REVISION', 'Value.$': '$.model.Item.servingRevision.N' },
    // The task's memory, from which the host derives its memory budget for requests in flight.
    { Name: 'MLSERVE_MEMORY_MIB', 'Value.$': '$.model.Item.servingMemory.S' },
    // The task's CPU units, from which the host derives how many Python workers a version gets.
    { Name: 'MLSERVE_CPU_UNITS', 'Value.$': '$.model.Item.servingCpu.S' },
  ];

  /** The listener rule of a model: `/model/<name>/*` forwarded to its target group. */
  const ruleTarget = {
    Conditions: [
      {
        Field: 'path-pattern',
        PathPatternConfig: { 'Values.$': "States.Array(States.Format('/model/{}/*', $.modelName))" },
      },
    ],
    Actions: [{ Type: 'forward', 'TargetGroupArn.$': '$.targetGroup.arn' }],
  };
  const ruleResult = {
    ResultSelector: { 'arn.$': '$.Rules[0].RuleArn' },
    ResultPath: '$.rule',
    Catch: catchAll,
    Next: STATE.updateService,
  };

  const states: Record<string, State> = {
    [STATE.lookUpModel]: withTable({
      Type: 'Task',
      Resource: `${DDB}:getItem`,
      Parameters: {
        Key: { PK: { 'S.$': "States.Format('NAME#{}', $.modelName)" }, SK: { S: 'NAME' } },
        ConsistentRead: true,
      },
      ResultPath: '$.lookup',
      Next: 'ModelKnown?',
    }),
    'ModelKnown?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.lookup.Item.modelId.S', IsPresent: true, Next: STATE.claimRun }],
      Default: 'NothingToDo',
    },
    NothingToDo: { Type: 'Succeed', Comment: 'The model no longer exists: nothing to converge.' },
    [STATE.claimRun]: withTable({
      Type: 'Task',
      Resource: `${DDB}:updateItem`,
      Comment: 'One run per model at a time: claim the model, or leave it to the run that has it.',
      Parameters: {
        Key: servingKey,
        UpdateExpression: 'SET runOwner = :me, runStartedAt = :now, pendingRequests = :zero',
        ConditionExpression: 'attribute_not_exists(runOwner) OR runOwner = :me OR runStartedAt < :stale',
        ExpressionAttributeValues: {
          ':me': { 'S.$': '$$.Execution.Name' },
          ':now': { 'S.$': '$$.Execution.StartTime' },
          ':stale': { 'S.$': '$.staleBefore' },
          ':zero': { N: '0' },
        },
      },
      ResultPath: null,
      Catch: [
        {
          ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'],
          ResultPath: null,
          Next: STATE.anotherRunConverges,
        },
      ],
      Next: STATE.readModel,
    }),
    [STATE.anotherRunConverges]: {
      Type: 'Succeed',
      Comment: 'The running execution sees this request (pendingRequests) and converges again.',
    },
    [STATE.readModel]: withTable({
      Type: 'Task',
      Resource: `${DDB}:getItem`,
      Parameters: { Key: modelKey, ConsistentRead: true },
      ResultPath: '$.model',
      Next: 'ServingEnabled?',
      Catch: catchAll,
    }),
    'ServingEnabled?': {
      Type: 'Choice',
      Choices: [
        {
          And: [
            { Variable: '$.model.Item.servingEnabled.BOOL', IsPresent: true },
            { Variable: '$.model.Item.servingEnabled.BOOL', BooleanEquals: true },
          ],
          Next: STATE.markPending,
        },
      ],
      Default: 'ReadServingForTeardown',
    },

    // ---- serving enabled: ensure task definition, target group, rule, service; wait for the task
    [STATE.markPending]: withTable({
      Type: 'Task',
      Resource: `${DDB}:updateItem`,
      Comment: 'PENDING only when a new revision must roll out; a running model stays READY meanwhile.',
      Parameters: {
        Key: servingKey,
        UpdateExpression: 'SET #state = :pending, message = :msg, updatedAt = :now',
        ConditionExpression:
          'attribute_not_exists(deployedRevision) OR deployedRevision <> :rev OR attribute_not_exists(deployedRelease) OR deployedRelease <> :release',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':pending': { S: 'PENDING' },
          ':msg': { S: 'deploying the serving task' },
          ':now': { 'S.$': '$$.State.EnteredTime' },
          ':rev': { 'N.$': '$.model.Item.servingRevision.N' },
          ':release': { S: s.release },
        },
      },
      ResultPath: null,
      Catch: [
        {
          ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'],
          ResultPath: null,
          Next: STATE.readServing,
        },
        ...catchAll,
      ],
      Next: 'RecordDeployingEvent',
    }),
    RecordDeployingEvent: {
      ...withTable(
        eventItem('MODEL_DEPLOYING', {
          'S.$': "States.Format('deploying revision {}', $.model.Item.servingRevision.N)",
        }),
      ),
      Catch: catchAll,
      Next: STATE.readServing,
    },
    [STATE.readServing]: withTable({
      Type: 'Task',
      Resource: `${DDB}:getItem`,
      Parameters: { Key: servingKey, ConsistentRead: true },
      ResultPath: '$.serving',
      Catch: catchAll,
      Next: 'NewRevision?',
    }),
    'NewRevision?': {
      Type: 'Choice',
      Comment: 'The running task definition already carries this revision and release: keep it (no new task).',
      Choices: [
        {
          And: [
            { Variable: '$.serving.Item.taskDefinitionArn.S', IsPresent: true },
            { Variable: '$.serving.Item.deployingRevision.N', IsPresent: true },
            { Variable: '$.serving.Item.deployingRevision.N', StringEqualsPath: '$.model.Item.servingRevision.N' },
            { Variable: '$.serving.Item.deployingRelease.S', IsPresent: true },
            { Variable: '$.serving.Item.deployingRelease.S', StringEquals: s.release },
          ],
          Next: 'KeepTaskDefinition',
        },
      ],
      Default: STATE.registerTaskDefinition,
    },
    KeepTaskDefinition: {
      Type: 'Pass',
      Parameters: { 'arn.$': '$.serving.Item.taskDefinitionArn.S' },
      ResultPath: '$.taskDefinition',
      Next: STATE.ensureTargetGroup,
    },
    [STATE.registerTaskDefinition]: {
      Type: 'Task',
      Resource: `${SDK}:ecs:registerTaskDefinition`,
      Parameters: {
        'Family.$': serviceName,
        RequiresCompatibilities: ['FARGATE'],
        NetworkMode: 'awsvpc',
        'Cpu.$': '$.model.Item.servingCpu.S',
        'Memory.$': '$.model.Item.servingMemory.S',
        ExecutionRoleArn: s.executionRoleArn,
        TaskRoleArn: s.taskRoleArn,
        RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
        ContainerDefinitions: [
          {
            Name: 'model-host',
            Image: s.image,
            Essential: true,
            PortMappings: [{ ContainerPort: s.containerPort, Protocol: 'tcp' }],
            Environment: environment,
            StopTimeout: 60,
            LogConfiguration: {
              LogDriver: 'awslogs',
              Options: {
                'awslogs-group': s.logGroupName,
                'awslogs-region': s.region,
                'awslogs-stream-prefix': 'model-host',
              },
            },
            HealthCheck: {
              Command: [
                'CMD',
                'node',
                '-e',
                `fetch('http://127.0.0.1:${s.containerPort}/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
              ],
              Interval: 15,
              Timeout: 5,
              Retries: 3,
              StartPeriod: 120,
            },
          },
        ],
        'Tags.$': 'States.StringToJson($.model.Item.servingTaskTags.S)',
      },
      ResultSelector: { 'arn.$': '$.TaskDefinition.TaskDefinitionArn' },
      ResultPath: '$.taskDefinition',
      Catch: catchAll,
      Next: STATE.ensureTargetGroup,
    },
    [STATE.ensureTargetGroup]: {
      Type: 'Task',
      Resource: `${SDK}:elasticloadbalancingv2:createTargetGroup`,
      Comment: 'Idempotent: the same name and settings return the existing target group.',
      Parameters: {
        'Name.$': targetGroupName,
        Protocol: 'HTTP',
        Port: s.containerPort,
        VpcId: s.vpcId,
        TargetType: 'ip',
        HealthCheckPath: '/health',
        HealthCheckIntervalSeconds: 15,
        HealthyThresholdCount: 2,
        UnhealthyThresholdCount: 3,
      },
      ResultSelector: { 'arn.$': '$.TargetGroups[0].TargetGroupArn' },
      ResultPath: '$.targetGroup',
      Catch: catchAll,
      Next: 'RuleExists?',
    },

    'RuleExists?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.serving.Item.ruleArn.S', IsPresent: true, Next: STATE.updateRule }],
      Default: STATE.createRule,
    },
    [STATE.createRule]: {
      Type: 'Task',
      Resource: `${SDK}:elasticloadbalancingv2:createRule`,
      Parameters: {
        ListenerArn: s.listenerArn,
        'Priority.$': 'States.StringToJson($.model.Item.servingPriority.N)',
        ...ruleTarget,
      },
      ...ruleResult,
    },
    [STATE.updateRule]: {
      Type: 'Task',
      Resource: `${SDK}:elasticloadbalancingv2:modifyRule`,
      Parameters: {
        'RuleArn.$': '$.serving.Item.ruleArn.S',
        ...ruleTarget,
      },
      ...ruleResult,
    },
    [STATE.updateService]: {
      Type: 'Task',
      Resource: `${SDK}:ecs:updateService`,
      Comment: 'A new task definition rolls a new task in before the old one drains (minimum healthy 100%).',
      Parameters: {
        Cluster: s.clusterArn,
        'Service.$': serviceName,
        'TaskDefinition.$': '$.taskDefinition.arn',
        DesiredCount: 1,
        DeploymentConfiguration: {
          MinimumHealthyPercent: 100,
          MaximumPercent: 200,
          DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        },
      },
      ResultPath: null,
      Catch: [
        {
          ErrorEquals: ['Ecs.ServiceNotFoundException', 'Ecs.ServiceNotActiveException'],
          ResultPath: null,
          Next: STATE.createService,
        },
        ...catchAll,
      ],
      Next: STATE.recordDeployment,
    },
    [STATE.createService]: {
      Type: 'Task',
      Resource: `${SDK}:ecs:createService`,
      Parameters: {
        Cluster: s.clusterArn,
        'ServiceName.$': serviceName,
        'TaskDefinition.$': '$.taskDefinition.arn',
        DesiredCount: 1,
        LaunchType: 'FARGATE',
        NetworkConfiguration: {
          AwsvpcConfiguration: {
            Subnets: s.subnetIds,
            SecurityGroups: s.securityGroupIds,
            AssignPublicIp: s.assignPublicIp ? 'ENABLED' : 'DISABLED',
          },
        },
        LoadBalancers: [
          { 'TargetGroupArn.$': '$.targetGroup.arn', ContainerName: 'model-host', ContainerPort: s.containerPort },
        ],
        HealthCheckGracePeriodSeconds: 300,
        DeploymentConfiguration: {
          MinimumHealthyPercent: 100,
          MaximumPercent: 200,
          DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        },
        EnableECSManagedTags: true,
        PropagateTags: 'TASK_DEFINITION',
      },
      ResultPath: null,
      Catch: catchAll,
      Next: STATE.recordDeployment,
    },
    [STATE.recordDeployment]: withTable({
      Type: 'Task',
      Resource: `${DDB}:updateItem`,
      Parameters: {
        Key: servingKey,
        UpdateExpression:
          'SET serviceName = :service, ruleArn = :rule, targetGroupArn = :tg, taskDefinitionArn = :td, deployingRevision = :rev, deployingRelease = :release',
        ExpressionAttributeValues: {
          ':service': { 'S.$': serviceName },
          ':rule': { 'S.$': '$.rule.arn' },
          ':tg': { 'S.$': '$.targetGroup.arn' },
          ':td': { 'S.$': '$.taskDefinition.arn' },
          ':rev': { 'N.$': '$.model.Item.servingRevision.N' },
          ':release': { S: s.release },
        },
      },
      ResultPath: null,
      Catch: catchAll,
      Next: 'StartWaiting',
    }),
    StartWaiting: {
      Type: 'Pass',
      Comment: 'Only a report written after this point counts: it has seen what triggered this run.',
      Parameters: { polls: 0, 'since.$': '$$.State.EnteredTime' },
      ResultPath: '$.wait',
      Next: STATE.waitForTask,
    },
    [STATE.waitForTask]: { Type: 'Wait', Seconds: s.pollSeconds, Next: STATE.readHostReport },
    [STATE.readHostReport]: withTable({
      Type: 'Task',
      Resource: `${DDB}:getItem`,
      Parameters: { Key: hostKey, ConsistentRead: true },
      ResultPath: '$.report',
      Catch: catchAll,
      Next: 'TaskReady?',
    }),
    'TaskReady?': {
      Type: 'Choice',
      Choices: [
        {
          And: [
            { Variable: '$.report.Item.revision.N', IsPresent: true },
            { Variable: '$.report.Item.revision.N', StringEqualsPath: '$.model.Item.servingRevision.N' },
            { Variable: '$.report.Item.allReady.BOOL', BooleanEquals: true },
            { Variable: '$.report.Item.updatedAt.S', StringGreaterThanEqualsPath: '$.wait.since' },
          ],
          Next: STATE.recordReady,
        },
        { Variable: '$.wait.polls', NumericGreaterThanEquals: s.maxPolls, Next: 'TaskNotReady' },
      ],
      Default: 'CountPoll',
    },
    CountPoll: {
      Type: 'Pass',
      Parameters: { 'polls.$': 'States.MathAdd($.wait.polls, 1)', 'since.$': '$.wait.since' },
      ResultPath: '$.wait',
      Next: STATE.waitForTask,
    },
    TaskNotReady: {
      Type: 'Pass',
      Parameters: {
        Error: 'TaskNotReady',
        'Cause.$':
          "States.Format('the serving task did not report revision {} with every live version loaded within the wait; the previous task keeps serving', $.model.Item.servingRevision.N)",
      },
      ResultPath: '$.error',
      Next: STATE.recordFailure,
    },
    [STATE.recordReady]: withTable({
      Type: 'Task',
      Resource: `${DDB}:updateItem`,
      Parameters: {
        Key: servingKey,
        UpdateExpression:
          'SET #state = :ready, message = :msg, updatedAt = :now, deployedRevision = :rev, deployedRelease = :release',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':ready': { S: 'READY' },
          ':msg': { 'S.$': "States.Format('serving {} live version(s)', $.report.Item.live.N)" },
          ':now': { 'S.$': '$$.State.EnteredTime' },
          ':rev': { 'N.$': '$.model.Item.servingRevision.N' },
          ':release': { S: s.release },
        },
      },
      ResultPath: null,
      Catch: catchAll,
      Next: STATE.recordReadyEvent,
    }),
    [STATE.recordReadyEvent]: {
      ...withTable(
        eventItem('MODEL_READY', {
          'S.$':
            "States.Format('revision {} ready: {} of {} live version(s) loaded', $.model.Item.servingRevision.N, $.report.Item.ready.N, $.report.Item.live.N)",
        }),
      ),
      Catch: catchAll,
      Next: STATE.releaseRun,
    },

    // ---- serving disabled (or the model went away): remove the service, rule and target group
    ReadServingForTeardown: withTable({
      Type: 'Task',
      Resource: `${DDB}:getItem`,
      Parameters: { Key: servingKey, ConsistentRead: true },
      ResultPath: '$.serving',
      Catch: catchAll,
      Next: 'ServiceDeployed?',
    }),
    'ServiceDeployed?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.serving.Item.serviceName.S', IsPresent: true, Next: STATE.deleteService }],
      Default: 'StoppedAlready?',
    },
    'StoppedAlready?': {
      Type: 'Choice',
      Comment: 'Nothing deployed and never served, or already recorded STOPPED: nothing to do.',
      Choices: [
        { Not: { Variable: '$.serving.Item.state.S', IsPresent: true }, Next: STATE.releaseRun },
        { Variable: '$.serving.Item.state.S', StringEquals: 'STOPPED', Next: STATE.releaseRun },
      ],
      Default: STATE.recordStopped,
    },
    [STATE.deleteService]: {
      Type: 'Task',
      Resource: `${SDK}:ecs:deleteService`,
      Parameters: { Cluster: s.clusterArn, 'Service.$': '$.serving.Item.serviceName.S', Force: true },
      ResultPath: null,
      Catch: [
        {
          ErrorEquals: ['Ecs.ServiceNotFoundException', 'Ecs.ServiceNotActiveException'],
          ResultPath: null,
          Next: 'RuleToDelete?',
        },
        ...catchAll,
      ],
      Next: 'RuleToDelete?',
    },
    'RuleToDelete?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.serving.Item.ruleArn.S', IsPresent: true, Next: STATE.deleteRule }],
      Default: 'TargetGroupToDelete?',
    },
    [STATE.deleteRule]: {
      Type: 'Task',
      Resource: `${SDK}:elasticloadbalancingv2:deleteRule`,
      Parameters: { 'RuleArn.$': '$.serving.Item.ruleArn.S' },
      ResultPath: null,
      Catch: [
        {
          ErrorEquals: ['ElasticLoadBalancingV2.RuleNotFoundException'],
          ResultPath: null,
          Next: 'TargetGroupToDelete?',
        },
        ...catchAll,
      ],
      Next: 'TargetGroupToDelete?',
    },
    'TargetGroupToDelete?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.serving.Item.targetGroupArn.S', IsPresent: true, Next: STATE.deleteTargetGroup }],
      Default: STATE.recordStopped,
    },
    [STATE.deleteTargetGroup]: {
      Type: 'Task',
      Resource: `${SDK}:elasticloadbalancingv2:deleteTargetGroup`,
      Parameters: { 'TargetGroupArn.$': '$.serving.Item.targetGroupArn.S' },
      ResultPath: null,
      Retry: [
        {
          ErrorEquals: ['ElasticLoadBalancingV2.ResourceInUseException'],
          IntervalSeconds: 10,
          MaxAttempts: 6,
          BackoffRate: 1.5,
        },
      ],
      Catch: [
        {
          ErrorEquals: ['ElasticLoadBalancingV2.TargetGroupNotFoundException'],
          ResultPath: null,
          Next: STATE.recordStopped,
        },
        ...catchAll,
      ],
      Next: STATE.recordStopped,
    },
    [STATE.recordStopped]: withTable({
      Type: 'Task',
      Resource: `${DDB}:updateItem`,
      Parameters: {
        Key: servingKey,
        UpdateExpression:
          'SET #state = :stopped, message = :msg, updatedAt = :now REMOVE serviceName, ruleArn, targetGroupArn, taskDefinitionArn, deployedRevision, deployingRevision, deployedRelease, deployingRelease',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':stopped': { S: 'STOPPED' },
          ':msg': { S: 'serving is disabled' },
          ':now': { 'S.$': '$$.State.EnteredTime' },
        },
      },
      ResultPath: null,
      Catch: catchAll,
      Next: STATE.recordStoppedEvent,
    }),
    [STATE.recordStoppedEvent]: {
      ...withTable(eventItem('MODEL_STOPPED', { S: 'serving task, listener rule and target group removed' })),
      Catch: catchAll,
      Next: STATE.releaseRun,
    },

    // ---- failure: the previous task keeps serving; state and an event say what failed and why
    [STATE.recordFailure]: withTable({
      Type: 'Task',
      Resource: `${DDB}:updateItem`,
      Parameters: {
        Key: servingKey,
        UpdateExpression: 'SET #state = :failed, message = :msg, updatedAt = :now',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':failed': { S: 'FAILED' },
          ':msg': { 'S.$': "States.Format('{}: {}', $.error.Error, $.error.Cause)" },
          ':now': { 'S.$': '$$.State.EnteredTime' },
        },
      },
      ResultPath: null,
      Next: STATE.recordFailureEvent,
    }),
    [STATE.recordFailureEvent]: {
      ...withTable(
        eventItem('MODEL_DEPLOY_FAILED', { 'S.$': "States.Format('{}: {}', $.error.Error, $.error.Cause)" }),
      ),
      Next: 'ReleaseAfterFailure',
    },
    ReleaseAfterFailure: withTable({
      Type: 'Task',
      Resource: `${DDB}:updateItem`,
      Parameters: {
        Key: servingKey,
        UpdateExpression: 'REMOVE runOwner, runStartedAt',
        ConditionExpression: 'runOwner = :me',
        ExpressionAttributeValues: { ':me': { 'S.$': '$$.Execution.Name' } },
      },
      ResultPath: null,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: 'DeployFailed' }],
      Next: 'DeployFailed',
    }),
    DeployFailed: { Type: 'Fail', Error: 'DeployFailed', Cause: 'See the model serving state and events.' },

    // ---- end of a run: release the claim, or converge again if requests came in meanwhile
    [STATE.releaseRun]: withTable({
      Type: 'Task',
      Resource: `${DDB}:updateItem`,
      Parameters: {
        Key: servingKey,
        UpdateExpression: 'REMOVE runOwner, runStartedAt',
        ConditionExpression: 'runOwner = :me AND pendingRequests = :zero',
        ExpressionAttributeValues: { ':me': { 'S.$': '$$.Execution.Name' }, ':zero': { N: '0' } },
      },
      ResultPath: null,
      Catch: [{ ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], ResultPath: null, Next: STATE.restartRun }],
      Next: STATE.converged,
    }),
    [STATE.restartRun]: withTable({
      Type: 'Task',
      Resource: `${DDB}:updateItem`,
      Comment: 'Requests arrived during this run: take them and converge once more.',
      Parameters: {
        Key: servingKey,
        UpdateExpression: 'SET pendingRequests = :zero',
        ConditionExpression: 'runOwner = :me',
        ExpressionAttributeValues: { ':me': { 'S.$': '$$.Execution.Name' }, ':zero': { N: '0' } },
      },
      ResultPath: null,
      Catch: [{ ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], ResultPath: null, Next: STATE.converged }],
      Next: 'ClearRunState',
    }),
    ClearRunState: {
      Type: 'Pass',
      Parameters: { 'modelName.$': '$.modelName', 'staleBefore.$': '$.staleBefore', 'lookup.$': '$.lookup' },
      Next: STATE.readModel,
    },
    [STATE.converged]: { Type: 'Succeed' },
  };
  return {
    Comment: "mlserve deploy-model: converge one model's serving task to the registry (idempotent).",
    StartAt: STATE.lookUpModel,
    TimeoutSeconds: 3600,
    States: states,
  };
}
