/**
 * The benchmark's processes: load runs (autocannon, each in its own process: bench/load-runner.ts),
 * the floor server (bench/floor-server.ts), and their memory figures.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '../test/helpers/paths';

export interface LoadResult {
  readonly rps: number;
  /** Latencies of answered requests, in milliseconds. */
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
  readonly answered: number;
  /** Connection errors, timeouts and answers other than 2xx. */
  readonly errors: number;
  readonly seconds: number;
}

/** Runs a TypeScript file of this repository in a Node process of its own. */
function node(script: string, args: string[] = []): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, script), ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** POSTs `body` to `url` from `connections` connections for `seconds`, in a separate process. */
export function runLoad(spec: {
  url: string;
  body: string;
  connections: number;
  seconds: number;
}): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = node('bench/load-runner.ts', [JSON.stringify(spec)]);
    let out = '';
    let err = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), (spec.seconds + 30) * 1000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`load run exited ${code}: ${err}`));
      resolve(JSON.parse(out) as LoadResult);
    });
  });
}

export interface FloorServer {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starts the floor server (a bare Node HTTP server: JSON.parse of the body, a constant answer). */
export function startFloorServer(): Promise<FloorServer> {
  const child = node('bench/floor-server.ts');
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`floor server did not start: ${out}`)), 30_000);
    child.stderr?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      if (!url) return;
      clearTimeout(timer);
      resolve({
        url,
        pid: child.pid as number,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
    child.once('exit', (code) => reject(new Error(`floor server exited ${code}: ${out}`)));
  });
}

/** A process's peak resident memory (VmHWM) in MiB, or undefined when it is gone. */
export async function peakRssMiB(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The machine's 1-minute load average (other work on it skews the figures). */
export async function loadAverage(): Promise<string> {
  return (await readFile('/proc/loadavg', 'utf8').catch(() => '?')).split(' ')[0] ?? '?';
}
