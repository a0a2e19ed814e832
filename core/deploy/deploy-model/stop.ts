/**
 * Step 3 of a run, serving disabled: delete the service, the listener rule and the target group
 * (each only when recorded, each already gone counting as done); record STOPPED and an event.
 * A model never served, or already STOPPED, needs nothing.
 */
import { catchAll, DDB, eventItem, keys, SDK, STATE, type States, withTable } from './asl';
import type { DeployModelSettings } from './settings';

export function stopStates(s: DeployModelSettings): States {
  return {
    [STATE.readServingForTeardown]: withTable(s.tableName, {
      Type: 'Task',
      Resource: `${DDB}:getItem`,
      Parameters: { Key: keys.serving, ConsistentRead: true },
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
    [STATE.recordStopped]: withTable(s.tableName, {
      Type: 'Task',
      Resource: `${DDB}:updateItem`,
      Parameters: {
        Key: keys.serving,
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
      ...eventItem(s.tableName, 'MODEL_STOPPED', { S: 'serving task, listener rule and target group removed' }),
      Catch: catchAll,
      Next: STATE.releaseRun,
    },
  };
}
