/**
 * Lambda entry: the registration check. An EventBridge rule sends it every
 * `ModelVersionCreated` event; it reads the version's MLmodel and marks the version
 * READY or FAILED_REGISTRATION.
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { EventBridgeEvent } from 'aws-lambda';
import { logger } from '../shared/logger';
import { registryFromEnv } from '../shared/registry-from-env';
import { createRegistrationCheck } from './registration-check-app';

const check = createRegistrationCheck({ registry: registryFromEnv(), logger });

export const handler = middy<EventBridgeEvent<string, unknown>, void>()
  .use(injectLambdaContext(logger))
  .handler((event) => check(event));
