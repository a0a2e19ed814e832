/** `npm start` as a newcomer runs it: the twin's entry point as a child process. */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './paths';

export interface TwinProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything it printed so far. */
  output(): string;
  /** SIGTERM, and wait for it to exit. */
  stop(): Promise<void>;
}

/** Starts the twin on a free port with `env` (MLSERVE_HOME, MLSERVE_ADMIN_TOKEN …); resolves once it listens. */
export function startTwinProcess(env: Record<string, string>, timeoutMs = 60_000): Promise<TwinProcess> {
  const child = spawn(path.join(REPO_ROOT, 'node_modules/.bin/tsx'), ['twin/main.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, MLSERVE_PORT: '0', MLSERVE_SOURCE_ROOTS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`twin did not start in time:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] as string, output: () => output, stop });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`twin exited with ${code}:\n${output}`));
    });
  });
}
