/** The registry API as a Lambda handler over a given registry (the Lambda entry and the local twin both use it). */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { AccessControl } from '../../core/auth/access';
import type { ModelRegistry } from '../../core/registry/registry';
import { accessLog, mlflowErrors } from '../shared/http';
import { logger } from '../shared/logger';
import { dispatchRoutes } from '../shared/routing';
import { API_PREFIX, ROUTES } from './routes';

export function dispatch(
  registry: ModelRegistry,
  access: AccessControl,
  event: APIGatewayProxyEvent,
): Promise<APIGatewayProxyResult> {
  return dispatchRoutes(API_PREFIX, ROUTES, registry, access, event);
}

export function createRegistryHandler(registry: ModelRegistry, access: AccessControl) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(injectLambdaContext(logger))
    .use(accessLog())
    .use(mlflowErrors())
    .handler((event) => dispatch(registry, access, event));
}
