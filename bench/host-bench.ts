/**
 * `npm run bench`: the model host under load. Starts a registry (dynalite), registers MLflow's
 * iris scikit-learn model and an ONNX model as two versions, runs the host as a child
 * process, and drives load from a separate process (autocannon) for single-row and 100-row
 * requests. Prints req/s, p50 and p99 latency per case, and the host's and workers' peak RSS.
 */
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { request, startModelHost } from '../test/helpers/model-host';
import { buildOnnx } from '../test/helpers/models';
import { IRIS_MODEL, REPO_ROOT } from '../test/helpers/paths';
import { startRegistryEnv } from '../test/helpers/registry-env';

const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const COLUMNS = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const ROW = [5.1, 3.5, 1.4, 0.2];

interface Result {
  readonly case: string;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

/** Runs autocannon in its own process (so load generation does not share the host's CPU accounting). */
function autocannon(url: string, body: string): Promise<{ rps: number; p50: number; p99: number; errors: number }> {
  const args = [
    path.join(REPO_ROOT, 'node_modules/autocannon/autocannon.js'),
    '--json',
    '-c',
    String(CONNECTIONS),
    '-d',
    String(DURATION_SECONDS),
    '-m',
    'POST',
    '-H',
    'Content-Type=application/json',
    '-b',
    body,
    url,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), (DURATION_SECONDS + 30) * 1000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`autocannon exited ${code}: ${err}`));
      const r = JSON.parse(out) as {
        requests: { average: number };
        latency: { p50: number; p99: number };
        errors: number;
        non2xx: number;
      };
      resolve({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx });
    });
  });
}

async function peakRssKiB(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

const env = await startRegistryEnv();
const cache = await mkdtemp(path.join(tmpdir(), 'mlserve-bench-'));
try {
  await env.registry.createRegisteredModel({ name: 'bench' });
  const sklearnDir = path.join(env.artifacts.dir, 'iris-sklearn');
  await cp(IRIS_MODEL, sklearnDir, { recursive: true });
  const onnxDir = path.join(env.artifacts.dir, 'iris-onnx');
  buildOnnx('iris-linear', onnxDir);
  for (const dir of [sklearnDir, onnxDir]) {
    const v = await env.registry.createModelVersion({ name: 'bench', source: pathToFileURL(dir).href });
    await env.ready('bench', v.version);
  }
  const host = await startModelHost({
    modelName: 'bench',
    tableName: env.tableName,
    dynamoEndpoint: env.dynamo.endpoint,
    sourceRoots: env.artifacts.uri,
    artifactCache: cache,
    env: { MLSERVE_METRICS_INTERVAL_MS: '0' },
  });
  try {
    await host.healthy(60_000);
    const body = (rows: number) =>
      JSON.stringify({ dataframe_split: { columns: COLUMNS, data: Array.from({ length: rows }, () => ROW) } });
    const onnxBody = (rows: number) => JSON.stringify({ inputs: Array.from({ length: rows }, () => ROW) });
    const cases: [string, string, string][] = [
      ['sklearn (pyfunc worker), 1 row', `${host.url}/model/bench/1/invocations`, body(1)],
      ['sklearn (pyfunc worker), 100 rows', `${host.url}/model/bench/1/invocations`, body(100)],
      ['onnx (native), 1 row', `${host.url}/model/bench/2/invocations`, onnxBody(1)],
      ['onnx (native), 100 rows', `${host.url}/model/bench/2/invocations`, onnxBody(100)],
    ];
    const results: Result[] = [];
    for (const [name, url, payload] of cases) {
      const check = await request(url, { body: payload, contentType: 'application/json' });
      if (check.status !== 200) throw new Error(`${name}: ${check.status} ${check.text}`);
      results.push({ case: name, ...(await autocannon(url, payload)) });
    }
    const status = (await request(`${host.url}/status`, { method: 'GET' })).json as {
      process: { peakRssBytes: number };
      versions: { version: number; pids: number[] }[];
    };
    const workerPeaks = await Promise.all(
      status.versions.flatMap((v) => v.pids.map(async (pid) => [v.version, await peakRssKiB(pid)] as const)),
    );

    const cpu = (await readFile('/proc/cpuinfo', 'utf8')).match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown CPU';
    console.log(`\nmlserve model host benchmark — ${CONNECTIONS} connections, ${DURATION_SECONDS} s per case, ${cpu}`);
    console.log('| case | req/s | p50 ms | p99 ms | errors |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const r of results) {
      console.log(`| ${r.case} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.errors} |`);
    }
    console.log(`\nhost peak RSS: ${(status.process.peakRssBytes / 1024 / 1024).toFixed(1)} MiB`);
    for (const [version, kib] of workerPeaks) {
      console.log(
        `worker (version ${version}) peak RSS: ${kib === undefined ? 'n/a' : `${(kib / 1024).toFixed(1)} MiB`}`,
      );
    }
  } finally {
    await host.stop();
  }
} finally {
  await env.close();
  await rm(cache, { recursive: true, force: true });
}
