/**
 * The deploy trigger: EventBridge sends it the registry's serving-relevant events, ECS task
 * state changes, and the scheduled reconcile; it starts one deploy-model execution per model
 * concerned. Each start first counts the request on the model, so a run in progress converges
 * once more instead of a second run competing with it (the definition's run claim).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  DEPLOY_TRIGGERS,
  type DeployModelInput,
  deployInput,
  executionName,
  modelIdOfService,
} from '../../core/deploy/triggers';
import { DomainEventSchema, EVENT_SOURCE } from '../../core/events/domain-events';
import type { ServingControl } from '../../core/serving/serving';

export interface ExecutionStarter {
  start(name: string, input: DeployModelInput): Promise<void>;
}

export interface TriggerEvent {
  readonly source?: string;
  readonly 'detail-type'?: string;
  readonly detail?: Record<string, unknown>;
  /** The scheduler's reconcile target input. */
  readonly reconcile?: boolean;
}

/** Stop codes of tasks ECS or an operator stopped on purpose (a deployment, a scale-in). */
const EXPECTED_STOPS = new Set(['ServiceSchedulerInitiated', 'UserInitiated', 'SpotInterruption', 'TerminationNotice']);

export function createTrigger(deps: { serving: ServingControl; starter: ExecutionStarter; logger: Logger }) {
  const { serving, starter, logger } = deps;
  const converge = async (modelName: string, reason: string) => {
    await serving.requestConvergence(modelName);
    await starter.start(executionName(modelName, randomUUID()), deployInput(modelName, reason));
    logger.info('deploy-model started', { model: modelName, reason });
  };

  return async (event: TriggerEvent): Promise<{ started: string[] }> => {
    const started: string[] = [];
    if (event.reconcile) {
      for (const model of await serving.servingModels()) {
        await converge(model.name, 'periodic reconcile');
        started.push(model.name);
      }
      return { started };
    }
    if (event.source === EVENT_SOURCE) {
      const parsed = DomainEventSchema.safeParse(event.detail);
      if (!parsed.success || !DEPLOY_TRIGGERS.includes(parsed.data.type)) return { started };
      const status = await serving.modelServingStatus(parsed.data.modelName).catch(() => undefined);
      if (!status?.config) return { started };
      await converge(parsed.data.modelName, parsed.data.type);
      return { started: [parsed.data.modelName] };
    }
    if (event.source === 'aws.ecs' && event['detail-type'] === 'ECS Task State Change') {
      const detail = event.detail ?? {};
      if (detail.lastStatus !== 'STOPPED' || EXPECTED_STOPS.has(String(detail.stopCode))) return { started };
      const modelId = modelIdOfService(String(detail.group ?? ''));
      const name = modelId ? await serving.modelNameById(modelId) : undefined;
      if (!name) return { started };
      const reason = String(detail.stoppedReason ?? detail.stopCode ?? 'stopped');
      await serving.recordServingEvent({
        name,
        type: 'TASK_STOPPED',
        message: `serving task stopped: ${reason}; ECS starts a new one`,
      });
      await converge(name, 'task stopped unexpectedly');
      return { started: [name] };
    }
    logger.warn('ignoring an event that starts no deployment', {
      source: event.source,
      detailType: event['detail-type'],
    });
    return { started };
  };
}
