/**
 * The HTTP side of the Lambdas: API Gateway proxy events in, JSON responses out,
 * and the one place where errors become responses.
 */
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { ZodError, ZodType } from 'zod';
import { invalidParameter, MlflowError } from '../../core/shared/errors';
import {
  allStringsWellFormed,
  DEFAULT_MAX_JSON_DEPTH,
  jsonTooDeep,
  tooDeepMessage,
} from '../../core/shared/json-limits';
import { logger } from './logger';

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

export function errorResponse(error: MlflowError): APIGatewayProxyResult {
  return json(error.status, error.toJSON());
}

/** Maps every thrown error to an MLflow-style JSON response; details of 5xx stay in the logs. */
export function mlflowErrors(): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    onError: (request) => {
      const error = request.error;
      if (error instanceof MlflowError) {
        if (error.status >= 500) logger.error('request failed', { error });
        request.response = errorResponse(error);
        return;
      }
      logger.error('unhandled error', { error: error as Error });
      request.response = errorResponse(
        new MlflowError(
          'INTERNAL_ERROR',
          `Internal error while handling the request; see the server logs (request id ${request.context.awsRequestId}).`,
        ),
      );
    },
  };
}

/** Logs one line per request (method, path, status, duration) with the Lambda context. */
export function accessLog(): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const started = Symbol('started');
  type Timed = { [started]?: number };
  const done = (request: {
    event: APIGatewayProxyEvent;
    response: APIGatewayProxyResult | null;
    internal: unknown;
  }) => {
    const t0 = (request.internal as Timed)[started] ?? Date.now();
    logger.info('request', {
      method: request.event.httpMethod,
      path: request.event.path,
      status: request.response?.statusCode,
      durationMs: Date.now() - t0,
    });
  };
  return {
    before: (request) => {
      (request.internal as Timed)[started] = Date.now();
    },
    after: done,
    // Register before mlflowErrors: middy runs onError hooks last-registered first,
    // so by then the error has become a response.
    onError: done,
  };
}

/**
 * The request's parameters: the query string for GET, the JSON body otherwise. The one place
 * every API's input passes: a body nested deeper than DEFAULT_MAX_JSON_DEPTH is refused before
 * it is parsed, and every string (names, tags, descriptions, anything) must be well-formed
 * Unicode — `JSON.parse` lets lone surrogates through from `\udc00` escapes.
 */
export function requestParams(event: APIGatewayProxyEvent): Record<string, unknown> {
  return wellFormed(rawParams(event));
}

function rawParams(event: APIGatewayProxyEvent): Record<string, unknown> {
  const fromQuery = (): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    const multi = event.multiValueQueryStringParameters ?? {};
    for (const [key, value] of Object.entries(event.queryStringParameters ?? {})) {
      const all = multi[key];
      out[key] = all && all.length > 1 ? all : value;
    }
    return out;
  };
  if (event.httpMethod === 'GET') return fromQuery();
  const raw =
    event.body === null || event.body === undefined
      ? ''
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
  if (raw.trim() === '') {
    // DELETE callers sometimes put parameters in the query string.
    return event.httpMethod === 'DELETE' ? fromQuery() : {};
  }
  if (jsonTooDeep(raw, DEFAULT_MAX_JSON_DEPTH))
    throw new MlflowError('BAD_REQUEST', tooDeepMessage(DEFAULT_MAX_JSON_DEPTH));
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new MlflowError('BAD_REQUEST', `Malformed JSON in the request body: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new MlflowError('BAD_REQUEST', 'The request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

function wellFormed(params: Record<string, unknown>): Record<string, unknown> {
  if (allStringsWellFormed(params)) return params;
  const where = Object.entries(params).find(([key, value]) => !key.isWellFormed() || !allStringsWellFormed(value));
  throw invalidParameter(
    `Parameter '${where?.[0].toWellFormed() ?? '?'}' is not well-formed Unicode: it holds a lone UTF-16 surrogate.`,
  );
}

const API_DOCS_HINT = 'See the API docs for more information about request parameters.';
/** How much of a refused value a message quotes. */
const SHOWN_LENGTH = 300;

/** The name Python gives a JSON value's type, as MLflow's messages say it. */
function pythonType(value: unknown): string {
  if (value === null) return 'NoneType';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  return { string: 'str', boolean: 'bool', object: 'dict' }[typeof value as string] ?? typeof value;
}

function valueAt(params: unknown, path: readonly PropertyKey[]): unknown {
  let current = params;
  for (const key of path) current = (current as Record<PropertyKey, unknown> | undefined)?.[key];
  return current;
}

/** MLflow's wording: "Missing value for required parameter 'x'." / "Invalid value v for parameter 'x' supplied." */
function describeZodError(error: ZodError, params: Record<string, unknown>): string {
  const [issue] = error.issues;
  if (!issue) return `Invalid request. ${API_DOCS_HINT}`;
  const top = issue.path[0];
  const field = issue.path.map(String).join('.');
  const value = valueAt(params, issue.path);
  if (value === undefined || value === null || value === '') {
    return `Missing value for required parameter '${field}'. ${API_DOCS_HINT}`;
  }
  // An identifier's rule (core/registry/identifiers.ts) words the whole answer.
  if (issue.code === 'custom') return issue.message;
  const whole = typeof top === 'string' ? params[top] : value;
  const text = typeof whole === 'string' ? whole : JSON.stringify(whole);
  const shown = text.length > SHOWN_LENGTH ? `${text.slice(0, SHOWN_LENGTH)}…` : text;
  return `Invalid value ${shown} for parameter '${String(top)}' supplied. Hint: Value was of type '${pythonType(whole)}'. ${API_DOCS_HINT}`;
}

/** Validates parameters against a schema; failures are INVALID_PARAMETER_VALUE naming each field. */
export function parseParams<T>(schema: ZodType<T>, params: Record<string, unknown>): T {
  const result = schema.safeParse(params);
  if (!result.success) throw invalidParameter(describeZodError(result.error, params));
  return result.data;
}
