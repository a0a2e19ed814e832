/**
 * What the deploy-model phases share: state names, the task resources, the registry table's keys
 * as the workflow addresses them, and the failure route every task takes.
 */
import { asl } from '../../table/layout';

/** One state of the definition (Amazon States Language, JSONPath). */
export type State = Record<string, unknown>;

/** A phase's states, by name. */
export type States = Record<string, State>;

/**
 * Names of the states, so local runs can answer the ECS and load-balancer tasks by name; the
 * states through which one phase hands over to another are among them.
 */
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
  startWaiting: 'StartWaiting',
  waitForTask: 'WaitForTask',
  readHostReport: 'ReadHostReport',
  recordReady: 'RecordReady',
  recordReadyEvent: 'RecordReadyEvent',
  readServingForTeardown: 'ReadServingForTeardown',
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

/** DynamoDB tasks (optimized integrations). */
export const DDB = 'arn:aws:states:::dynamodb';
/** ECS and Elastic Load Balancing tasks (AWS SDK integrations). */
export const SDK = 'arn:aws:states:::aws-sdk';

// ---- the registry table's keys (core/table/layout.ts), as the workflow's JSONPath addresses them
const MODEL_ID = '$.lookup.Item.modelId.S';

export const keys = {
  /** The model's name item, from the execution's input. */
  name: asl.nameKey('$.modelName'),
  /** The model item, from the looked-up id. */
  model: asl.modelKey(MODEL_ID),
  /** The model's serving state (its run claim, deployed resources and revision). */
  serving: asl.servingModelKey(MODEL_ID),
  /** The model host's report of what it serves. */
  host: asl.hostReportKey(MODEL_ID),
  /** A new event of the model, ordered by time. */
  event: asl.eventKey(MODEL_ID, '$$.State.EnteredTime', '$$.Execution.Name'),
} as const;

/** A DynamoDB task's state with the registry table named in its parameters. */
export function withTable(tableName: string, state: State): State {
  const parameters = state.Parameters as Record<string, unknown>;
  return { ...state, Parameters: { ...parameters, TableName: tableName } };
}

/** Any error of a task: record the failure (the previous task keeps serving). */
export const catchAll = [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: STATE.recordFailure }];

/** Writes one event of the model (as the registry's `servingEvents` reads them). */
export function eventItem(tableName: string, type: string, message: Record<string, string>): State {
  return {
    Type: 'Task',
    Resource: `${DDB}:putItem`,
    Parameters: {
      TableName: tableName,
      Item: {
        ...keys.event,
        ...asl.eventAttributes('$$.State.EnteredTime'),
        type: { S: type },
        message,
      },
    },
    ResultPath: null,
  };
}
