/**
 * The host's HTTP layer: routes, body and time limits, JSON errors, and a drain on stop.
 * Scoring is handed to the data plane; nothing here knows about models.
 *
 * The scoring path is kept short, since at tens of thousands of requests a second every
 * allocation shows: an invocations URL seen before is routed from a map (no URL parsing), the
 * body is read with plain listeners (no async iterator), memory is admitted without a promise
 * when it fits, and an answer held whole goes out as one write with its Content-Length.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { MemoryAdmission, Release } from './admission';
import type { Answer, DataPlane } from './data-plane';
import { BodyTooLargeError, errorAnswer, ScoringError, scoringErrorAnswer } from './errors';
import { CLOSE, NO_HEADERS, send, sendAnswer } from './http-answers';
import { readBody } from './http-body';

export interface ServerOptions {
  readonly port: number;
  readonly bind: string;
  readonly maxBodyBytes: number;
  readonly drainTimeoutMs: number;
  readonly logger: Logger;
  /** The memory budget requests are admitted against; without it, every request goes at once. */
  readonly admission?: MemoryAdmission;
}

/** What the HTTP layer shows of the host: the model it serves, its health and its status document. */
export interface HostState {
  readonly modelName: string;
  health(): { healthy: boolean; reason: string };
  status(): Record<string, unknown>;
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

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

const INVOCATIONS = /^\/model\/([^/]+)\/([^/]+)\/invocations\/?$/;
/** The status document under the model's own path, so it is reachable through the load balancer's rule. */
const MODEL_STATUS = /^\/model\/([^/]+)\/status\/?$/;
/** How many distinct invocation URLs are routed from memory (refs differ in case and spelling). */
const ROUTE_CACHE_SIZE = 1024;

export class HostServer {
  private readonly server: Server;
  private inFlight = 0;
  private draining = false;
  private idle?: () => void;
  /** Invocation URLs already routed, as the request line gave them: the ref each names. */
  private readonly invocationRefs = new Map<string, string>();

  constructor(
    private readonly host: HostState,
    private readonly plane: DataPlane,
    private readonly options: ServerOptions,
  ) {
    this.server = createServer((req, res) => {
      this.inFlight++;
      res.on('close', this.closed);
      const ref = req.method === 'POST' && req.url !== undefined ? this.invocationRefs.get(req.url) : undefined;
      if (ref !== undefined) void this.invoke(req, res, ref);
      else this.handle(req, res).catch((error: unknown) => this.failed(res, error));
    });
    this.server.keepAliveTimeout = 65_000;
  }

  /** A response closed: one request fewer in flight. */
  private readonly closed = (): void => {
    this.inFlight--;
    if (this.inFlight === 0) this.idle?.();
  };

  private failed(res: ServerResponse, error: unknown): void {
    this.options.logger.error('request failed', { error: error as Error });
    if (!res.headersSent) send(res, errorAnswer(500, 'INTERNAL_ERROR', 'Internal error; see the host logs.'));
    else res.destroy();
  }

  private get connectionHeaders(): Readonly<Record<string, string>> {
    return this.draining ? CLOSE : NO_HEADERS;
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
    const closing = this.connectionHeaders;
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
        if (method === 'POST') this.remember(req.url as string, 'Production');
        return only('POST', () => this.invoke(req, res, 'Production'));
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
      if (method === 'POST') this.remember(req.url as string, ref);
      return only('POST', () => this.invoke(req, res, ref));
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

  /** Routes this invocation URL from memory from now on (the cache starts over when full). */
  private remember(url: string, ref: string): void {
    if (this.invocationRefs.size >= ROUTE_CACHE_SIZE) this.invocationRefs.clear();
    this.invocationRefs.set(url, ref);
  }

  private statusDocument(): Answer['body'] {
    const admission = this.options.admission?.snapshot();
    return { ...this.host.status(), ...(admission ? { admission } : {}) } as Answer['body'];
  }

  /**
   * Reads the body and scores it, within the memory budget: a request with a declared size is
   * admitted before its body is read, one without as soon as it has been. Never rejects: a
   * failure is answered 500 (or the connection closed when the answer had begun).
   */
  private async invoke(req: IncomingMessage, res: ServerResponse, ref: string): Promise<void> {
    const admission = this.options.admission;
    let release: Release | undefined;
    try {
      let body: Buffer;
      try {
        if (admission) {
          const declared = Number(req.headers['content-length']);
          const expansion = this.plane.memoryPerBodyByte(ref);
          if (Number.isFinite(declared) && declared <= this.options.maxBodyBytes) {
            release = admission.admitNow(declared, expansion) ?? (await admission.admit(declared, expansion));
          }
          body = await readBody(req, this.options.maxBodyBytes);
          release ??= admission.admitNow(body.length, expansion) ?? (await admission.admit(body.length, expansion));
        } else {
          body = await readBody(req, this.options.maxBodyBytes);
        }
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          send(res, scoringErrorAnswer(error), CLOSE);
          req.destroy();
          return;
        }
        if (!(error instanceof ScoringError)) throw error;
        // Refused for memory: read and drop the body (it is within the size limit) so the connection stays usable.
        req.resume();
        const retry: Record<string, string> = error.status === 503 ? { 'Retry-After': '1' } : {};
        send(res, scoringErrorAnswer(error), { ...this.connectionHeaders, ...retry });
        return;
      }
      const answer = await this.plane.invoke(ref, req.headers['content-type'], body);
      const sending = sendAnswer(res, answer, this.connectionHeaders);
      if (sending) await sending;
    } catch (error) {
      this.failed(res, error);
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
