/**
 * What starts a deploy-model execution, in one place for AWS and the local twin: the registry's
 * domain events that change what a model should serve, a serving task that stopped on its own,
 * and the periodic reconcile.
 */
import type { DomainEventType } from '../events/domain-events';

/** Registry events that start a convergence (the EventBridge rule's detail types). */
export const DEPLOY_TRIGGERS: readonly DomainEventType[] = [
  'ServingEnabled',
  'ServingDisabled',
  'ServingReconfigured',
  'ModelVersionReady',
  'ModelVersionDeleted',
  'ModelVersionStageChanged',
  'ModelAliasSet',
  'ModelAliasDeleted',
];

/** The input of one deploy-model execution. */
export interface DeployModelInput {
  readonly modelName: string;
  /** A run claim older than this (ISO time) belongs to an execution that died: take it over. */
  readonly staleBefore: string;
  readonly reason: string;
}

/** How long a deploy-model run may hold a model before another may take it over. */
export const RUN_CLAIM_TTL_MS = 20 * 60_000;

export function deployInput(modelName: string, reason: string, now = Date.now()): DeployModelInput {
  return { modelName, staleBefore: new Date(now - RUN_CLAIM_TTL_MS).toISOString(), reason };
}

/** An execution name Step Functions accepts (80 characters of [A-Za-z0-9_-]), unique per start. */
export function executionName(modelName: string, unique: string): string {
  return `${modelName.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40)}-${unique}`;
}

/** How the deploy workflow names a model's ECS service: this prefix, then the model's registry id. */
export const SERVICE_PREFIX = 'mlserve-';

/** The model id in an ECS service name the deploy workflow gave (`mlserve-<modelId>`), or in a task's group (`service:<name>`). */
export function modelIdOfService(group: string): string | undefined {
  return new RegExp(`^(?:service:)?${SERVICE_PREFIX}([0-9a-f-]{36})$`).exec(group)?.[1];
}
