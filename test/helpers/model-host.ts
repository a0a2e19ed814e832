/** Runs the model host program (container/src/main.ts) as a child process, as a serving task runs it. */
import { type ChildProcess, spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { REPO_ROOT } from './paths';

export interface RunningHost {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the host printed so far. */
  output(): string;
  /** Sends a signal (SIGTERM by default) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Polls GET /health until it answers 200. */
  healthy(timeoutMs?: number): Promise<void>;
}

export interface HostOptions {
  readonly modelName: string;
  readonly tableName: string;
  readonly dynamoEndpoint: string;
  readonly sourceRoots: string;
  readonly artifactCache: string;
  readonly env?: Record<string, string>;
}

export async function startModelHost(options: HostOptions): Promise<RunningHost> {
  const child = spawn(path.join(REPO_ROOT, 'node_modules/.bin/tsx'), ['container/src/main.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      MLSERVE_MODEL_NAME: options.modelName,
      REGISTRY_TABLE: options.tableName,
      MLSERVE_SOURCE_ROOTS: options.sourceRoots,
      MLSERVE_ARTIFACT_CACHE: options.artifactCache,
      PORT: '0',
      MLSERVE_BIND: '127.0.0.1',
      MLSERVE_POLL_INTERVAL_MS: '200',
      MLSERVE_METRICS_INTERVAL_MS: '1000',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: options.dynamoEndpoint,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`host did not start:\n${output}`)), 30_000);
    const check = () => {
      const m = /"message":"model host listening".*?"url":"(http:\/\/[^"]+)"/.exec(output);
      if (m) {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        resolve(m[1] as string);
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`host exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    child,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    healthy: async (timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const res = await fetch(`${url}/health`).catch(() => undefined);
        if (res?.status === 200) return;
        if (Date.now() > deadline) throw new Error(`host not healthy in time:\n${output.slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

export interface HttpAnswer {
  readonly status: number;
  readonly json: unknown;
  readonly text: string;
  readonly contentType?: string;
}

/**
 * Sends one request with exactly the headers given (fetch would add a Content-Type to
 * string bodies); JSON-encodes `body` unless it is a string or Buffer.
 */
export function request(
  url: string,
  options: { method?: string; body?: unknown; contentType?: string; headers?: Record<string, string> } = {},
): Promise<HttpAnswer> {
  const raw =
    options.body === undefined
      ? undefined
      : typeof options.body === 'string' || Buffer.isBuffer(options.body)
        ? options.body
        : JSON.stringify(options.body);
  const headers: Record<string, string> = { ...options.headers };
  if (options.contentType !== undefined) headers['Content-Type'] = options.contentType;
  if (raw !== undefined) headers['Content-Length'] = String(Buffer.byteLength(raw));
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'POST', headers, timeout: 30_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, json, text, contentType: res.headers['content-type'] });
      });
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    if (raw !== undefined) req.write(raw);
    req.end();
  });
}

/** POSTs a scoring request with a JSON Content-Type (or the one given; `null` sends none). */
export function score(
  url: string,
  body: unknown,
  contentType: string | null = 'application/json',
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  return request(url, { body, contentType: contentType ?? undefined, headers });
}
