/**
 * A steady stream of scoring requests at a fixed rate, counting every answer that is not a 200
 * (with its status and body), for tests that promise "no request fails while …".
 */
import { Agent, request as httpRequest } from 'node:http';

export interface LoadResult {
  readonly sent: number;
  readonly ok: number;
  /** Every answer that was not a 200 (or a connection error, status 0). */
  readonly failures: readonly { readonly url: string; readonly status: number; readonly body: string }[];
  readonly seconds: number;
  readonly perSecond: number;
}

export interface SteadyLoad {
  stop(): Promise<LoadResult>;
}

/**
 * Sends `body` to the `urls` in turn at `perSecond` requests per second (at most `concurrency`
 * in flight; a slow answer delays the next rather than piling up), until stopped.
 */
export function startSteadyLoad(options: {
  readonly urls: readonly string[];
  readonly body: string;
  readonly headers?: Record<string, string>;
  readonly perSecond: number;
  readonly concurrency?: number;
}): SteadyLoad {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency ?? 8 });
  const failures: { url: string; status: number; body: string }[] = [];
  let sent = 0;
  let ok = 0;
  let stopped = false;
  const started = performance.now();
  const once = (url: string) =>
    new Promise<void>((resolve) => {
      const req = httpRequest(
        url,
        {
          method: 'POST',
          agent,
          timeout: 30_000,
          headers: {
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(options.body),
            ...options.headers,
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            text += c;
          });
          res.on('end', () => {
            if (res.statusCode === 200) ok++;
            else failures.push({ url, status: res.statusCode ?? 0, body: text.slice(0, 500) });
            resolve();
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (error) => {
        failures.push({ url, status: 0, body: error.message });
        resolve();
      });
      req.end(options.body);
    });
  const interval = 1000 / options.perSecond;
  const lanes = options.concurrency ?? 8;
  const lane = async (offset: number) => {
    let next = started + offset * interval;
    while (!stopped) {
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (stopped) break;
      const url = options.urls[sent % options.urls.length] as string;
      sent++;
      await once(url);
      next += interval * lanes;
    }
  };
  const running = Promise.all(Array.from({ length: lanes }, (_, i) => lane(i)));
  return {
    stop: async () => {
      stopped = true;
      await running;
      agent.destroy();
      const seconds = (performance.now() - started) / 1000;
      return { sent, ok, failures, seconds, perSecond: sent / seconds };
    },
  };
}
