/**
 * The console Lambda's handler over a real folder: the page and its assets with their types and
 * cache policies, the security headers on every answer, and nothing else reachable.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSETS_DIR } from '../../console/build';
import { createConsoleHandler } from '../../lambdas/console/app';
import { ASSETS_FOLDER, StaticSite } from '../../lambdas/console/static-site';

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const IMMUTABLE = 'public, max-age=31536000, immutable';

const INDEX =
  '<!doctype html><html><head><script type="module" src="/assets/app-3XK2M7QD.js"></script></head></html>\n';
const SCRIPT = 'console.log("mlserve");\n';
const STYLES = 'body{margin:0}\n';
const ICON = '<svg xmlns="http://www.w3.org/2000/svg"/>\n';
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0x10]);
const SECRET = 'not for the browser';

let root: string;
let site: StaticSite;
let handler: ReturnType<typeof createConsoleHandler>;

/** The proxy event API Gateway hands the function for `method path`. */
function event(method: string, urlPath: string, headers: Record<string, string> = {}): APIGatewayProxyEvent {
  return {
    resource: urlPath === '/' ? '/' : '/assets/{proxy+}',
    path: urlPath,
    httpMethod: method,
    headers,
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: 'test' } as APIGatewayProxyEvent['requestContext'],
  };
}

const context = { awsRequestId: 'test', functionName: 'console' } as Context;
const request = (method: string, urlPath: string, headers?: Record<string, string>) =>
  handler(event(method, urlPath, headers), context) as Promise<APIGatewayProxyResult>;
const header = (result: APIGatewayProxyResult, name: string) => result.headers?.[name];

beforeAll(async () => {
  // The site's folder sits in a folder holding a file the site must never serve.
  root = await mkdtemp(path.join(tmpdir(), 'mlserve-console-'));
  await writeFile(path.join(root, 'secret.txt'), SECRET);
  const dir = path.join(root, 'site');
  await mkdir(path.join(dir, 'assets'), { recursive: true });
  await writeFile(path.join(dir, 'index.html'), INDEX);
  await writeFile(path.join(dir, 'secret.txt'), SECRET);
  await writeFile(path.join(dir, 'assets/app-3XK2M7QD.js'), SCRIPT);
  await writeFile(path.join(dir, 'assets/app-Q4ZJ6WXA.css'), STYLES);
  await writeFile(path.join(dir, 'assets/logo-7LMN2PQR.svg'), ICON);
  await writeFile(path.join(dir, 'assets/mark-AB12CD34.png'), PNG);
  await writeFile(path.join(dir, 'assets/robots.txt'), 'User-agent: *\n');
  site = await StaticSite.load(dir);
  handler = createConsoleHandler(site);
  // Read once: what changes on disk afterwards is not served.
  await writeFile(path.join(dir, 'index.html'), 'changed');
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the console handler', () => {
  it('answers GET / with index.html, revalidated on every load', async () => {
    const res = await request('GET', '/');
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(INDEX);
    expect(res.isBase64Encoded).toBe(false);
    expect(header(res, 'Content-Type')).toBe('text/html; charset=utf-8');
    expect(header(res, 'Cache-Control')).toBe('no-cache');
  });

  it('answers each built asset with its content type, hashed names cached for a year', async () => {
    const cases: [string, string, string][] = [
      ['/assets/app-3XK2M7QD.js', 'text/javascript; charset=utf-8', SCRIPT],
      ['/assets/app-Q4ZJ6WXA.css', 'text/css; charset=utf-8', STYLES],
      ['/assets/logo-7LMN2PQR.svg', 'image/svg+xml', ICON],
    ];
    for (const [urlPath, type, body] of cases) {
      const res = await request('GET', urlPath);
      expect(res.statusCode, urlPath).toBe(200);
      expect(header(res, 'Content-Type'), urlPath).toBe(type);
      expect(header(res, 'Cache-Control'), urlPath).toBe(IMMUTABLE);
      expect(res.body, urlPath).toBe(body);
    }
  });

  it('sends bytes base64-encoded, as API Gateway expects them from a Lambda proxy', async () => {
    const res = await request('GET', '/assets/mark-AB12CD34.png');
    expect(header(res, 'Content-Type')).toBe('image/png');
    expect(res.isBase64Encoded).toBe(true);
    expect(Buffer.from(res.body, 'base64')).toEqual(PNG);
  });

  it('does not cache an asset without a content hash in its name for long', async () => {
    const res = await request('GET', '/assets/robots.txt');
    expect(res.statusCode).toBe(200);
    expect(header(res, 'Content-Type')).toBe('text/plain; charset=utf-8');
    expect(header(res, 'Cache-Control')).toBe('no-cache');
  });

  it('puts the exact security headers on every answer, files and errors alike', async () => {
    const answers = await Promise.all([
      request('GET', '/'),
      request('GET', '/assets/app-3XK2M7QD.js'),
      request('HEAD', '/'),
      request('GET', '/nope'),
      request('POST', '/'),
      request('GET', '/', { 'If-None-Match': site.resolve('/')?.etag ?? '' }),
    ]);
    for (const res of answers) {
      expect(res.headers).toMatchObject({
        'Content-Security-Policy': CSP,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'X-Frame-Options': 'DENY',
      });
      expect(header(res, 'Cache-Control')).toBeDefined();
    }
  });

  it('answers anything that is not the page or a built asset with a JSON 404, never a file outside', async () => {
    const paths = [
      '/index.html',
      '/secret.txt',
      '/x',
      '/assets',
      '/assets/',
      '/assets/nope-AAAAAAAA.js',
      '/assets/../index.html',
      '/assets/../secret.txt',
      '/assets/../../secret.txt',
      '/assets/..%2fsecret.txt',
      '/assets/..%2F..%2Fsecret.txt',
      '/assets/%2e%2e%2fsecret.txt',
      '/assets/%2e%2e/secret.txt',
      '/assets/%252e%252e%252fsecret.txt',
      '/assets/..\\secret.txt',
      '/assets/..%5csecret.txt',
      '/assets/.',
      '/assets/..',
      '/assets/%00',
      '/assets/%E0%A4%A',
      '/assets/app-3XK2M7QD.js/',
      '/assets/app-3XK2M7QD.js%00.png',
      '/assets//app-3XK2M7QD.js',
      '/assets/sub/app-3XK2M7QD.js',
      '//',
    ];
    for (const urlPath of paths) {
      const res = await request('GET', urlPath);
      expect(res.statusCode, urlPath).toBe(404);
      expect(header(res, 'Content-Type'), urlPath).toBe('application/json');
      expect(JSON.parse(res.body), urlPath).toEqual({
        error_code: 'ENDPOINT_NOT_FOUND',
        message: `No console file at ${urlPath}`,
      });
      expect(res.body, urlPath).not.toContain(SECRET);
      expect(header(res, 'Cache-Control'), urlPath).toBe('no-store');
    }
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const res = await request('HEAD', '/assets/app-3XK2M7QD.js');
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
    expect(header(res, 'Content-Type')).toBe('text/javascript; charset=utf-8');
    expect(header(res, 'Cache-Control')).toBe(IMMUTABLE);
    expect(header(res, 'Content-Length')).toBe(String(Buffer.byteLength(SCRIPT)));
    const missing = await request('HEAD', '/nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.body).toBe('');
  });

  it('refuses every other method with a JSON 405 naming GET and HEAD', async () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      for (const urlPath of ['/', '/assets/app-3XK2M7QD.js']) {
        const res = await request(method, urlPath);
        expect(res.statusCode, `${method} ${urlPath}`).toBe(405);
        expect(header(res, 'Allow')).toBe('GET, HEAD');
        expect(header(res, 'Content-Type')).toBe('application/json');
        expect(JSON.parse(res.body)).toEqual({
          error_code: 'BAD_REQUEST',
          message: `Method ${method} is not allowed on ${urlPath}; use GET or HEAD.`,
        });
      }
    }
  });

  it('answers 304 to a request that already holds the current file', async () => {
    const first = await request('GET', '/');
    const etag = header(first, 'ETag') as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const again = await request('GET', '/', { 'if-none-match': `"other", ${etag}` });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    expect(header(again, 'Cache-Control')).toBe('no-cache');
    expect((await request('GET', '/', { 'If-None-Match': '"other"' })).statusCode).toBe(200);
  });
});

describe('StaticSite.load', () => {
  it('reads the folder the console build writes', () => {
    expect(ASSETS_FOLDER).toBe(ASSETS_DIR);
    expect([...site.names].sort()).toEqual([
      'assets/app-3XK2M7QD.js',
      'assets/app-Q4ZJ6WXA.css',
      'assets/logo-7LMN2PQR.svg',
      'assets/mark-AB12CD34.png',
      'assets/robots.txt',
      'index.html',
    ]);
  });

  it('refuses a folder without index.html, and a file of a type it would not know how to serve', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mlserve-console-bad-'));
    try {
      await expect(StaticSite.load(dir)).rejects.toThrow(/index\.html/);
      await writeFile(path.join(dir, 'index.html'), INDEX);
      await mkdir(path.join(dir, 'assets'));
      await writeFile(path.join(dir, 'assets/data-AAAAAAAA.bin'), 'x');
      await expect(StaticSite.load(dir)).rejects.toThrow(/assets\/data-AAAAAAAA\.bin, a file of a type/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
