/**
 * The twin's EventBridge rules and schedule: the same rules as the CDK app's, on the in-process
 * bus, in front of the same entries as the Lambdas' — the registration check, and the deploy
 * trigger starting executions on the twin's deploy runner as it starts them on Step Functions.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  RECONCILE_SCHEDULE,
  REGISTRY_EVENTS_RULE,
  taskStoppedRule,
  VERSION_CREATED_RULE,
} from '../core/deploy/event-rules';
import type { InProcessBus } from '../core/events/in-process-bus';
import type { ModelRegistry } from '../core/registry/registry';
import type { ServingControl } from '../core/serving/serving';
import { createTrigger, type ExecutionStarter } from '../lambdas/deploy/trigger-app';
import { createRegistrationCheck } from '../lambdas/registry/registration-check-app';

export interface EventWiringOptions {
  readonly bus: InProcessBus;
  readonly registry: ModelRegistry;
  readonly serving: ServingControl;
  /** StartExecution of the deploy-model state machine. */
  readonly starter: ExecutionStarter;
  /** The cluster whose stopped tasks restart models (the ECS stand-in's). */
  readonly clusterArn: string;
  readonly logger: Logger;
}

export interface EventWiring {
  /** What the schedule does: the trigger's reconcile of every served model. */
  reconcile(): Promise<void>;
  /** Runs the reconcile every `everyMs` (none for 0) until `stop`. */
  schedule(everyMs: number): void;
  /** Removes the rules and the schedule. */
  stop(): void;
}

export function wireEvents(options: EventWiringOptions): EventWiring {
  const { bus, registry, serving, logger } = options;
  const trigger = createTrigger({ serving, starter: options.starter, logger });
  const check = createRegistrationCheck({ registry, logger });
  const rules = [
    bus.addRule(REGISTRY_EVENTS_RULE.pattern, trigger),
    bus.addRule(VERSION_CREATED_RULE.pattern, check),
    bus.addRule(taskStoppedRule(options.clusterArn).pattern, trigger),
  ];
  const reconcile = async () => {
    await trigger({ ...RECONCILE_SCHEDULE.input }).catch((error: unknown) =>
      logger.warn('reconcile failed', { error: error as Error }),
    );
  };
  let timer: NodeJS.Timeout | undefined;
  return {
    reconcile,
    schedule: (everyMs) => {
      if (everyMs <= 0) return;
      timer = setInterval(() => void reconcile(), everyMs);
      timer.unref();
    },
    stop: () => {
      clearInterval(timer);
      for (const remove of rules) remove();
    },
  };
}
