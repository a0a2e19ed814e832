/**
 * `/model/<name>/…` in the local twin: the load balancer's listener rules pick the model's
 * serving task, and the request is passed to it as it came (streamed both ways). The body is
 * counted as it streams: past the gateway's limit the task's request is aborted and the client
 * answered 413 (a declared Content-Length over it never gets here; see gateway.ts).
 */
import {
  Agent,
  type ClientRequestArgs,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { LocalLoadBalancer } from './aws/local-load-balancer';
import { discardBody, type ForwardLimits, MAX_BODY_BYTES, payloadTooLarge, sendJson } from './gateway';

/** Headers that describe one connection (RFC 9110 §7.6.1): never passed from one hop to the next. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade']);

/** What a write to a socket whose peer has closed (or reset) it fails with. */
const PEER_CLOSED = new Set(['EPIPE', 'ECONNRESET']);

type WriteCallback = (error?: Error | null) => void;

/**
 * Connections to the serving tasks that keep an answer the task sent before reading the whole
 * body. A model host that refuses a request early (its own 413, `Connection: close`) answers and
 * closes its end while the body is still being sent; the next write then fails with EPIPE, and
 * Node's HTTP client would tear the socket down with the answer still unread in it. Here such a
 * write is dropped instead, so the answer is read and passed on; if none comes, the read side
 * fails (ECONNRESET, "socket hang up") as it would have. Such a socket is never reused.
 */
class EarlyAnswerAgent extends Agent {
  private readonly peerClosed = new WeakSet<Duplex>();

  override createConnection(
    options: ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const socket = super.createConnection(options, callback) as Socket | null | undefined;
    if (!socket) return socket;
    const closed = this.peerClosed;
    const tolerant = (cb: WriteCallback): WriteCallback => {
      return (error) => {
        if (error && PEER_CLOSED.has((error as NodeJS.ErrnoException).code ?? '')) {
          closed.add(socket);
          cb();
        } else cb(error);
      };
    };
    const write = socket._write.bind(socket);
    const writev = socket._writev?.bind(socket);
    socket._write = (chunk, encoding, cb) => (closed.has(socket) ? cb() : write(chunk, encoding, tolerant(cb)));
    if (writev) socket._writev = (chunks, cb) => (closed.has(socket) ? cb() : writev(chunks, tolerant(cb)));
    return socket;
  }

  override keepSocketAlive(socket: Duplex): boolean {
    // Node's own returns whether it kept the socket (its declared type says void).
    return !this.peerClosed.has(socket) && (super.keepSocketAlive(socket) as unknown as boolean);
  }
}

export function modelProxy(loadBalancer: LocalLoadBalancer) {
  const agent = new EarlyAnswerAgent({ keepAlive: true });
  return async (
    req: IncomingMessage,
    res: ServerResponse,
    limits: ForwardLimits = { maxBodyBytes: MAX_BODY_BYTES },
  ): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    const model = decodeURIComponent(path.split('/')[2] ?? '');
    const target = loadBalancer.route(path);
    if (!target) {
      req.resume();
      if (loadBalancer.claims(path)) {
        sendJson(res, 503, {
          error_code: 'TEMPORARILY_UNAVAILABLE',
          message: `Model '${model}' has no healthy serving task yet; retry shortly.`,
        });
      } else {
        sendJson(res, 404, {
          error_code: 'RESOURCE_DOES_NOT_EXIST',
          message: `Model '${model}' is not served: enable serving for it first.`,
        });
      }
      return;
    }
    await new Promise<void>((resolve) => {
      let settled = false;
      const finish = () => {
        if (settled) return;
        settled = true;
        resolve();
      };
      /** Whether the client's body still goes to the task (no answer, no refusal yet). */
      let forwarding = true;
      /** Whether the task's answer is being passed on. */
      let answered = false;
      /** Stops sending the body to the task; the rest of it is read and dropped. */
      const stopForwarding = () => {
        if (!forwarding) return;
        forwarding = false;
        if (!req.readableEnded) discardBody(req);
      };

      const upstream = httpRequest(
        `${target}${req.url ?? '/'}`,
        { method: req.method, headers: req.headers, agent },
        (answer) => {
          answered = true;
          // An answer before the whole body was sent (the task refused it early): pass it on as it is.
          stopForwarding();
          const headers = Object.fromEntries(Object.entries(answer.headers).filter(([k]) => !HOP_BY_HOP.has(k)));
          res.writeHead(answer.statusCode ?? 502, headers);
          answer.pipe(res);
          answer.once('end', finish);
          answer.once('close', () => {
            // The task went away mid-answer: the client's answer is cut short too.
            if (!answer.complete) res.destroy();
            finish();
          });
        },
      );
      upstream.on('error', (error) => {
        // After an answer (or after this proxy aborted the request) a failed write changes nothing.
        if (answered || !forwarding) return;
        stopForwarding();
        if (!res.headersSent) {
          sendJson(res, 502, {
            error_code: 'TEMPORARILY_UNAVAILABLE',
            message: `Serving task unreachable: ${error.message}`,
          });
        } else res.destroy();
        finish();
      });
      // The client going away mid-request takes the task's request with it.
      res.once('close', () => {
        if (!res.writableFinished) {
          stopForwarding();
          upstream.destroy();
        }
        finish();
      });

      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (!forwarding) return;
        if (size > limits.maxBodyBytes) {
          // A body with no Content-Length grew past the limit: abort the task's request and refuse it.
          stopForwarding();
          upstream.destroy();
          if (!res.headersSent) payloadTooLarge(res, limits.maxBodyBytes);
          finish();
          return;
        }
        if (!upstream.write(chunk)) {
          req.pause();
          upstream.once('drain', () => req.resume());
        }
      });
      req.once('end', () => {
        if (forwarding) upstream.end();
      });
      req.once('error', () => upstream.destroy());
    });
  };
}
