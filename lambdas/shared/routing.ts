/**
 * Matching an API Gateway proxy event to one route of a table, checking the caller's access
 * to it, and running it — with MLflow-style errors.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { ZodType } from 'zod';
import { type AccessControl, type Caller, type Requirement, unauthenticated } from '../../core/auth/access';
import { MlflowError } from '../../core/shared/errors';
import { json, parseParams, requestParams } from './http';

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** One route of a table, as `routesOf`'s `route` makes it: the same type whatever its schema. */
export interface TableRoute<D> {
  readonly method: Method;
  /** Path under the table's prefix. */
  readonly path: string;
  readonly params: ZodType;
  /** Parses the request's parameters with `params`, checks the caller's access, and runs the route. */
  readonly answer: (
    deps: D,
    access: AccessControl,
    params: Record<string, unknown>,
    caller: Caller,
  ) => Promise<unknown>;
}

/** A route as written in a table: its handlers take the parameters as its schema outputs them (`P`). */
export interface RouteSpec<D, Path extends string, P, R> {
  readonly method: Method;
  readonly path: Path;
  readonly params: ZodType<P>;
  /** What the caller needs for this request (read from its parameters). */
  readonly access: (params: P, deps: D) => Requirement | Promise<Requirement>;
  readonly run: (deps: D, params: P, caller: Caller) => Promise<R>;
}

/**
 * The `route` function of a table whose routes take `D` and answer, for each path, what
 * `Responses` declares (anything, when it declares nothing). Each route's handlers are typed by
 * its own schema; the table holds routes of every schema as `TableRoute<D>`.
 */
export function routesOf<D, Responses = Record<string, unknown>>() {
  return <Path extends keyof Responses & string, P>(spec: RouteSpec<D, Path, P, Responses[Path]>): TableRoute<D> => ({
    method: spec.method,
    path: spec.path,
    params: spec.params,
    answer: async (deps, access, raw, caller) => {
      const params = parseParams(spec.params, raw);
      await access.require(caller, await spec.access(params, deps));
      return spec.run(deps, params, caller);
    },
  });
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
  return json(200, await route.answer(deps, access, requestParams(event), caller));
}
