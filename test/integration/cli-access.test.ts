import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WhoAmIResponse } from '../../lambdas/access/responses';
import { type CliRun, runCli } from '../helpers/cli';
import { startTestTwin, type TestTwin } from '../helpers/twin';

type Run = CliRun;

let twin: TestTwin;

beforeAll(async () => {
  twin = await startTestTwin();
  expect((await twin.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'iris' })).status).toBe(200);
});
afterAll(async () => {
  await twin?.close();
});

/** Runs `node cli/bin.js <args>` against the twin, as the admin unless `token` says otherwise. */
function mlserve(args: string[], token = twin.adminToken): Promise<Run> {
  return runCli(args, { env: { MLSERVE_URL: twin.url, MLSERVE_TOKEN: token } });
}

const whoami = async (secret: string) =>
  twin.call('GET', '/api/2.0/tokens/whoami', undefined, { Authorization: `Bearer ${secret}` });

/** alice's token, made by the admin through the CLI. */
let alice: { secret: string; id: string };

describe('mlserve tokens', () => {
  it('creates a token: the secret alone on stdout, once, with a warning on stderr', async () => {
    const run = await mlserve(['tokens', 'create', '--description', 'ci', '--lifetime-seconds', '3600']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^mlsv_[A-Za-z0-9_-]{43}\n$/);
    const secret = run.stdout.trim();
    const me = (await whoami(secret)).json as unknown as WhoAmIResponse;
    expect(me.principal).toBe('admin');
    expect(run.stderr).toContain(`Created token ${me.token_id} for admin, expiring `);
    expect(run.stderr).toMatch(/Warning: copy the token now\. This is the only time it is shown/);
    expect(run.stderr).not.toContain(secret);
  });

  it("creates another principal's token as an admin, and prints the whole answer with --json", async () => {
    const run = await mlserve(['tokens', 'create', '--principal', 'alice', '--description', "alice's", '--json']);
    expect(run.code).toBe(0);
    const answer = JSON.parse(run.stdout) as { token_value: string; token_info: Record<string, unknown> };
    expect(answer.token_info).toMatchObject({ principal: 'alice', description: "alice's" });
    expect(answer.token_info.expiry_time).toBeUndefined();
    expect(run.stderr).toContain('Warning: copy the token now');
    alice = { secret: answer.token_value, id: String(answer.token_info.token_id) };
    expect((await whoami(alice.secret)).json).toEqual({ principal: 'alice', admin: false, token_id: alice.id });
  });

  it("refuses another principal's token to a non-admin, with the server's error", async () => {
    const run = await mlserve(['tokens', 'create', '--principal', 'bob'], alice.secret);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      'error: PERMISSION_DENIED: Only an admin may create tokens for another principal. (HTTP 403)\n',
    );
  });

  it('lists tokens as a table and as JSON', async () => {
    const run = await mlserve(['tokens', 'list']);
    expect(run.code).toBe(0);
    const [header, ...rows] = run.stdout.trim().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual([
      'TOKEN ID',
      'PRINCIPAL',
      'STATE',
      'CREATED',
      'EXPIRES',
      'LAST USED',
      'DESCRIPTION',
    ]);
    const row = rows.find((r) => r.startsWith(alice.id));
    expect(row?.split(/\s{2,}/).slice(0, 3)).toEqual([alice.id, 'alice', 'live']);
    expect(row).toMatch(/alice's$/);
    expect(run.stdout).not.toContain('mlsv_');

    const mine = await mlserve(['tokens', 'list', '--json'], alice.secret);
    const api = await twin.call('GET', '/api/2.0/tokens/list', undefined, { Authorization: `Bearer ${alice.secret}` });
    expect(JSON.parse(mine.stdout)).toEqual(api.json);
  });

  it('revokes a token, which stops working at once', async () => {
    const made = await mlserve(['tokens', 'create', '--principal', 'carol']);
    const secret = made.stdout.trim();
    const id = ((await whoami(secret)).json as unknown as WhoAmIResponse).token_id;
    const run = await mlserve(['tokens', 'revoke', id]);
    expect(run).toMatchObject({ code: 0, stdout: `Revoked token ${id}.\n` });
    expect((await whoami(secret)).status).toBe(401);
    const listed = await mlserve(['tokens', 'list', '--principal', 'carol']);
    expect(
      listed.stdout
        .trim()
        .split('\n')[1]
        ?.split(/\s{2,}/)
        .slice(0, 3),
    ).toEqual([id, 'carol', 'revoked']);
  });

  it.each([
    [['tokens', 'revoke', '0123456789abcdef'], 1, /^error: RESOURCE_DOES_NOT_EXIST: No token with id 0123456789abcdef/],
    [['tokens', 'revoke', 'nope'], 1, /^error: INVALID_PARAMETER_VALUE: Invalid token_id 'nope'/],
    [['tokens', 'create', '--lifetime-seconds', '0'], 2, /expected a whole number of at least 1/],
    [['tokens', 'revoke'], 2, /missing required argument 'token_id'/],
  ])('%j exits %i and says why', async (args, code, message) => {
    const run = await mlserve(args);
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });
});

describe('mlserve permissions', () => {
  const levels = async () => twin.access.getPermissions('iris');

  it("shows a model's permissions as a table and as JSON", async () => {
    const run = await mlserve(['permissions', 'get', 'iris']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('PRINCIPAL  LEVEL\nadmin      CAN_MANAGE\n');
    const json = await mlserve(['permissions', 'get', 'iris', '--json']);
    expect(JSON.parse(json.stdout)).toEqual(
      (await twin.call('GET', '/api/2.0/permissions/registered-models/get', { name: 'iris' })).json,
    );
  });

  it('sets a level, in any case, which then lets the principal in', async () => {
    // (Asked before the change, the server would cache alice's "no level" for its TTL, 60 s.)
    const run = await mlserve(['permissions', 'set', 'iris', 'alice', 'can_read']);
    expect(run).toMatchObject({ code: 0, stdout: 'alice now has CAN_READ on iris.\n' });
    expect(await levels()).toEqual({ admin: 'CAN_MANAGE', alice: 'CAN_READ' });
    const asAlice = { Authorization: `Bearer ${alice.secret}` };
    expect((await twin.call('GET', '/api/2.0/mlflow/registered-models/get', { name: 'iris' }, asAlice)).status).toBe(
      200,
    );
    const mine = await twin.call(
      'GET',
      '/api/2.0/permissions/registered-models/get-my-permission',
      { name: 'iris' },
      asAlice,
    );
    expect(mine.json).toEqual({ permission_level: 'CAN_READ' });
    const listed = await mlserve(['permissions', 'get', 'iris']);
    expect(listed.stdout).toContain('alice      CAN_READ');
  });

  it('needs CAN_MANAGE to read or change permissions', async () => {
    const run = await mlserve(['permissions', 'get', 'iris'], alice.secret);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: PERMISSION_DENIED: Principal 'alice' needs CAN_MANAGE .*\(HTTP 403\)\n$/);
    const set = await mlserve(['permissions', 'set', 'iris', 'alice', 'CAN_MANAGE'], alice.secret);
    expect(set.code).toBe(1);
    expect((await levels()).alice).toBe('CAN_READ');
  });

  it('deletes a principal’s permission', async () => {
    const run = await mlserve(['permissions', 'delete', 'iris', 'alice']);
    expect(run).toMatchObject({ code: 0, stdout: 'alice has no permission on iris now.\n' });
    expect(await levels()).toEqual({ admin: 'CAN_MANAGE' });
  });

  it.each([
    [
      ['permissions', 'set', 'iris', 'alice', 'CAN_EVERYTHING'],
      2,
      /expected one of CAN_READ, CAN_EDIT, .*CAN_MANAGE, got 'CAN_EVERYTHING'/,
    ],
    [['permissions', 'set', 'iris', 'alice'], 2, /missing required argument 'level'/],
    [['permissions', 'get', 'nope'], 1, /^error: RESOURCE_DOES_NOT_EXIST: .*nope/],
    [['permissions', 'set', 'iris', 'bad principal!', 'CAN_READ'], 1, /^error: INVALID_PARAMETER_VALUE: /],
  ])('%j exits %i and says why', async (args, code, message) => {
    const run = await mlserve(args);
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it('lists both command groups in the help', async () => {
    const run = await mlserve(['--help']);
    expect(run.stdout).toMatch(/^\s+tokens\s/m);
    expect(run.stdout).toMatch(/^\s+permissions\s/m);
  });
});
