/**
 * `npm start` as a newcomer runs it: the twin's entry point as a child process, serving the
 * registry on a loopback port and keeping its data under MLSERVE_HOME across restarts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTokenSecret } from '../../core/auth/secrets';
import { REPO_ROOT } from '../helpers/paths';
import { call } from '../helpers/twin';

const ADMIN = newTokenSecret();
const auth = { Authorization: `Bearer ${ADMIN}` };

let home: string;
const running = new Set<ChildProcess>();

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'mlserve-start-'));
});
afterAll(async () => {
  for (const child of running) await stop(child);
  await rm(home, { recursive: true, force: true });
});

/** Starts the twin (port 0: a free one) and resolves with the URL it prints. */
function startTwinProcess(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(path.join(REPO_ROOT, 'node_modules/.bin/tsx'), ['twin/main.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      MLSERVE_HOME: home,
      MLSERVE_PORT: '0',
      MLSERVE_SOURCE_ROOTS: '',
      MLSERVE_ADMIN_TOKEN: ADMIN,
      MLSERVE_DEMO: 'false',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`twin did not start in time:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] as string });
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

/** Stops a child this test started, by its pid, and waits for it to exit. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
  running.delete(child);
}

describe('npm start', () => {
  it('serves the registry API and keeps its data across restarts', async () => {
    const first = await startTwinProcess();
    const created = await call(
      first.url,
      'POST',
      '/api/2.0/mlflow/registered-models/create',
      {
        name: 'persisted',
        description: 'kept on disk',
      },
      auth,
    );
    expect(created.status).toBe(200);
    await stop(first.child);

    const second = await startTwinProcess();
    const read = await call(second.url, 'GET', '/api/2.0/mlflow/registered-models/get', { name: 'persisted' }, auth);
    const anonymous = await call(second.url, 'GET', '/api/2.0/mlflow/registered-models/get', { name: 'persisted' });
    expect(anonymous.status).toBe(401);
    expect(read.status).toBe(200);
    expect(read.json.registered_model).toMatchObject({ name: 'persisted', description: 'kept on disk' });
    await stop(second.child);
  }, 90_000);
});
