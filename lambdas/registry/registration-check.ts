/**
 * Lambda entry: the registration check. An EventBridge rule sends it every
 * `ModelVersionCreated` event; it reads the version's MLmodel and marks the version
 * READY or FAILED_REGISTRATION.
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { EventBridgeEvent } from 'aws-lambda';
import { DomainEventSchema } from '../../core/events/domain-events';
import { logger } from '../shared/logger';
import { registryFromEnv } from '../shared/registry-from-env';

const registry = registryFromEnv();

export const handler = middy<EventBridgeEvent<string, unknown>, void>()
  .use(injectLambdaContext(logger))
  .handler(async (event) => {
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
  });
