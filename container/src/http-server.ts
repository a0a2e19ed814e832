/**
 * The host's HTTP layer: routes, body and time limits, JSON errors, and a drain on stop.
 * Scoring is handed to the data plane; nothing here knows about models.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { MemoryAdmission, Release } from './admission';
import { type Answer, type DataPlane, errorAnswer } from './data-plane';
import type { ModelHost } from './host';
import { JsonText } from './scoring/json-text';
import { ScoringError } from './scoring/parse';

export interface ServerOptions {
  readonly port: number;
  readonly bind: string;
  readonly maxBodyBytes: number;
  readonly drainTimeoutMs: number;
  readonly logger: Logger;
  /** The memory budget requests are admitted against; without it, every request goes at once. */
  readonly admission?: MemoryAdmission;
}

/** mlserve's version, from the nearest package.json named mlserve above this module (source or bundle). */
const VERSION = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'mlserve' && pkg.version) return pkg.version;
    } catch {
      // keep looking upwards
    }
    const parent = path.dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
})();

class TooLarge extends Error {}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** Sends an answer whose body is JSON (not text in parts). */
function send(res: ServerResponse, answer: Answer, headers: Record<string, string> = {}): void {
  const body = answer.body instanceof JsonText ? answer.body.text() : JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

/** Below this many bytes an answer in parts is sent whole, with a Content-Length. */
const STREAM_ABOVE_BYTES = 64 * 1024;

/**
 * Sends an answer; one given as text in parts is sent whole when small, else streamed: parts are
 * gathered into writes of at least 64 KiB, each written when the socket takes it, with the event
 * loop free between writes so a large answer does not hold up other requests.
 */
async function sendAnswer(res: ServerResponse, answer: Answer, headers: Record<string, string>): Promise<void> {
  if (!(answer.body instanceof JsonText)) return send(res, answer, headers);
  const parts = answer.body.parts()[Symbol.iterator]();
  let pending = '';
  let next = parts.next();
  while (!next.done && pending.length < STREAM_ABOVE_BYTES) {
    pending += next.value;
    next = parts.next();
  }
  if (next.done) {
    res.writeHead(answer.status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(pending),
      ...headers,
    });
    res.end(pending);
    return;
  }
  res.writeHead(answer.status, { 'Content-Type': 'application/json', ...headers });
  try {
    for (;;) {
      if (res.destroyed) return;
      if (!res.write(pending)) await writable(res);
      else await new Promise<void>((resolve) => setImmediate(resolve));
      if (next.done) break;
      pending = '';
      while (!next.done && pending.length < STREAM_ABOVE_BYTES) {
        pending += next.value;
        next = parts.next();
      }
    }
    res.end();
  } catch (error) {
    res.destroy(error as Error);
  }
}

/** Resolves when the response can take more, or is closed. */
function writable(res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new TooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new TooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const INVOCATIONS = /^\/model\/([^/]+)\/([^/]+)\/invocations\/?$/;
/** The status document under the model's own path, so it is reachable through the load balancer's rule. */
const MODEL_STATUS = /^\/model\/([^/]+)\/status\/?$/;

export class HostServer {
  private readonly server: Server;
  private inFlight = 0;
  private draining = false;
  private idle?: () => void;

  constructor(
    private readonly host: ModelHost,
    private readonly plane: DataPlane,
    private readonly options: ServerOptions,
  ) {
    this.server = createServer((req, res) => {
      this.inFlight++;
      res.once('close', () => {
        this.inFlight--;
        if (this.inFlight === 0) this.idle?.();
      });
      this.handle(req, res).catch((error: unknown) => {
        options.logger.error('request failed', { error: error as Error });
        if (!res.headersSent) send(res, errorAnswer(500, 'INTERNAL_ERROR', 'Internal error; see the host logs.'));
        else res.destroy();
      });
    });
    this.server.keepAliveTimeout = 65_000;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.bind, () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    return `http://${this.options.bind === '0.0.0.0' ? '127.0.0.1' : this.options.bind}:${port}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://host');
    const method = req.method ?? 'GET';
    const closing: Record<string, string> = this.draining ? { Connection: 'close' } : {};
    const only = (allowed: string, run: () => Promise<void> | void) => {
      if (method === allowed) return run();
      req.resume();
      send(
        res,
        errorAnswer(405, 'BAD_REQUEST', `Method ${method} is not allowed on ${url.pathname}; use ${allowed}.`),
        {
          Allow: allowed,
          ...closing,
        },
      );
    };
    switch (url.pathname) {
      case '/ping':
        return only('GET', () => {
          res.writeHead(this.draining ? 503 : 200, { 'Content-Type': 'application/json', ...closing });
          res.end();
        });
      case '/health':
        return only('GET', () => {
          const health = this.host.health();
          const healthy = health.healthy && !this.draining;
          send(
            res,
            {
              status: healthy ? 200 : 503,
              body: { status: healthy ? 'healthy' : 'unhealthy', reason: this.draining ? 'draining' : health.reason },
            },
            closing,
          );
        });
      case '/version':
        return only('GET', () => {
          res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', ...closing });
          res.end(VERSION);
        });
      case '/status':
        return only('GET', () => send(res, { status: 200, body: this.statusDocument() }, closing));
      case '/invocations':
      case '/invocations/':
        return only('POST', () => this.invoke(req, res, 'Production', closing));
    }
    const status = MODEL_STATUS.exec(url.pathname);
    if (status && safeDecode(status[1] as string) === this.host.modelName) {
      return only('GET', () => send(res, { status: 200, body: this.statusDocument() }, closing));
    }
    const match = INVOCATIONS.exec(url.pathname);
    if (match) {
      let name: string;
      let ref: string;
      try {
        name = decodeURIComponent(match[1] as string);
        ref = decodeURIComponent(match[2] as string);
      } catch {
        req.resume();
        return send(res, errorAnswer(400, 'BAD_REQUEST', `Malformed URL path ${url.pathname}`), closing);
      }
      if (name !== this.host.modelName) {
        req.resume();
        return send(
          res,
          errorAnswer(
            404,
            'RESOURCE_DOES_NOT_EXIST',
            `This host serves model '${this.host.modelName}', not '${name}'.`,
          ),
          closing,
        );
      }
      return only('POST', () => this.invoke(req, res, ref, closing));
    }
    req.resume();
    send(
      res,
      errorAnswer(
        404,
        'ENDPOINT_NOT_FOUND',
        `No endpoint at ${url.pathname}. Score at POST /model/<name>/<version|stage|@alias>/invocations.`,
      ),
      closing,
    );
  }

  private statusDocument(): Answer['body'] {
    const admission = this.options.admission?.snapshot();
    return { ...this.host.status(), ...(admission ? { admission } : {}) } as Answer['body'];
  }

  /**
   * Reads the body and scores it, within the memory budget: a request with a declared size is
   * admitted before its body is read, one without as soon as it has been.
   */
  private async invoke(req: IncomingMessage, res: ServerResponse, ref: string, headers: Record<string, string>) {
    const declared = Number(req.headers['content-length']);
    const admission = this.options.admission;
    const expansion = admission ? this.plane.memoryPerBodyByte(ref) : undefined;
    let release: Release | undefined;
    try {
      let body: Buffer;
      try {
        if (admission && Number.isFinite(declared) && declared <= this.options.maxBodyBytes) {
          release = await admission.admit(declared, expansion);
        }
        body = await readBody(req, this.options.maxBodyBytes);
        if (admission && !release) release = await admission.admit(body.length, expansion);
      } catch (error) {
        if (error instanceof TooLarge) {
          send(
            res,
            errorAnswer(413, 'BAD_REQUEST', `Request body exceeds the limit of ${this.options.maxBodyBytes} bytes.`),
            { ...headers, Connection: 'close' },
          );
          req.destroy();
          return;
        }
        if (!(error instanceof ScoringError)) throw error;
        // Refused for memory: read and drop the body (it is within the size limit) so the connection stays usable.
        req.resume();
        const retry: Record<string, string> = error.status === 503 ? { 'Retry-After': '1' } : {};
        send(res, errorAnswer(error.status, error.errorCode, error.message), { ...headers, ...retry });
        return;
      }
      const answer = await this.plane.invoke(ref, req.headers['content-type'], body);
      await sendAnswer(res, answer, this.draining ? { Connection: 'close' } : headers);
    } finally {
      release?.();
    }
  }

  /** Stops accepting connections and waits (bounded) for requests in flight to finish. */
  async drain(): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.inFlight > 0) {
      await Promise.race([
        new Promise<void>((resolve) => {
          this.idle = resolve;
        }),
        new Promise<void>((resolve) => setTimeout(resolve, this.options.drainTimeoutMs).unref()),
      ]);
    }
    this.server.closeAllConnections();
    await closed;
  }
}
