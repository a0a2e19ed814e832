/**
 * The CLI's HTTP client for mlserve's REST APIs (the local twin or API Gateway): a base URL,
 * an optional bearer token, JSON in and out, and MLflow's `{error_code, message}` errors as
 * `ApiError`s.
 */

/** Path prefix of MLflow's Model Registry REST API. */
export const REGISTRY = '/api/2.0/mlflow/';
/** Path prefix of the serving API (Legacy MLflow Model Serving's endpoints API). */
export const SERVING = '/api/2.0/preview/mlflow/endpoints/';
/** Path prefixes of the token and permissions APIs. */
export const TOKENS = '/api/2.0/tokens/';
export const PERMISSIONS = '/api/2.0/permissions/registered-models/';

/** How long one request may take before the CLI gives up on it. */
const REQUEST_TIMEOUT_MS = 120_000;

/** An error answer from the server. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A request that got no answer: the server could not be reached or did not answer in time. */
export class NetworkError extends Error {
  constructor(
    readonly url: string,
    message: string,
  ) {
    super(message);
    this.name = 'NetworkError';
  }
}

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
/** Query parameters: arrays repeat their key, undefined values are left out. */
export type Query = Record<string, string | number | boolean | readonly string[] | undefined>;

/** A non-JSON answer as it came (scoring). */
export interface RawAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

export interface ClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:8080` or an API Gateway stage URL. */
  readonly url: string;
  /** Sent as `Authorization: Bearer <token>` when set. */
  readonly token?: string;
}

export class Client {
  readonly baseUrl: string;
  private readonly token: string | undefined;

  constructor(options: ClientOptions) {
    this.baseUrl = options.url.replace(/\/+$/, '');
    this.token = options.token || undefined;
  }

  /** GET sends `params` as a query string; other methods send them as a JSON body. */
  async call<T = Record<string, unknown>>(method: Method, path: string, params: Query | object = {}): Promise<T> {
    let url = this.url(path);
    let body: string | undefined;
    if (method === 'GET') {
      const query = queryString(params as Query);
      if (query) url += `?${query}`;
    } else {
      body = JSON.stringify(params);
    }
    const answer = await this.send(method, url, body, body === undefined ? undefined : 'application/json');
    return parseAnswer<T>(url, answer);
  }

  get<T = Record<string, unknown>>(path: string, query: Query = {}): Promise<T> {
    return this.call<T>('GET', path, query);
  }

  post<T = Record<string, unknown>>(path: string, body: object): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  patch<T = Record<string, unknown>>(path: string, body: object): Promise<T> {
    return this.call<T>('PATCH', path, body);
  }

  delete<T = Record<string, unknown>>(path: string, body: object): Promise<T> {
    return this.call<T>('DELETE', path, body);
  }

  /** POSTs a body as it is, with the given Content-Type; error answers become ApiErrors. */
  async postRaw(path: string, body: string | Buffer, contentType: string): Promise<RawAnswer> {
    const url = this.url(path);
    const answer = await this.send('POST', url, body, contentType);
    if (answer.status >= 400) throw toApiError(answer);
    return answer;
  }

  /** The full URL of a path on this server. */
  url(path: string): string {
    return `${this.baseUrl}${path.startsWith('/') ? path : `/${path}`}`;
  }

  private async send(method: Method, url: string, body: string | Buffer | undefined, contentType?: string) {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (contentType !== undefined) headers['Content-Type'] = contentType;
    if (this.token !== undefined) headers.Authorization = `Bearer ${this.token}`;
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (error) {
      throw networkError(url, error);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (error) {
      throw networkError(url, error);
    }
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', text } satisfies RawAnswer;
  }
}

/** Builds `a=1&b=x&b=y` from query parameters. */
export function queryString(params: Query): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) query.append(key, String(item));
  }
  return query.toString();
}

function parseAnswer<T>(url: string, answer: RawAnswer): T {
  if (answer.status >= 400) throw toApiError(answer);
  if (answer.text.trim() === '') return {} as T;
  try {
    return JSON.parse(answer.text) as T;
  } catch {
    throw new ApiError(
      answer.status,
      'INVALID_RESPONSE',
      `${url} answered ${answer.status} with a body that is not JSON`,
    );
  }
}

/** MLflow's `{error_code, message}`, or the HTTP status and the start of the body for other answers. */
function toApiError(answer: RawAnswer): ApiError {
  try {
    const body = JSON.parse(answer.text) as { error_code?: unknown; message?: unknown };
    if (typeof body.error_code === 'string') {
      return new ApiError(answer.status, body.error_code, typeof body.message === 'string' ? body.message : '');
    }
    // API Gateway's own errors: {"message": "Unauthorized"}.
    if (typeof body.message === 'string') return new ApiError(answer.status, `HTTP_${answer.status}`, body.message);
  } catch {
    // not JSON: described below
  }
  const text = answer.text.trim().slice(0, 200);
  return new ApiError(answer.status, `HTTP_${answer.status}`, text || 'the server answered without a body');
}

function networkError(url: string, error: unknown): NetworkError {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') {
    return new NetworkError(url, `no answer from ${url} within ${REQUEST_TIMEOUT_MS / 1000} s`);
  }
  const reason = e.cause?.message ?? e.cause?.code ?? e.message;
  return new NetworkError(url, `could not reach ${url}: ${reason}`);
}
