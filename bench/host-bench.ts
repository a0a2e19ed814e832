/**
 * `npm run bench`: the model host under load. Starts a registry (dynalite), registers MLflow's
 * iris scikit-learn model and an ONNX model as two versions, runs the host as a child
 * process, and drives load from a separate process (autocannon) for single-row and 100-row
 * requests. Prints req/s, p50 and p99 latency per case, and the host's and workers' peak RSS.
 * Then, on a host sized as a Small task, four concurrent 15 MiB requests with single-row requests
 * meanwhile: the host's peak RSS and the small requests' p99 beside an idle host's.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { IRIS_COLUMNS, IRIS_ROW, largeIrisBody, SMALL_TASK_ENV, startIrisHost } from '../test/helpers/iris-host';
import { request } from '../test/helpers/model-host';
import { REPO_ROOT } from '../test/helpers/paths';

const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);

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

/** Small requests one after another (the next 5 ms after an answer) until `until` settles; their latencies. */
async function smallRequests(url: string, body: string, until: Promise<unknown>): Promise<number[]> {
  let done = false;
  void until.finally(() => {
    done = true;
  });
  const latencies: number[] = [];
  while (!done) {
    const started = performance.now();
    const answer = await request(url, { body, contentType: 'application/json' });
    if (answer.status !== 200) throw new Error(`small request: ${answer.status} ${answer.text}`);
    latencies.push(performance.now() - started);
    await new Promise((r) => setTimeout(r, 5));
  }
  return latencies;
}

function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/**
 * Four concurrent 15 MiB ONNX requests to a host sized as a Small task (1 GiB), with single-row
 * requests going on meanwhile: the host's peak RSS, and the small requests' latency beside the
 * same requests on an idle host.
 */
async function largeRequests(): Promise<void> {
  const iris = await startIrisHost({ env: SMALL_TASK_ENV });
  try {
    const small = JSON.stringify({ inputs: [IRIS_ROW] });
    const idle = await smallRequests(iris.url(2), small, new Promise((r) => setTimeout(r, 2000)));
    const big = largeIrisBody(15 * 1024 * 1024, 'inputs');
    const started = performance.now();
    const large = Promise.all(
      Array.from({ length: 4 }, () => request(iris.url(2), { body: big, contentType: 'application/json' })),
    );
    const meanwhile = await smallRequests(iris.url(2), small, large);
    const answers = await large;
    const seconds = (performance.now() - started) / 1000;
    const status = await iris.status();
    console.log(
      `\nlarge requests — 4 concurrent 15 MiB ONNX requests (${answers.map((a) => a.status).join(', ')}) on a Small task (1 GiB, budget ${((status.admission?.budgetBytes ?? 0) / 1024 / 1024).toFixed(0)} MiB), ${seconds.toFixed(1)} s`,
    );
    console.log(`host peak RSS: ${(status.process.peakRssBytes / 1024 / 1024).toFixed(0)} MiB (limit 1024 MiB)`);
    console.log('| single-row requests | n | p50 ms | p99 ms | max ms |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const [name, values] of [
      ['idle host', idle],
      ['during the large requests', meanwhile],
    ] as const) {
      console.log(
        `| ${name} | ${values.length} | ${percentile(values, 0.5).toFixed(1)} | ${percentile(values, 0.99).toFixed(1)} | ${Math.max(...values).toFixed(1)} |`,
      );
    }
    console.log(`p99 during / idle: ${(percentile(meanwhile, 0.99) / percentile(idle, 0.99)).toFixed(1)}x`);
  } finally {
    await iris.close();
  }
}

const iris = await startIrisHost({ model: 'bench' });
try {
  const body = (rows: number) =>
    JSON.stringify({ dataframe_split: { columns: IRIS_COLUMNS, data: Array.from({ length: rows }, () => IRIS_ROW) } });
  const onnxBody = (rows: number) => JSON.stringify({ inputs: Array.from({ length: rows }, () => IRIS_ROW) });
  const cases: [string, string, string][] = [
    ['sklearn (pyfunc worker), 1 row', iris.url(1), body(1)],
    ['sklearn (pyfunc worker), 100 rows', iris.url(1), body(100)],
    ['onnx (native), 1 row', iris.url(2), onnxBody(1)],
    ['onnx (native), 100 rows', iris.url(2), onnxBody(100)],
  ];
  const results: Result[] = [];
  for (const [name, url, payload] of cases) {
    const check = await request(url, { body: payload, contentType: 'application/json' });
    if (check.status !== 200) throw new Error(`${name}: ${check.status} ${check.text}`);
    results.push({ case: name, ...(await autocannon(url, payload)) });
  }
  const status = await iris.status();
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
  await iris.close();
}
await largeRequests();
