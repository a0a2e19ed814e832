/**
 * How a run ends. Step 4, any failure: FAILED with `Error: Cause` in the state and an event, the
 * claim released, the execution failed (the previous task keeps serving). Step 5: release the
 * claim — unless requests arrived during the run (`pendingRequests`), in which case converge once
 * more from the model's read.
 */
import { DDB, eventItem, keys, STATE, type States, withTable } from './asl';
import type { DeployModelSettings } from './settings';

export function failureStates(s: DeployModelSettings): States {
  return {
    [STATE.recordFailure]: withTable(s.tableName, {
      Type: 'Task',
      Resource: `${DDB}:updateItem`,
      Parameters: {
        Key: keys.serving,
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
      ...eventItem(s.tableName, 'MODEL_DEPLOY_FAILED', {
        'S.$': "States.Format('{}: {}', $.error.Error, $.error.Cause)",
      }),
      Next: 'ReleaseAfterFailure',
    },
    ReleaseAfterFailure: withTable(s.tableName, {
      Type: 'Task',
      Resource: `${DDB}:updateItem`,
      Parameters: {
        Key: keys.serving,
        UpdateExpression: 'REMOVE runOwner, runStartedAt',
        ConditionExpression: 'runOwner = :me',
        ExpressionAttributeValues: { ':me': { 'S.$': '$$.Execution.Name' } },
      },
      ResultPath: null,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: 'DeployFailed' }],
      Next: 'DeployFailed',
    }),
    DeployFailed: { Type: 'Fail', Error: 'DeployFailed', Cause: 'See the model serving state and events.' },
  };
}

export function finishStates(s: DeployModelSettings): States {
  return {
    [STATE.releaseRun]: withTable(s.tableName, {
      Type: 'Task',
      Resource: `${DDB}:updateItem`,
      Parameters: {
        Key: keys.serving,
        UpdateExpression: 'REMOVE runOwner, runStartedAt',
        ConditionExpression: 'runOwner = :me AND pendingRequests = :zero',
        ExpressionAttributeValues: { ':me': { 'S.$': '$$.Execution.Name' }, ':zero': { N: '0' } },
      },
      ResultPath: null,
      Catch: [{ ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], ResultPath: null, Next: STATE.restartRun }],
      Next: STATE.converged,
    }),
    [STATE.restartRun]: withTable(s.tableName, {
      Type: 'Task',
      Resource: `${DDB}:updateItem`,
      Comment: 'Requests arrived during this run: take them and converge once more.',
      Parameters: {
        Key: keys.serving,
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
}
