/**
 * Matching an API Gateway proxy event to one route of a table, checking the caller's access
 * to it, and running it — with MLflow-style errors.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { ZodType } from 'zod';
import { type AccessControl, type Caller, type Requirement, unauthenticated } from '../../core/auth/access';
import { MlflowError } from '../../core/shared/errors';
import { json, parseParams, requestParams } from './http';

export interface TableRoute<D> {
  readonly method: string;
  /** Path under the table's prefix. */
  readonly path: string;
  readonly params: ZodType;
  /** What the caller needs for this request (read from its parameters). */
  readonly access: (params: never, deps: D) => Requirement | Promise<Requirement>;
  readonly run: (deps: D, params: never, caller: Caller) => Promise<unknown>;
}

/** The caller the authorizer established, from the event's authorizer context. */
export function callerOf(event: APIGatewayProxyEvent): Caller {
  const context = event.requestContext?.authorizer as Record<string, unknown> | null | undefined;
  const principal = context?.principalId;
  if (typeof principal !== 'string' || principal === '') throw unauthenticated('Authentication required.');
  return { principal, admin: String(context?.admin) === 'true', tokenId: String(context?.tokenId ?? '') };
}

export async function dispatchRoutes<D>(
  prefix: string,
  routes: readonly TableRoute<D>[],
  deps: D,
  access: AccessControl,
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
  const caller = callerOf(event);
  const params = parseParams(route.params, requestParams(event));
  await access.require(caller, await route.access(params as never, deps));
  return json(200, await route.run(deps, params as never, caller));
}
