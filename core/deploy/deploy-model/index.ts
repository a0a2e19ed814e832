/**
 * The deploy-model state machine (Amazon States Language, JSONPath): converges one model's
 * serving task to what the registry says it should be. Built here for both the CDK app (Step
 * Functions) and the local twin (a local ASL interpreter whose ECS and load balancer tasks are
 * answered by local stand-ins), from one builder per step of a run.
 *
 * Input: `{"modelName": "...", "staleBefore": "<ISO time>", "reason": "..."}`. `staleBefore`
 * lets a run take over the model's run claim from an execution that died before releasing it.
 */
import { STATE, type States } from './asl';
import { claimStates } from './claim';
import { deployStates } from './deploy';
import { failureStates, finishStates } from './finish';
import type { DeployModelSettings } from './settings';
import { stopStates } from './stop';
import { waitStates } from './wait';

export { STATE } from './asl';
export type { DeployModelSettings } from './settings';

/** The phases of a run in the order of its steps, each building its own states. */
export const DEPLOY_MODEL_PHASES = {
  claim: claimStates,
  deploy: deployStates,
  wait: waitStates,
  stop: stopStates,
  failure: failureStates,
  finish: finishStates,
} as const satisfies Record<string, (s: DeployModelSettings) => States>;

export function buildDeployModelDefinition(s: DeployModelSettings): Record<string, unknown> {
  const states: States = {};
  for (const phase of Object.values(DEPLOY_MODEL_PHASES)) Object.assign(states, phase(s));
  return {
    Comment: "mlserve deploy-model: converge one model's serving task to the registry (idempotent).",
    StartAt: STATE.lookUpModel,
    TimeoutSeconds: 3600,
    States: states,
  };
}
