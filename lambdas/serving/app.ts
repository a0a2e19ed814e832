/** The serving API as a Lambda handler (the Lambda entry and the local twin both use it). */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { accessLog, mlflowErrors } from '../shared/http';
import { logger } from '../shared/logger';
import { dispatchRoutes } from '../shared/routing';
import { SERVING_PREFIX, SERVING_ROUTES, type ServingDeps } from './routes';

export function createServingHandler(deps: ServingDeps) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(injectLambdaContext(logger))
    .use(accessLog())
    .use(mlflowErrors())
    .handler((event) => dispatchRoutes(SERVING_PREFIX, SERVING_ROUTES, deps, deps.access, event));
}
