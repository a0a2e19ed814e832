/**
 * The one place the console talks to the server: JSON in and out, the signed-in token on every
 * call, one error type carrying the server's `error_code` and message, and a 401 anywhere
 * signing the user out with the server's reason.
 */
import { session } from '../session';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * The server's absolute URL for an API or scoring path (`/api/2.0/…`, `/model/…`), under the
 * path the console is served from: the API's stage (`/prod/`) on AWS without a custom domain,
 * the root elsewhere.
 */
export function serverUrl(path: string): string {
  const base = location.pathname.endsWith('/') ? location.pathname : `${location.pathname}/`;
  return `${location.origin}${base}${path.replace(/^\//, '')}`;
}

type Params = Record<string, string | number | boolean | readonly string[] | undefined | null | unknown>;

/** A query string from parameters: lists repeat their key, undefined and null are left out. */
export function queryString(params: Params = {}): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) for (const item of value) query.append(key, String(item));
    else query.append(key, String(value));
  }
  const text = query.toString();
  return text ? `?${text}` : '';
}

function authorization(token = session.token()): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as { error_code?: string; message?: string };
    return new ApiError(response.status, body.error_code ?? `HTTP_${response.status}`, body.message ?? text);
  } catch {
    return new ApiError(response.status, `HTTP_${response.status}`, text || response.statusText);
  }
}

/**
 * Calls an API: GET sends `params` as a query string, other methods as a JSON body. With a
 * `token`, that token is used instead of the session's (signing in checks one this way).
 */
export async function call<T>(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  params?: Params,
  options: { readonly token?: string } = {},
): Promise<T> {
  const get = method === 'GET';
  let response: Response;
  try {
    response = await fetch(get ? `${serverUrl(path)}${queryString(params)}` : serverUrl(path), {
      method,
      headers: { ...authorization(options.token), ...(get ? {} : { 'Content-Type': 'application/json' }) },
      body: get ? undefined : JSON.stringify(params ?? {}),
    });
  } catch (error) {
    throw new ApiError(0, 'NETWORK_ERROR', `The server could not be reached: ${(error as Error).message}`);
  }
  if (!response.ok) {
    const error = await errorOf(response);
    if (response.status === 401 && !options.token) session.expire(error.message);
    throw error;
  }
  const text = await response.text();
  return (text ? JSON.parse(text) : {}) as T;
}

/** What a scoring request answered, whatever its status: shown as it is. */
export interface ScoringAnswer {
  readonly status: number;
  readonly ms: number;
  readonly text: string;
  readonly json?: unknown;
}

/** Sends a scoring request with the signed-in token; never throws for an HTTP status. */
export async function score(path: string, body: string, contentType = 'application/json'): Promise<ScoringAnswer> {
  const started = performance.now();
  try {
    const response = await fetch(serverUrl(path), {
      method: 'POST',
      headers: { ...authorization(), 'Content-Type': contentType },
      body,
    });
    const text = await response.text();
    const ms = performance.now() - started;
    if (response.status === 401) session.expire(text);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, ms, text, json };
  } catch (error) {
    return {
      status: 0,
      ms: performance.now() - started,
      text: `The server could not be reached: ${(error as Error).message}`,
    };
  }
}
