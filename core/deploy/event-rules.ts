/**
 * The EventBridge rules that feed the deploy workflow and the registration check, as data: the
 * CDK app builds its rules from these patterns and the local twin's bus routes events with the
 * same patterns (see `matchesPattern`).
 */
import { EVENT_SOURCE } from '../events/domain-events';
import type { EventPattern } from '../events/event-pattern';
import { DEPLOY_TRIGGERS, SERVICE_PREFIX } from './triggers';

export interface EventRule {
  readonly description: string;
  readonly pattern: EventPattern;
}

/** The registry changes that change what a model serves: to the deploy trigger. */
export const REGISTRY_EVENTS_RULE: EventRule = {
  description: 'Registry changes that change what a model serves',
  pattern: { source: [EVENT_SOURCE], 'detail-type': [...DEPLOY_TRIGGERS] },
};

/** Every new model version: to the registration check. */
export const VERSION_CREATED_RULE: EventRule = {
  description: 'Check the artifact of every new model version',
  pattern: { source: [EVENT_SOURCE], 'detail-type': ['ModelVersionCreated'] },
};

/**
 * Every stopped task of the cluster's model services: to the deploy trigger, which tells planned
 * stops (a deployment, a scale-in) from tasks that stopped on their own by their stop code.
 */
export function taskStoppedRule(clusterArn: string): EventRule {
  return {
    description: 'A serving task that stopped on its own: converge (ECS starts a replacement)',
    pattern: {
      source: ['aws.ecs'],
      'detail-type': ['ECS Task State Change'],
      detail: { clusterArn: [clusterArn], lastStatus: ['STOPPED'], group: [{ prefix: `service:${SERVICE_PREFIX}` }] },
    },
  };
}

/** The scheduled reconcile: the trigger's input, and how often on AWS. */
export const RECONCILE_SCHEDULE = {
  description: 'Converge every served model, catching any missed event',
  input: { reconcile: true },
  everyMinutes: 5,
} as const;
