/**
 * The `mlserve` command line as a user runs it: `node cli/bin.js …` as a child process against
 * a real local twin (registry API) and the real model host (scoring). The upload to S3 runs
 * against a local S3-API server, with a scripted registry answering its one create call. The
 * serving commands run end to end in twin-e2e.test.ts; `serving config`'s batching and workers,
 * which need no running task, run here.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TWIN_TABLE } from '../../twin/twin';
import { type CliRun, runCli } from '../helpers/cli';
import { type LocalS3, startLocalS3 } from '../helpers/local-s3';
import { type RunningHost, startModelHost } from '../helpers/model-host';
import { IRIS_MODEL, REPO_ROOT } from '../helpers/paths';
import { startTestTwin, type TestTwin } from '../helpers/twin';

type Run = CliRun;

let twin: TestTwin;
let tmp: string;
const running = new Set<ChildProcess>();

beforeAll(async () => {
  twin = await startTestTwin();
  tmp = await mkdtemp(path.join(tmpdir(), 'mlserve-cli-'));
});
afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  await twin?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Runs `node cli/bin.js <args>` from the repository root, against the twin unless `--url` says otherwise. */
function mlserve(args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return runCli(args, {
    input: options.input,
    env: {
      MLSERVE_URL: twin.url,
      MLSERVE_TOKEN: twin.adminToken,
      MLSERVE_ARTIFACT_ROOT: undefined,
      MLSERVE_POLL_INTERVAL_MS: '100',
      ...options.env,
    },
    onStart: (child) => {
      running.add(child);
      child.once('exit', () => running.delete(child));
    },
  });
}

const json = (run: Run) => JSON.parse(run.stdout) as Record<string, unknown>;
const lines = (text: string) => text.trim().split('\n');

describe('help and usage errors', () => {
  it('lists every command group and the global options', async () => {
    const run = await mlserve(['--help']);
    expect(run.code).toBe(0);
    for (const word of ['models', 'versions', 'stage', 'alias', 'serving', 'score', '--url', '--token', '--json']) {
      expect(run.stdout).toContain(word);
    }
    expect(run.stdout).toContain('env: MLSERVE_URL');
  });

  it.each([
    [['models', 'get'], /missing required argument 'name'/],
    [['models', 'frobnicate'], /unknown command 'frobnicate'/],
    [['nope'], /unknown command 'nope'/],
    [['versions', 'get', 'iris', 'one'], /expected a whole number/],
    [['versions', 'create', '--name', 'iris'], /one of --source <uri> or --from <dir> is required/],
    [['versions', 'create', '--name', 'iris', '--source', 's3://b/m', '--from', '.'], /cannot be used with/],
    [['versions', 'create', '--source', 's3://b/m'], /required option '--name <name>' not specified/],
    [['models', 'create', 'm', '--tag', 'novalue'], /expected key=value/],
    [['models', 'list', '--bogus'], /unknown option '--bogus'/],
  ])('%j exits 2 and says why', async (args, message) => {
    const run = await mlserve(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it('exits 2 for a command group given without a subcommand, showing its help', async () => {
    const run = await mlserve(['versions']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Usage: mlserve versions');
  });
});

describe('registered models', () => {
  it('creates a model with a description and tags', async () => {
    const run = await mlserve(['models', 'create', 'iris', '--description', 'the iris model', '--tag', 'team=a=b']);
    expect(run).toMatchObject({ code: 0, stdout: 'Created registered model iris.\n' });
    const model = await twin.registry.getRegisteredModel('iris');
    expect(model.description).toBe('the iris model');
    expect(model.tags).toEqual({ team: 'a=b' });
  });

  it('prints a server error with its code and message on stderr and exits 1', async () => {
    const run = await mlserve(['models', 'get', 'nope']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('error: RESOURCE_DOES_NOT_EXIST: Registered Model with name=nope not found (HTTP 404)\n');
    const again = await mlserve(['models', 'create', 'iris']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: RESOURCE_ALREADY_EXISTS: .*iris.*\(HTTP 400\)\n$/);
  });

  it('gets a model as text and as JSON', async () => {
    const text = await mlserve(['models', 'get', 'iris']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^name:\s+iris$/m);
    expect(text.stdout).toMatch(/^description:\s+the iris model$/m);
    expect(text.stdout).toMatch(/^tags:\s+team=a=b$/m);

    const raw = await mlserve(['models', 'get', 'iris', '--json']);
    expect(raw.code).toBe(0);
    const answer = await twin.call('GET', '/api/2.0/mlflow/registered-models/get', { name: 'iris' });
    expect(json(raw)).toEqual(answer.json);
  });

  it('lists models, with a filter, as a table and as JSON', async () => {
    expect((await mlserve(['models', 'create', 'other'])).code).toBe(0);
    const all = await mlserve(['models', 'list']);
    expect(all.code).toBe(0);
    const rows = lines(all.stdout);
    expect(rows[0]).toMatch(/^NAME\s+LATEST VERSIONS\s+ALIASES\s+UPDATED\s+DESCRIPTION$/);
    expect(rows.slice(1).map((r) => r.split(/\s+/)[0])).toEqual(['iris', 'other']);

    const filtered = await mlserve(['--json', 'models', 'list', '--filter', "name LIKE 'ir%'"]);
    expect(filtered.code).toBe(0);
    expect((json(filtered).registered_models as { name: string }[]).map((m) => m.name)).toEqual(['iris']);

    const none = await mlserve(['models', 'list', '--filter', "name = 'absent'"]);
    expect(none).toMatchObject({ code: 0, stdout: 'No registered models.\n' });
    const noneJson = await mlserve(['models', 'list', '--json', '--filter', "name = 'absent'"]);
    expect(json(noneJson)).toEqual({});
  });

  it('follows next_page_token through every page', async () => {
    const names = Array.from({ length: 1010 }, (_, i) => `paged-${String(i).padStart(4, '0')}`);
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(names.slice(i, i + 50).map((name) => twin.registry.createRegisteredModel({ name })));
    }
    const run = await mlserve(['--json', 'models', 'list', '--filter', "name LIKE 'paged-%'"]);
    expect(run.code).toBe(0);
    expect((json(run).registered_models as { name: string }[]).map((m) => m.name)).toEqual(names);
  }, 120_000);

  it('renames and deletes a model', async () => {
    expect((await mlserve(['models', 'create', 'temp'])).code).toBe(0);
    const renamed = await mlserve(['models', 'rename', 'temp', 'temp2']);
    expect(renamed).toMatchObject({ code: 0, stdout: 'Renamed registered model temp to temp2.\n' });
    expect((await twin.registry.getRegisteredModel('temp2')).name).toBe('temp2');
    const deleted = await mlserve(['models', 'delete', 'temp2']);
    expect(deleted).toMatchObject({ code: 0, stdout: 'Deleted registered model temp2.\n' });
    await expect(twin.registry.getRegisteredModel('temp2')).rejects.toThrow(/not found/);
  });
});

describe('model versions', () => {
  it('copies a local model directory into the artifact store and waits until the version is READY', async () => {
    const run = await mlserve([
      'versions',
      'create',
      '--name',
      'iris',
      '--from',
      path.relative(REPO_ROOT, IRIS_MODEL),
      '--artifact-root',
      twin.artifactDir,
      '--description',
      'first',
      '--tag',
      'trained=yes',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Registered version 1 of iris \(READY\)\.$/m);
    expect(run.stderr).toMatch(/copied 7 files to /);
    expect(run.stderr).toMatch(/Waiting for version 1 of iris/);

    const copies = await readdir(path.join(twin.artifactDir, 'iris'));
    expect(copies).toHaveLength(1);
    expect(copies[0]).toMatch(/^\d{8}T\d{9}Z$/);
    const copy = path.join(twin.artifactDir, 'iris', copies[0] as string);
    expect((await readdir(copy)).sort()).toEqual((await readdir(IRIS_MODEL)).sort());
    expect(await readFile(path.join(copy, 'model.pkl'))).toEqual(await readFile(path.join(IRIS_MODEL, 'model.pkl')));

    const version = await twin.registry.getModelVersion('iris', 1);
    expect(version).toMatchObject({ status: 'READY', source: pathToFileURL(copy).href, description: 'first' });
    expect(version.tags).toEqual({ trained: 'yes' });
  });

  it('registers a second version from a source URI, printing JSON', async () => {
    const copy = (await readdir(path.join(twin.artifactDir, 'iris')))[0] as string;
    const source = pathToFileURL(path.join(twin.artifactDir, 'iris', copy)).href;
    const run = await mlserve(['versions', 'create', '--name', 'iris', '--source', source, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(json(run).model_version).toMatchObject({ name: 'iris', version: '2', status: 'READY', source });
  });

  it('refuses a directory without an MLmodel file before copying anything', async () => {
    const notAModel = path.join(tmp, 'not-a-model');
    await mkdir(notAModel, { recursive: true });
    await writeFile(path.join(notAModel, 'model.pkl'), 'x');
    const run = await mlserve([
      'versions',
      'create',
      '--name',
      'iris',
      '--from',
      notAModel,
      '--artifact-root',
      twin.artifactDir,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`error: ${notAModel} is not an MLflow model directory: it has no MLmodel file\n`);
    expect(await readdir(path.join(twin.artifactDir, 'iris'))).toHaveLength(1);
    expect((await twin.registry.searchModelVersions({ filter: "name='iris'" })).items).toHaveLength(2);
  });

  it('removes its copy when the registry refuses the source', async () => {
    const elsewhere = path.join(tmp, 'not-an-allowed-root');
    await mkdir(elsewhere, { recursive: true });
    const run = await mlserve(['versions', 'create', '--name', 'iris', '--from', IRIS_MODEL], {
      env: { MLSERVE_ARTIFACT_ROOT: elsewhere },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: INVALID_PARAMETER_VALUE: .*allowed source root.*\(HTTP 400\)$/m);
    expect(await readdir(path.join(elsewhere, 'iris'))).toEqual([]);
  });

  it('says so when the artifact root does not exist', async () => {
    const run = await mlserve(['versions', 'create', '--name', 'iris', '--from', IRIS_MODEL], {
      env: { MLSERVE_ARTIFACT_ROOT: path.join(tmp, 'absent') },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/artifact root .*absent does not exist/);
  });

  it('exits 1 with the status message when the registration check fails', async () => {
    const empty = path.join(twin.artifactDir, 'empty-model');
    await mkdir(empty, { recursive: true });
    const run = await mlserve(['versions', 'create', '--name', 'other', '--source', pathToFileURL(empty).href]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: version 1 of other failed registration: .*MLmodel not found/m);
    expect((await twin.registry.getModelVersion('other', 1)).status).toBe('FAILED_REGISTRATION');
  });

  it('returns at once with --no-wait', async () => {
    const copy = (await readdir(path.join(twin.artifactDir, 'iris')))[0] as string;
    const source = pathToFileURL(path.join(twin.artifactDir, 'iris', copy)).href;
    const run = await mlserve(['versions', 'create', '--name', 'other', '--source', source, '--no-wait']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Registered version 2 of other \((PENDING_REGISTRATION|READY)\)\.$/m);
    expect(run.stderr).not.toMatch(/Waiting/);
  });

  it('lists and gets versions', async () => {
    const list = await mlserve(['versions', 'list', 'iris']);
    expect(list.code).toBe(0);
    const rows = lines(list.stdout);
    expect(rows[0]).toMatch(/^VERSION\s+STAGE\s+STATUS\s+ALIASES\s+CREATED\s+SOURCE$/);
    expect(rows.slice(1).map((r) => r.split(/\s+/).slice(0, 3))).toEqual([
      ['1', 'None', 'READY'],
      ['2', 'None', 'READY'],
    ]);

    const listJson = await mlserve(['versions', 'list', 'iris', '--json']);
    expect((json(listJson).model_versions as { version: string }[]).map((v) => v.version)).toEqual(['1', '2']);

    const get = await mlserve(['versions', 'get', 'iris', '1']);
    expect(get.code).toBe(0);
    expect(get.stdout).toMatch(/^status:\s+READY$/m);
    expect(get.stdout).toMatch(/^tags:\s+trained=yes$/m);

    const missing = await mlserve(['versions', 'list', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/RESOURCE_DOES_NOT_EXIST/);
  });

  it('moves a version to a stage, archiving the one there', async () => {
    expect((await mlserve(['stage', 'iris', '1', 'production'])).stdout).toBe(
      'Version 1 of iris is now in stage Production.\n',
    );
    const run = await mlserve(['stage', 'iris', '2', 'Production', '--archive-existing']);
    expect(run.code).toBe(0);
    expect((await twin.registry.getModelVersion('iris', 2)).currentStage).toBe('Production');
    expect((await twin.registry.getModelVersion('iris', 1)).currentStage).toBe('Archived');

    const bad = await mlserve(['stage', 'iris', '1', 'Prod']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/INVALID_PARAMETER_VALUE/);
  });

  it('sets, moves and deletes an alias', async () => {
    const set = await mlserve(['alias', 'set', 'iris', 'champion', '1']);
    expect(set).toMatchObject({ code: 0, stdout: 'Alias champion of iris now points to version 1.\n' });
    expect((await twin.registry.getRegisteredModel('iris')).aliases).toEqual({ champion: 1 });
    expect((await mlserve(['alias', 'set', 'iris', 'champion', '2'])).code).toBe(0);
    expect((await twin.registry.getRegisteredModel('iris')).aliases).toEqual({ champion: 2 });
    const list = await mlserve(['versions', 'list', 'iris']);
    expect(lines(list.stdout)[2]).toMatch(/^2\s+Production\s+READY\s+champion\s/);

    expect((await mlserve(['alias', 'set', 'iris', 'spare', '1'])).code).toBe(0);
    const deleted = await mlserve(['alias', 'delete', 'iris', 'spare']);
    expect(deleted).toMatchObject({ code: 0, stdout: 'Deleted alias spare of iris.\n' });
    expect((await twin.registry.getRegisteredModel('iris')).aliases).toEqual({ champion: 2 });
  });

  it('deletes a version', async () => {
    const run = await mlserve(['versions', 'delete', 'other', '1']);
    expect(run).toMatchObject({ code: 0, stdout: 'Deleted version 1 of other.\n' });
    await expect(twin.registry.getModelVersion('other', 1)).rejects.toThrow(/not found/);
  });
});

describe('connection', () => {
  it('names the URL it could not reach', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const run = await mlserve(['--url', `http://127.0.0.1:${port}/`, 'models', 'get', 'iris']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(
        `^error: could not reach http://127\\.0\\.0\\.1:${port}/api/2\\.0/mlflow/registered-models/get\\?name=iris: `,
      ),
    );
  });
});

interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** An HTTP server answering each request with the next scripted answer for its path, recording every request. */
async function scriptedServer(
  answers: Record<string, { status?: number; body: unknown }[]>,
): Promise<{ url: string; requests: Recorded[]; close(): Promise<void> }> {
  const requests: Recorded[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const key = new URL(req.url ?? '/', 'http://x').pathname;
      const queue = answers[key];
      const answer = queue && queue.length > 1 ? queue.shift() : queue?.[0];
      res.writeHead(answer?.status ?? (answer ? 200 : 404), { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(answer?.body ?? { error_code: 'ENDPOINT_NOT_FOUND', message: `no ${key}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('versions create --from with an s3:// artifact root', () => {
  let s3: LocalS3;
  let s3Endpoint: string;
  let server: Awaited<ReturnType<typeof scriptedServer>>;
  const created = '/api/2.0/mlflow/model-versions/create';

  beforeAll(async () => {
    s3 = await startLocalS3();
    const client = s3.client();
    const endpoint = await client.config.endpoint?.();
    client.destroy();
    s3Endpoint = `${endpoint?.protocol}//${endpoint?.hostname}:${endpoint?.port}`;
    server = await scriptedServer({
      [created]: [
        { body: { model_version: { name: 'iris', version: '1', status: 'PENDING_REGISTRATION' } } },
        { status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: 'refused' } },
      ],
    });
  });
  afterAll(async () => {
    await server?.close();
    await s3?.close();
  });

  const env = () => ({
    MLSERVE_URL: server.url,
    AWS_ENDPOINT_URL_S3: s3Endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  });
  const keys = async () => {
    const client = s3.client();
    try {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket }));
      return (listed.Contents ?? []).map((o) => o.Key as string).sort();
    } finally {
      client.destroy();
    }
  };

  it('uploads every file under <prefix>/<name>/<timestamp>/ and registers that prefix', async () => {
    const run = await mlserve(
      [
        'versions',
        'create',
        '--name',
        'iris',
        '--from',
        IRIS_MODEL,
        '--no-wait',
        '--artifact-root',
        `s3://${s3.bucket}/models/`,
      ],
      { env: env() },
    );
    expect(run.code, run.stderr).toBe(0);
    const source = JSON.parse(server.requests.at(-1)?.body ?? '{}').source as string;
    expect(source).toMatch(new RegExp(`^s3://${s3.bucket}/models/iris/\\d{8}T\\d{9}Z$`));
    const prefix = source.slice(`s3://${s3.bucket}/`.length);
    expect(await keys()).toEqual((await readdir(IRIS_MODEL)).sort().map((f) => `${prefix}/${f}`));
    expect(run.stderr).toContain(`uploaded 7 files to ${source}`);
  });

  it('deletes the upload again when the registry refuses it', async () => {
    const before = await keys();
    const run = await mlserve(
      ['versions', 'create', '--name', 'iris', '--from', IRIS_MODEL, '--artifact-root', `s3://${s3.bucket}/models`],
      { env: env() },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: INVALID_PARAMETER_VALUE: refused \(HTTP 400\)$/m);
    expect(run.stderr).toMatch(/uploaded 7 files/);
    expect(await keys()).toEqual(before);
  });
});

describe('score, against the model host serving the registered versions', () => {
  let host: RunningHost;
  let cache: string;
  const row = { columns: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'], data: [[5.1, 3.5, 1.4, 0.2]] };

  beforeAll(async () => {
    cache = await mkdtemp(path.join(tmpdir(), 'mlserve-cli-cache-'));
    host = await startModelHost({
      modelName: 'iris',
      tableName: TWIN_TABLE,
      dynamoEndpoint: twin.dynamo.endpoint,
      sourceRoots: pathToFileURL(twin.artifactDir).href,
      artifactCache: cache,
    });
    await host.healthy(60_000);
  }, 90_000);
  afterAll(async () => {
    await host?.stop();
    if (cache) await rm(cache, { recursive: true, force: true });
  });

  it('scores a body given with --data, by version, stage and alias', async () => {
    // Version 1 was archived above; version 2 is in Production and is the champion.
    for (const ref of ['2', 'Production', '@champion']) {
      const run = await mlserve(['score', 'iris', ref, '--data', JSON.stringify({ dataframe_split: row })], {
        env: { MLSERVE_URL: host.url },
      });
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({ predictions: [0] });
    }
  });

  it('scores a CSV file and a body on stdin', async () => {
    const csv = path.join(tmp, 'rows.csv');
    await writeFile(csv, 'sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n');
    const fromFile = await mlserve(['score', 'iris', '2', '--file', csv, '--content-type', 'text/csv'], {
      env: { MLSERVE_URL: host.url },
    });
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(JSON.parse(fromFile.stdout)).toEqual({ predictions: [0, 2] });

    const fromStdin = await mlserve(['score', 'iris', '2'], {
      env: { MLSERVE_URL: host.url },
      input: JSON.stringify({
        dataframe_records: [{ ...Object.fromEntries(row.columns.map((c, i) => [c, row.data[0]?.[i]])) }],
      }),
    });
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(JSON.parse(fromStdin.stdout)).toEqual({ predictions: [0] });
  });

  it("prints the host's error and exits 1", async () => {
    const run = await mlserve(['score', 'iris', '9', '--data', JSON.stringify({ dataframe_split: row })], {
      env: { MLSERVE_URL: host.url },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: RESOURCE_DOES_NOT_EXIST: .*\(HTTP 404\)\n$/);
    const archived = await mlserve(['score', 'iris', '1', '--data', JSON.stringify({ dataframe_split: row })], {
      env: { MLSERVE_URL: host.url },
    });
    expect(archived.code).toBe(1);
    expect(archived.stderr).toMatch(/^error: RESOURCE_DOES_NOT_EXIST: .*archived/i);
    const bad = await mlserve(
      ['score', 'iris', '2', '--data', '{"dataframe_split": {"columns": ["x"], "data": [[1]]}}'],
      {
        env: { MLSERVE_URL: host.url },
      },
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: (INVALID_PARAMETER_VALUE|BAD_REQUEST): /);
  });
});

describe('serving config: batching and workers per version', () => {
  const status = async (name: string) =>
    (await twin.call('GET', '/api/2.0/preview/mlflow/endpoints/get-status', { registered_model_name: name })).json
      .endpoint_status as Record<string, unknown>;

  beforeAll(async () => {
    expect((await twin.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'batched' })).status).toBe(200);
  });

  it('sets batching and workers, and serving status prints them', async () => {
    const run = await mlserve([
      'serving',
      'config',
      'batched',
      '--batching',
      'on',
      '--max-batch-rows',
      '64',
      '--max-wait-ms',
      '0',
      '--workers',
      '4',
    ]);
    expect([run.code, run.stdout, run.stderr]).toEqual([0, 'Updated the serving configuration of batched.\n', '']);
    expect(await status('batched')).toMatchObject({
      batching: { enabled: true, max_batch_rows: 64, max_wait_ms: 0 },
      workers_per_version: 4,
    });
    const shown = await mlserve(['serving', 'status', 'batched']);
    expect(shown.code).toBe(0);
    expect(lines(shown.stdout).slice(1)).toEqual([
      'compute size: Small',
      'batching: on',
      'max batch rows: 64',
      'max wait ms: 0',
      'workers per version: 4',
    ]);
    const asJson = json(await mlserve(['--json', 'serving', 'status', 'batched']));
    expect(asJson.endpoint_status).toMatchObject({
      batching: { enabled: true, max_batch_rows: 64, max_wait_ms: 0 },
      workers_per_version: 4,
    });
  });

  it('turns batching off, and sends settings back to the host with default and auto', async () => {
    const off = await mlserve(['serving', 'config', 'batched', '--batching', 'off', '--workers', 'auto']);
    expect([off.code, off.stderr]).toEqual([0, '']);
    expect((await mlserve(['serving', 'config', 'batched', '--max-batch-rows', 'default'])).code).toBe(0);
    const now = await status('batched');
    expect(now.batching).toEqual({ enabled: false, max_wait_ms: 0 });
    expect(now).not.toHaveProperty('workers_per_version');
    const shown = await mlserve(['serving', 'status', 'batched']);
    expect(lines(shown.stdout).slice(2)).toEqual([
      'batching: off',
      'max batch rows: default',
      'max wait ms: 0',
      'workers per version: auto',
    ]);
    expect(
      (await mlserve(['serving', 'config', 'batched', '--batching', 'default', '--max-wait-ms', 'default'])).code,
    ).toBe(0);
    expect(await status('batched')).not.toHaveProperty('batching');
  });

  it("exits 1 with the server's message for a value out of range, and 2 for one that is no number", async () => {
    const far = await mlserve(['serving', 'config', 'batched', '--max-wait-ms', '500']);
    expect(far.code).toBe(1);
    expect(far.stderr).toMatch(
      /^error: INVALID_PARAMETER_VALUE: Invalid value 500 for parameter 'batching.max_wait_ms': use a whole number of milliseconds from 0 to 100/,
    );
    const many = await mlserve(['serving', 'config', 'batched', '--workers', '17']);
    expect([many.code, many.stderr]).toEqual([1, expect.stringMatching(/'workers_per_version'.*from 1 to 16/)]);
    const word = await mlserve(['serving', 'config', 'batched', '--workers', 'lots']);
    expect([word.code, word.stderr]).toEqual([
      2,
      expect.stringMatching(/expected a whole number or 'auto', got 'lots'/),
    ]);
    const choice = await mlserve(['serving', 'config', 'batched', '--batching', 'maybe']);
    expect(choice.code).toBe(2);
    const nothing = await mlserve(['serving', 'config', 'batched']);
    expect([nothing.code, nothing.stderr]).toEqual([2, expect.stringMatching(/nothing to change: .*--batching/)]);
  });
});
