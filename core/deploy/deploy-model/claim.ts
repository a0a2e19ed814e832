/**
 * Step 1 of a run: look the model up and claim it for this run (`runOwner` on its serving item;
 * another run's claim is respected unless older than `staleBefore`), then read the model and
 * choose between deploying (serving enabled) and stopping.
 */
import { catchAll, DDB, keys, STATE, type States, withTable } from './asl';
import type { DeployModelSettings } from './settings';

export function claimStates(s: DeployModelSettings): States {
  return {
    [STATE.lookUpModel]: withTable(s.tableName, {
      Type: 'Task',
      Resource: `${DDB}:getItem`,
      Parameters: { Key: keys.name, ConsistentRead: true },
      ResultPath: '$.lookup',
      Next: 'ModelKnown?',
    }),
    'ModelKnown?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.lookup.Item.modelId.S', IsPresent: true, Next: STATE.claimRun }],
      Default: 'NothingToDo',
    },
    NothingToDo: { Type: 'Succeed', Comment: 'The model no longer exists: nothing to converge.' },
    [STATE.claimRun]: withTable(s.tableName, {
      Type: 'Task',
      Resource: `${DDB}:updateItem`,
      Comment: 'One run per model at a time: claim the model, or leave it to the run that has it.',
      Parameters: {
        Key: keys.serving,
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
    [STATE.readModel]: withTable(s.tableName, {
      Type: 'Task',
      Resource: `${DDB}:getItem`,
      Parameters: { Key: keys.model, ConsistentRead: true },
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
      Default: STATE.readServingForTeardown,
    },
  };
}
