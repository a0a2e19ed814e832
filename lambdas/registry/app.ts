/** The registry API as a Lambda handler over a given registry (the Lambda entry and the local twin both use it). */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { ModelRegistry } from '../../core/registry/registry';
import { MlflowError } from '../../core/shared/errors';
import { accessLog, json, mlflowErrors, parseParams, requestParams } from '../shared/http';
import { logger } from '../shared/logger';
import { API_PREFIX, ROUTES } from './routes';

export async function dispatch(registry: ModelRegistry, event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const path = event.path.replace(/\/+$/, '');
  if (!path.startsWith(API_PREFIX)) {
    throw new MlflowError('ENDPOINT_NOT_FOUND', `No API endpoint at ${event.path}`);
  }
  const sub = path.slice(API_PREFIX.length);
  const candidates = ROUTES.filter((r) => r.path === sub);
  if (candidates.length === 0) {
    throw new MlflowError('ENDPOINT_NOT_FOUND', `No API endpoint at ${event.path}`);
  }
  const route = candidates.find((r) => r.method === event.httpMethod);
  if (!route) {
    const allowed = candidates.map((r) => r.method).join(', ');
    const error = new MlflowError(
      'BAD_REQUEST',
      `Method ${event.httpMethod} is not allowed on ${event.path}; use ${allowed}.`,
      405,
    );
    return json(405, error.toJSON(), { Allow: allowed });
  }
  const params = parseParams(route.params, requestParams(event));
  return json(200, await route.run(registry, params));
}

export function createRegistryHandler(registry: ModelRegistry) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(injectLambdaContext(logger))
    .use(accessLog())
    .use(mlflowErrors())
    .handler((event) => dispatch(registry, event));
}
