/** The token and permissions APIs as one Lambda handler (the Lambda entry and the local twin both use it). */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { accessLog, mlflowErrors } from '../shared/http';
import { logger } from '../shared/logger';
import { dispatchRoutes } from '../shared/routing';
import { type AccessDeps, PERMISSION_ROUTES, PERMISSIONS_PREFIX, TOKEN_ROUTES, TOKENS_PREFIX } from './routes';

export function createAccessHandler(deps: AccessDeps) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(injectLambdaContext(logger))
    .use(accessLog())
    .use(mlflowErrors())
    .handler((event) =>
      event.path.startsWith(PERMISSIONS_PREFIX)
        ? dispatchRoutes(PERMISSIONS_PREFIX, PERMISSION_ROUTES, deps, deps.access, event)
        : dispatchRoutes(TOKENS_PREFIX, TOKEN_ROUTES, deps, deps.access, event),
    );
}
