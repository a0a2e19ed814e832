/**
 * Step 2, continued: wait until the task reports (the `SERVING#HOST` item) this revision with
 * every live version settled, in a report written after the wait began; then record READY and an
 * event. A task that has not reported so after `maxPolls` checks fails the run (the previous task
 * keeps serving).
 */
import { catchAll, DDB, eventItem, keys, STATE, type States, withTable } from './asl';
import type { DeployModelSettings } from './settings';

export function waitStates(s: DeployModelSettings): States {
  return {
    [STATE.startWaiting]: {
      Type: 'Pass',
      Comment: 'Only a report written after this point counts: it has seen what triggered this run.',
      Parameters: { polls: 0, 'since.$': '$$.State.EnteredTime' },
      ResultPath: '$.wait',
      Next: STATE.waitForTask,
    },
    [STATE.waitForTask]: { Type: 'Wait', Seconds: s.pollSeconds, Next: STATE.readHostReport },
    [STATE.readHostReport]: withTable(s.tableName, {
      Type: 'Task',
      Resource: `${DDB}:getItem`,
      Parameters: { Key: keys.host, ConsistentRead: true },
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
    [STATE.recordReady]: withTable(s.tableName, {
      Type: 'Task',
      Resource: `${DDB}:updateItem`,
      Parameters: {
        Key: keys.serving,
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
      ...eventItem(s.tableName, 'MODEL_READY', {
        'S.$':
          "States.Format('revision {} ready: {} of {} live version(s) loaded', $.model.Item.servingRevision.N, $.report.Item.ready.N, $.report.Item.live.N)",
      }),
      Catch: catchAll,
      Next: STATE.releaseRun,
    },
  };
}
