/**
 * The registration check over a given registry (the Lambda entry and the local twin both use
 * it): for a `ModelVersionCreated` event, reads the version's MLmodel and marks the version READY
 * or FAILED_REGISTRATION.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { DomainEventSchema } from '../../core/events/domain-events';
import type { ModelRegistry } from '../../core/registry/registry';

/** The fields of an EventBridge event the check reads. */
export interface RegistrationCheckEvent {
  readonly 'detail-type'?: string;
  readonly detail?: unknown;
}

export function createRegistrationCheck(deps: { registry: ModelRegistry; logger: Logger }) {
  const { registry, logger } = deps;
  return async (event: RegistrationCheckEvent): Promise<void> => {
    const parsed = DomainEventSchema.safeParse(event.detail);
    if (!parsed.success || parsed.data.type !== 'ModelVersionCreated') {
      logger.warn('ignoring event that is not ModelVersionCreated', { detailType: event['detail-type'] });
      return;
    }
    const outcome = await registry.completeRegistration(parsed.data.modelName, parsed.data.version);
    logger.info('registration checked', {
      model: parsed.data.modelName,
      version: parsed.data.version,
      status: outcome?.status ?? 'unchanged',
    });
  };
}
