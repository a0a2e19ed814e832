/** Matching an API Gateway proxy event to one route of a table, with MLflow-style errors. */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { ZodType } from 'zod';
import { MlflowError } from '../../core/shared/errors';
import { json, parseParams, requestParams } from './http';

export interface TableRoute<D> {
  readonly method: string;
  /** Path under the table's prefix. */
  readonly path: string;
  readonly params: ZodType;
  readonly run: (deps: D, params: never) => Promise<unknown>;
}

export async function dispatchRoutes<D>(
  prefix: string,
  routes: readonly TableRoute<D>[],
  deps: D,
  event: APIGatewayProxyEvent,
): Promise<APIGatewayProxyResult> {
  const path = event.path.replace(/\/+$/, '');
  if (!path.startsWith(prefix)) throw new MlflowError('ENDPOINT_NOT_FOUND', `No API endpoint at ${event.path}`);
  const candidates = routes.filter((r) => r.path === path.slice(prefix.length));
  if (candidates.length === 0) throw new MlflowError('ENDPOINT_NOT_FOUND', `No API endpoint at ${event.path}`);
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
  return json(200, await route.run(deps, params as never));
}
