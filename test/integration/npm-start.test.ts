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

const startTwin = () =>
  startTwinProcess({ MLSERVE_HOME: home, MLSERVE_ADMIN_TOKEN: ADMIN, MLSERVE_DEMO: 'false' }).then((t) => {
    running.add(t);
    return t;
  });

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
});
