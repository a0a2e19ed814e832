/**
 * The web console through the local twin's gateway: built at start, its page and assets served
 * without a token by the console Lambda's handler, while every API route still needs one.
 */
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareConsole } from '../../twin/console';
import { startTestTwin, type TestTwin } from '../helpers/twin';

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

let twin: TestTwin;

beforeAll(async () => {
  twin = await startTestTwin();
}, 60_000);

afterAll(async () => {
  await twin?.close();
});

/** A GET sent exactly as written (fetch and URL would resolve `..` and `%2e` before sending). */
function rawGet(rawPath: string): Promise<{ status: number; contentType?: string; body: string }> {
  const { hostname, port } = new URL(twin.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path: rawPath, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the console in the twin', () => {
  it('builds the console at start', () => {
    expect(twin.console.problem).toBeUndefined();
    expect(twin.console.files).toContain('index.html');
    expect(twin.console.files.some((f) => /^assets\/app-[A-Z0-9]+\.js$/.test(f))).toBe(true);
  });

  it('answers / with the built index.html, without a token', async () => {
    const res = await fetch(`${twin.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('content-security-policy')).toBe(CSP);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(await res.text()).toBe(await readFile(path.join(twin.home, 'console/index.html'), 'utf8'));
  });

  it('answers every asset the page loads, without a token, cached as immutable', async () => {
    const page = await (await fetch(`${twin.url}/`)).text();
    // The page refers to its files relatively (on AWS it lives under the API's stage path).
    const referenced = [...page.matchAll(/(?:src|href)="(assets\/[^"]+)"/g)].map((m) => `/${m[1] as string}`);
    expect(referenced.some((r) => r.endsWith('.js'))).toBe(true);
    for (const asset of referenced) {
      const res = await fetch(`${twin.url}${asset}`);
      expect(res.status, asset).toBe(200);
      expect(res.headers.get('content-type'), asset).toBe(
        asset.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8',
      );
      expect(res.headers.get('cache-control'), asset).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('x-content-type-options'), asset).toBe('nosniff');
      expect(await res.text(), asset).toBe(await readFile(path.join(twin.home, 'console', asset), 'utf8'));
    }
  });

  it('still requires a token on every API route', async () => {
    const search = '/api/2.0/mlflow/registered-models/search';
    const anonymous = await fetch(`${twin.url}${search}`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error_code: string }).error_code).toBe('UNAUTHENTICATED');
    expect((await twin.call('GET', search)).status).toBe(200);
    expect((await fetch(`${twin.url}/api/2.0/tokens/list`)).status).toBe(401);
    expect((await fetch(`${twin.url}/api/2.0/preview/mlflow/endpoints/list`)).status).toBe(401);
    expect((await fetch(`${twin.url}/model/m/1/invocations`, { method: 'POST' })).status).toBe(401);
  });

  it('answers unknown paths, unknown assets and traversals with a JSON 404', async () => {
    for (const rawPath of [
      '/nope',
      '/index.html',
      '/assets/nope-AAAAAAAA.js',
      '/assets/../package.json',
      '/assets/..%2f..%2fpackage.json',
      '/assets/%2e%2e%2fconsole%2fbuild.ts',
      '/assets/%252e%252e%252fpackage.json',
    ]) {
      const res = await rawGet(rawPath);
      expect(res.status, rawPath).toBe(404);
      expect(res.contentType, rawPath).toBe('application/json');
      expect((JSON.parse(res.body) as { error_code: string }).error_code, rawPath).toBe('ENDPOINT_NOT_FOUND');
    }
  });

  it('answers other methods on the console with a JSON 405', async () => {
    const res = await fetch(`${twin.url}/`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect(((await res.json()) as { error_code: string }).error_code).toBe('BAD_REQUEST');
  });
});

describe('a console that does not build', () => {
  it('answers a JSON 503 with the reason, with the security headers, and never fails the twin', async () => {
    const broken = await prepareConsole(path.join(twin.home, 'broken-console'), async () => {
      throw new Error('console/src/main.tsx:2:20: ERROR: Could not resolve "./app"');
    });
    expect(broken.problem).toContain('Could not resolve');
    const res = await broken.handler(
      { httpMethod: 'GET', path: '/', headers: {} } as never,
      { awsRequestId: 'test' } as never,
    );
    expect(res.statusCode).toBe(503);
    expect(res.headers?.['Content-Security-Policy']).toBe(CSP);
    expect(JSON.parse(res.body)).toEqual({
      error_code: 'TEMPORARILY_UNAVAILABLE',
      message:
        'The console could not be built when the twin started: console/src/main.tsx:2:20: ERROR: Could not resolve "./app"',
    });
  });
});
