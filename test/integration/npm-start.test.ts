/**
 * `npm start` as a newcomer runs it: the twin's entry point as a child process, serving the
 * registry on a loopback port and keeping its data under MLSERVE_HOME across restarts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTokenSecret } from '../../core/auth/secrets';
import { call } from '../helpers/twin';
import { startTwinProcess, type TwinProcess } from '../helpers/twin-process';

const ADMIN = newTokenSecret();
const auth = { Authorization: `Bearer ${ADMIN}` };

let home: string;
const running = new Set<TwinProcess>();

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'mlserve-start-'));
});
afterAll(async () => {
  for (const twin of running) await twin.stop();
  await rm(home, { recursive: true, force: true });
});

const startTwin = (env: Record<string, string> = {}) =>
  startTwinProcess({ MLSERVE_HOME: home, MLSERVE_ADMIN_TOKEN: ADMIN, MLSERVE_DEMO: 'false', ...env }).then((t) => {
    running.add(t);
    return t;
  });

/**
 * The statuses of `count` requests sent at once with the admin's token, and the first refusal's
 * message. One request first, so the token is authenticated (and cached) and the burst reaches
 * the limiter together.
 */
async function burst(url: string, count: number): Promise<{ statuses: number[]; refusal?: string }> {
  expect((await call(url, 'GET', '/api/2.0/tokens/whoami', undefined, auth)).status).toBe(200);
  const answers = await Promise.all(
    Array.from({ length: count }, () => call(url, 'GET', '/api/2.0/tokens/whoami', undefined, auth)),
  );
  const refused = answers.find((a) => a.status === 429);
  return { statuses: answers.map((a) => a.status).sort(), refusal: refused?.json.message as string | undefined };
}

describe('npm start', () => {
  it('serves the registry API and keeps its data across restarts', async () => {
    const first = await startTwin();
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
    await first.stop();

    const second = await startTwin();
    const read = await call(second.url, 'GET', '/api/2.0/mlflow/registered-models/get', { name: 'persisted' }, auth);
    const anonymous = await call(second.url, 'GET', '/api/2.0/mlflow/registered-models/get', { name: 'persisted' });
    expect(anonymous.status).toBe(401);
    expect(read.status).toBe(200);
    expect(read.json.registered_model).toMatchObject({ name: 'persisted', description: 'kept on disk' });
    await second.stop();
  }, 90_000);

  it('limits each token to MLSERVE_RATE_LIMIT (per second, burst), and says so at start', async () => {
    const twin = await startTwin({ MLSERVE_RATE_LIMIT: '1,3' });
    expect(twin.output()).toContain('rate limit:     1 requests/s per token, bursts of 3 (MLSERVE_RATE_LIMIT)');
    const { statuses, refusal } = await burst(twin.url, 4);
    expect(statuses).toEqual([200, 200, 429, 429]);
    expect(refusal).toBe('Too many requests for this token (limit 1/s, burst 3); retry shortly.');
    await twin.stop();
  }, 90_000);

  it('sets no per-token limit with MLSERVE_RATE_LIMIT=off (the default refuses past 200 at once)', async () => {
    const twin = await startTwin({ MLSERVE_RATE_LIMIT: 'off' });
    expect(twin.output()).toContain('rate limit:     off (MLSERVE_RATE_LIMIT)');
    const { statuses } = await burst(twin.url, 300);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    await twin.stop();
  }, 90_000);

  it('stops with exit 2 and what it takes for an MLSERVE_RATE_LIMIT it cannot read', async () => {
    const started = startTwin({ MLSERVE_RATE_LIMIT: '100/s' });
    await expect(started).rejects.toThrow(
      "twin exited with 2:\nMLSERVE_RATE_LIMIT must be <requests per second>[,<burst>] (e.g. 100,200) or off; got '100/s': the rate must be a number above 0.",
    );
  }, 90_000);
});
