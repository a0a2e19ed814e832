/**
 * Step 2 of a run, serving enabled: mark the model PENDING when a new serving revision or release
 * must roll out; register a task definition only for a new revision or release; ensure the target
 * group and the listener rule for `/model/<name>/*`; update the ECS service (or create it); record
 * what was deployed. The wait for the task follows (`wait.ts`).
 */

import { SERVICE_PREFIX } from '../triggers';
import { catchAll, DDB, eventItem, keys, SDK, STATE, type States, withTable } from './asl';
import type { DeployModelSettings } from './settings';

/** Names of the model's AWS resources, derived from its registry id (stable across renames). */
const serviceName = `States.Format('${SERVICE_PREFIX}{}', $.lookup.Item.modelId.S)`;
const idParts = "States.StringSplit($.lookup.Item.modelId.S, '-')";
const targetGroupName = `States.Format('mls-{}-{}', States.ArrayGetItem(${idParts}, 0), States.ArrayGetItem(${idParts}, 1))`;

/** A new task alongside the old one until it is healthy; ECS rolls back a deployment that fails. */
const rollout = {
  MinimumHealthyPercent: 100,
  MaximumPercent: 200,
  DeploymentCircuitBreaker: { Enable: true, Rollback: true },
};

export function deployStates(s: DeployModelSettings): States {
  return { ...pendingStates(s), ...taskDefinitionStates(s), ...routeStates(s), ...serviceStates(s) };
}

/** PENDING (and an event) only when a new revision or release must roll out; then read the serving item. */
function pendingStates(s: DeployModelSettings): States {
  return {
    [STATE.markPending]: withTable(s.tableName, {
      Type: 'Task',
      Resource: `${DDB}:updateItem`,
      Comment: 'PENDING only when a new revision must roll out; a running model stays READY meanwhile.',
      Parameters: {
        Key: keys.serving,
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
      ...eventItem(s.tableName, 'MODEL_DEPLOYING', {
        'S.$': "States.Format('deploying revision {}', $.model.Item.servingRevision.N)",
      }),
      Catch: catchAll,
      Next: STATE.readServing,
    },
    [STATE.readServing]: withTable(s.tableName, {
      Type: 'Task',
      Resource: `${DDB}:getItem`,
      Parameters: { Key: keys.serving, ConsistentRead: true },
      ResultPath: '$.serving',
      Catch: catchAll,
      Next: 'NewRevision?',
    }),
  };
}

/** Keep the running task definition when it carries this revision and release; else register one. */
function taskDefinitionStates(s: DeployModelSettings): States {
  const environment = [
    ...Object.entries(s.environment).map(([name, value]) => ({ Name: name, Value: value })),
    { Name: 'REGISTRY_TABLE', Value: s.tableName },
    { Name: 'MLSERVE_MODEL_NAME', 'Value.$': '$.modelName' },
    { Name: 'MLSERVE_REVISION', 'Value.$': '$.model.Item.servingRevision.N' },
    // What the task runs besides its model: built Python environments are kept per release.
    { Name: 'MLSERVE_RELEASE', Value: s.release },
    // The task's memory, from which the host derives its memory budget for requests in flight.
    { Name: 'MLSERVE_MEMORY_MIB', 'Value.$': '$.model.Item.servingMemory.S' },
    // The task's CPU units, from which the host derives how many Python workers a version gets.
    { Name: 'MLSERVE_CPU_UNITS', 'Value.$': '$.model.Item.servingCpu.S' },
  ];
  return {
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
  };
}

/** The target group (idempotent create) and the listener rule `/model/<name>/*` forwarding to it. */
function routeStates(s: DeployModelSettings): States {
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
  return {
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
  };
}

/** The ECS service on the task definition (updated, or created when missing), then the record of it. */
function serviceStates(s: DeployModelSettings): States {
  return {
    [STATE.updateService]: {
      Type: 'Task',
      Resource: `${SDK}:ecs:updateService`,
      Comment: 'A new task definition rolls a new task in before the old one drains (minimum healthy 100%).',
      Parameters: {
        Cluster: s.clusterArn,
        'Service.$': serviceName,
        'TaskDefinition.$': '$.taskDefinition.arn',
        DesiredCount: 1,
        DeploymentConfiguration: rollout,
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
        DeploymentConfiguration: rollout,
        EnableECSManagedTags: true,
        PropagateTags: 'TASK_DEFINITION',
      },
      ResultPath: null,
      Catch: catchAll,
      Next: STATE.recordDeployment,
    },
    [STATE.recordDeployment]: withTable(s.tableName, {
      Type: 'Task',
      Resource: `${DDB}:updateItem`,
      Parameters: {
        Key: keys.serving,
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
      Next: STATE.startWaiting,
    }),
  };
}
