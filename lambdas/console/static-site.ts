/**
 * The web console's files, served from memory: its page at `/` and its built assets under
 * `/assets/`, each answer carrying the console's security headers. The files are read once
 * (the whole bundle is a few hundred KiB); a request can only ever name one of them, so no path
 * it sends reaches the filesystem. No Lambda or HTTP types here: the Lambda handler and the
 * twin's gateway both hand requests to `answer`.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { MlflowError } from '../../core/shared/errors';

/** The console's Content-Security-Policy: its own script and styles only, nothing inline, no framing. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers on every answer, files and errors alike. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/** The page: revalidated on every load, so a new release is picked up at once. */
export const PAGE_CACHE_CONTROL = 'no-cache';
/** Assets whose name carries a content hash never change under that name. */
export const HASHED_ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable';
const ERROR_CACHE_CONTROL = 'no-store';

/** Where the console Lambda's bundle holds the site: a folder beside its entry file. */
export const BUNDLED_SITE_FOLDER = 'console';

/** The folder of the built assets, under the site's folder and its URL path. */
export const ASSETS_FOLDER = 'assets';
const ASSETS_PATH = `/${ASSETS_FOLDER}/`;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.webmanifest': 'application/manifest+json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

/** Types whose bytes are not UTF-8 text (a transport that carries text sends them base64-encoded). */
const isBinary = (contentType: string) =>
  !/^(text\/|application\/(json|manifest\+json)|image\/svg\+xml)/.test(contentType);

/** A name the build gives assets: `<name>-<hash>.<ext>` (esbuild's `[name]-[hash]`, 8 base32 characters). */
const HASHED_NAME = /-[A-Z0-9]{8,}\.[A-Za-z0-9]+$/;
/** What an asset's name may be: one path segment, no leading dot. */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

export interface StaticFile {
  /** The file's path under the site's folder (`index.html`, `assets/app-3XK2M7QD.js`). */
  readonly name: string;
  readonly body: Buffer;
  readonly contentType: string;
  readonly cacheControl: string;
  /** A strong validator: the content's hash. */
  readonly etag: string;
}

export interface SiteRequest {
  readonly method: string;
  /** The URL path as received (still percent-encoded). */
  readonly path: string;
  readonly ifNoneMatch?: string;
}

export interface SiteAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Empty for HEAD and 304. */
  readonly body: Buffer;
  /** Whether the body is bytes rather than UTF-8 text. */
  readonly binary: boolean;
}

function staticFile(name: string, body: Buffer): StaticFile {
  const contentType = CONTENT_TYPES[path.extname(name).toLowerCase()];
  if (!contentType) throw new Error(`the console holds ${name}, a file of a type it does not serve`);
  const hashed = name.startsWith(`${ASSETS_FOLDER}/`) && HASHED_NAME.test(name);
  return {
    name,
    body,
    contentType,
    cacheControl: hashed ? HASHED_ASSET_CACHE_CONTROL : PAGE_CACHE_CONTROL,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
  };
}

/** Whether an If-None-Match header names this validator (or `*`); weak forms count, as for GET they do. */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}

/** An MLflow-shaped JSON error with the security headers. */
export function errorAnswer(error: MlflowError, method: string, headers: Record<string, string> = {}): SiteAnswer {
  const body = Buffer.from(JSON.stringify(error.toJSON()));
  return {
    status: error.status,
    headers: {
      ...SECURITY_HEADERS,
      'Content-Type': 'application/json',
      'Cache-Control': ERROR_CACHE_CONTROL,
      ...headers,
    },
    body: method === 'HEAD' ? Buffer.alloc(0) : body,
    binary: false,
  };
}

export class StaticSite {
  private readonly files: ReadonlyMap<string, StaticFile>;

  constructor(files: Iterable<StaticFile>) {
    this.files = new Map([...files].map((f) => [f.name, f]));
    if (!this.files.has('index.html')) throw new Error('the console has no index.html');
  }

  /** Reads `index.html` and every file of `assets/` under `dir`, once. */
  static async load(dir: string): Promise<StaticSite> {
    const files: StaticFile[] = [];
    files.push(staticFile('index.html', await readFile(path.join(dir, 'index.html'))));
    const assets = await readdir(path.join(dir, ASSETS_FOLDER), { withFileTypes: true }).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    });
    for (const entry of assets) {
      const name = `${ASSETS_FOLDER}/${entry.name}`;
      if (!entry.isFile() || !ASSET_NAME.test(entry.name))
        throw new Error(`the console holds ${name}, which is not a file it can serve`);
      files.push(staticFile(name, await readFile(path.join(dir, name))));
    }
    return new StaticSite(files);
  }

  /** The files served, by their path under the site's folder. */
  get names(): readonly string[] {
    return [...this.files.keys()];
  }

  /** The file a URL path names, if any: `/` is the page, `/assets/<name>` an asset; nothing else. */
  resolve(urlPath: string): StaticFile | undefined {
    if (urlPath === '/') return this.files.get('index.html');
    if (!urlPath.startsWith(ASSETS_PATH)) return undefined;
    let name: string;
    try {
      name = decodeURIComponent(urlPath.slice(ASSETS_PATH.length));
    } catch {
      return undefined;
    }
    // One segment, no dots first: `..`, `%2e%2e%2f…`, `a/b` and `.hidden` all name nothing.
    if (!ASSET_NAME.test(name)) return undefined;
    return this.files.get(`${ASSETS_FOLDER}/${name}`);
  }

  answer(request: SiteRequest): SiteAnswer {
    const method = request.method.toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') {
      return errorAnswer(
        new MlflowError('BAD_REQUEST', `Method ${method} is not allowed on ${request.path}; use GET or HEAD.`, 405),
        method,
        { Allow: 'GET, HEAD' },
      );
    }
    const file = this.resolve(request.path);
    if (!file) return errorAnswer(new MlflowError('ENDPOINT_NOT_FOUND', `No console file at ${request.path}`), method);
    const headers = {
      ...SECURITY_HEADERS,
      'Content-Type': file.contentType,
      'Cache-Control': file.cacheControl,
      ETag: file.etag,
    };
    if (matches(request.ifNoneMatch, file.etag)) return { status: 304, headers, body: Buffer.alloc(0), binary: false };
    if (method === 'HEAD')
      return {
        status: 200,
        headers: { ...headers, 'Content-Length': String(file.body.length) },
        body: Buffer.alloc(0),
        binary: false,
      };
    return { status: 200, headers, body: file.body, binary: isBinary(file.contentType) };
  }
}
