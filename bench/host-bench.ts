/**
 * `npm run bench`: the model host under load, in one run on one machine.
 *
 * - A floor: a bare Node HTTP server (bench/floor-server.ts, its own process) that parses the
 *   JSON body and answers a constant — what any Node JSON server costs at least.
 * - The host (container/src/main.ts, a child process against a real registry) serving MLflow's
 *   iris scikit-learn model (version 1, Python worker pool) and an ONNX model (version 2, native),
 *   once with batching off and once with it on (`MLSERVE_BATCHING`; one host per setting), each
 *   with single-row and 100-row bodies at 1 and at 16 connections.
 *
 * Load comes from autocannon in a process of its own (bench/load-runner.ts), `BENCH_SECONDS`
 * (default 10) per case after a short warm-up. Printed: req/s, p50 and p99 latency, the mean
 * batch (requests per runtime call, from the host's `/status`), the peak RSS of the host and of
 * the version's workers; then the targets, each met or not. Last, the large-request section
 * (bench/large-requests.ts).
 */
import { readFile } from 'node:fs/promises';
import { IRIS_COLUMNS, IRIS_ROW, type IrisHost, startIrisHost } from '../test/helpers/iris-host';
import { request } from '../test/helpers/model-host';
import { largeRequests } from './large-requests';
import { type LoadResult, loadAverage, peakRssMiB, runLoad, startFloorServer } from './load';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Math.max(1, Math.min(2, Math.round(SECONDS / 5)));
const CONNECTIONS = [1, 16] as const;
const ROWS = [1, 100] as const;

type Setting = 'off' | 'on';
type Model = 'sklearn' | 'onnx';

interface Row {
  readonly name: string;
  readonly result: LoadResult;
  /** Mean requests per runtime call in this case; undefined where the host does not report it. */
  readonly batch?: number;
  readonly hostPeakMiB?: number;
  /** The version's worker processes' peaks (none for ONNX, which runs in the host). */
  readonly workerPeaksMiB: readonly number[];
}

interface BatchingStats {
  readonly calls: number;
  readonly requests: number;
  readonly rows: number;
}

interface VersionStatus {
  readonly version: number;
  readonly pids: number[];
  readonly batching?: BatchingStats;
}

const VERSIONS: Record<Model, number> = { sklearn: 1, onnx: 2 };

/** The request body: `dataframe_split` for scikit-learn, `inputs` for ONNX. */
function body(model: Model, rows: number): string {
  const data = Array.from({ length: rows }, () => IRIS_ROW);
  return JSON.stringify(model === 'sklearn' ? { dataframe_split: { columns: IRIS_COLUMNS, data } } : { inputs: data });
}

async function versionStatus(iris: IrisHost, version: number): Promise<VersionStatus | undefined> {
  const status = await iris.status();
  return (status.versions as readonly VersionStatus[]).find((v) => v.version === version);
}

/** Runs every case against one host (one batching setting). */
async function hostCases(setting: Setting): Promise<Row[]> {
  // The registry is read every second, as a serving task does (the test helper's default is 200 ms).
  const iris = await startIrisHost({
    model: 'bench',
    env: { MLSERVE_BATCHING: setting, MLSERVE_POLL_INTERVAL_MS: '1000' },
  });
  const rows: Row[] = [];
  try {
    const settings = ((await iris.status()) as { settings?: { workersPerVersion?: number } }).settings;
    console.error(`host with batching ${setting}: ${settings?.workersPerVersion ?? 1} Python worker(s) per version`);
    for (const model of ['sklearn', 'onnx'] as const) {
      const version = VERSIONS[model];
      const url = iris.url(version);
      for (const count of ROWS) {
        const payload = body(model, count);
        const check = await request(url, { body: payload, contentType: 'application/json' });
        if (check.status !== 200) throw new Error(`${model} ${count} rows: ${check.status} ${check.text}`);
        await runLoad({ url, body: payload, connections: 16, seconds: WARMUP_SECONDS });
        for (const connections of CONNECTIONS) {
          const before = (await versionStatus(iris, version))?.batching;
          const result = await runLoad({ url, body: payload, connections, seconds: SECONDS });
          const after = await versionStatus(iris, version);
          const calls = before && after?.batching ? after.batching.calls - before.calls : 0;
          const requests = before && after?.batching ? after.batching.requests - before.requests : 0;
          const status = await iris.status();
          const workerPeaks = await Promise.all((after?.pids ?? []).map((pid) => peakRssMiB(pid)));
          rows.push({
            name: `${model} ${count} row${count > 1 ? 's' : ''} @${connections}, batching ${setting}`,
            result,
            batch: calls > 0 ? requests / calls : undefined,
            hostPeakMiB: status.process.peakRssBytes / 1024 / 1024,
            workerPeaksMiB: workerPeaks.filter((p): p is number => p !== undefined),
          });
          console.error(`  ${rows.at(-1)?.name}: ${result.rps.toFixed(0)} req/s`);
        }
      }
    }
  } finally {
    await iris.close();
  }
  return rows;
}

async function floorCases(): Promise<Row[]> {
  const floor = await startFloorServer();
  const rows: Row[] = [];
  try {
    const payload = body('onnx', 1);
    await runLoad({ url: floor.url, body: payload, connections: 16, seconds: WARMUP_SECONDS });
    for (const connections of CONNECTIONS) {
      const result = await runLoad({ url: floor.url, body: payload, connections, seconds: SECONDS });
      rows.push({
        name: `floor (bare Node HTTP + JSON.parse) 1 row @${connections}`,
        result,
        hostPeakMiB: await peakRssMiB(floor.pid),
        workerPeaksMiB: [],
      });
      console.error(`  ${rows.at(-1)?.name}: ${result.rps.toFixed(0)} req/s`);
    }
  } finally {
    await floor.stop();
  }
  return rows;
}

const ms = (v: number) => v.toFixed(2);
const mib = (v: number | undefined) => (v === undefined ? 'n/a' : v.toFixed(0));

function printTable(rows: readonly Row[]): void {
  console.log('| case | req/s | p50 ms | p99 ms | mean batch | host peak RSS MiB | worker peak RSS MiB | errors |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    const workers = r.workerPeaksMiB.length > 0 ? r.workerPeaksMiB.map((p) => p.toFixed(0)).join(' + ') : '—';
    const batch = r.batch === undefined ? 'n/a' : r.batch.toFixed(2);
    console.log(
      `| ${r.name} | ${r.result.rps.toFixed(0)} | ${ms(r.result.p50)} | ${ms(r.result.p99)} | ${batch} | ${mib(r.hostPeakMiB)} | ${workers} | ${r.result.errors} |`,
    );
  }
}

function printTargets(rows: readonly Row[]): void {
  const find = (name: string) => {
    const row = rows.find((r) => r.name === name);
    if (!row) throw new Error(`no case ${name}`);
    return row.result;
  };
  const verdict = (met: boolean) => (met ? 'met' : 'NOT MET');
  const sk16 = { off: find('sklearn 1 row @16, batching off'), on: find('sklearn 1 row @16, batching on') };
  const sk1 = { off: find('sklearn 1 row @1, batching off'), on: find('sklearn 1 row @1, batching on') };
  const floor = find('floor (bare Node HTTP + JSON.parse) 1 row @16');
  const onnx = { off: find('onnx 1 row @16, batching off'), on: find('onnx 1 row @16, batching on') };
  const speedup = sk16.on.rps / sk16.off.rps;
  const p50Delta = sk1.on.p50 - sk1.off.p50;
  console.log('\n| target | measured | verdict |');
  console.log('| --- | --- | --- |');
  console.log(
    `| sklearn 1 row @16: req/s batching on / off ≥ 8× | ${speedup.toFixed(1)}× (${sk16.on.rps.toFixed(0)} / ${sk16.off.rps.toFixed(0)}) | ${verdict(speedup >= 8)} |`,
  );
  console.log(
    `| sklearn 1 row @16: p99 batching on ≤ off | ${ms(sk16.on.p99)} ms vs ${ms(sk16.off.p99)} ms | ${verdict(sk16.on.p99 <= sk16.off.p99)} |`,
  );
  console.log(
    `| sklearn 1 row @1: p50 batching on − off ≤ 0.3 ms | ${(p50Delta * 1000).toFixed(0)} µs (${ms(sk1.on.p50)} − ${ms(sk1.off.p50)} ms) | ${verdict(p50Delta <= 0.3)} |`,
  );
  for (const setting of ['on', 'off'] as const) {
    const share = onnx[setting].rps / floor.rps;
    console.log(
      `| onnx 1 row @16, batching ${setting}: ≥ 50 % of the floor's req/s | ${(share * 100).toFixed(0)} % (${onnx[setting].rps.toFixed(0)} / ${floor.rps.toFixed(0)}) | ${verdict(share >= 0.5)} |`,
    );
  }
}

const started = performance.now();
const cpu = (await readFile('/proc/cpuinfo', 'utf8')).match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown CPU';
const loadBefore = await loadAverage();
const rows = [...(await floorCases()), ...(await hostCases('off')), ...(await hostCases('on'))];
console.log(
  `\nmlserve model host benchmark — ${SECONDS} s per case (after ${WARMUP_SECONDS} s of warm-up), ${cpu}, Node ${process.versions.node}; load average ${loadBefore} before, ${await loadAverage()} after`,
);
printTable(rows);
printTargets(rows);
await largeRequests();
console.log(`\nbenchmark took ${((performance.now() - started) / 1000).toFixed(0)} s`);
