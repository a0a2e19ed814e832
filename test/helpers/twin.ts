import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { newTokenSecret } from '../../core/auth/secrets';
import type { OnlineStores } from '../../core/features/online-stores';
import { startTwin, type Twin, type TwinOptions } from '../../twin/twin';

export interface TestTwin extends Twin {
  /** The admin's token, and its Authorization header. */
  readonly adminToken: string;
  readonly adminAuth: Record<string, string>;
  /**
   * Calls the twin's API as the admin (unless `headers` carries another Authorization): GET
   * sends `params` as a query string, other methods as a JSON body.
   */
  call(method: string, apiPath: string, params?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed JSON body (throws when the body is not JSON). */
  readonly json: Record<string, unknown>;
}

export async function startTestTwin(
  options: {
    sourceRoots?: (artifactDir: string) => string;
    rateLimit?: TwinOptions['rateLimit'];
    stageRateLimit?: TwinOptions['stageRateLimit'];
    demo?: boolean;
    localMysql?: boolean;
    onlineStores?: OnlineStores;
  } = {},
): Promise<TestTwin> {
  const home = await mkdtemp(path.join(tmpdir(), 'mlserve-twin-'));
  const artifactDir = path.join(home, 'artifacts');
  const adminToken = newTokenSecret();
  const twin = await startTwin({
    home,
    port: 0,
    inMemory: true,
    sourceRoots: options.sourceRoots?.(artifactDir),
    adminToken,
    rateLimit: options.rateLimit ?? { perSecond: 10_000, burst: 10_000 },
    stageRateLimit: options.stageRateLimit,
    demo: options.demo,
    localMysql: options.localMysql,
    onlineStores: options.onlineStores,
  });
  const adminAuth = { Authorization: `Bearer ${adminToken}` };
  return {
    ...twin,
    adminToken,
    adminAuth,
    call: (method, apiPath, params, headers) => call(twin.url, method, apiPath, params, { ...adminAuth, ...headers }),
    close: async () => {
      await twin.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}

export async function call(
  base: string,
  method: string,
  apiPath: string,
  params?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse> {
  let url = `${base}${apiPath}`;
  let body: string | undefined;
  if (method === 'GET' && params !== undefined) {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params as Record<string, unknown>)) {
      for (const item of Array.isArray(v) ? v : [v]) query.append(k, String(item));
    }
    url += `?${query}`;
  } else if (params !== undefined) {
    body = typeof params === 'string' ? params : JSON.stringify(params);
  }
  const res = await fetch(url, {
    method,
    body,
    headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    text,
    get json() {
      return JSON.parse(text) as Record<string, unknown>;
    },
  };
}
