/**
 * The benchmark's large-request section: four concurrent 15 MiB ONNX requests to a host sized as
 * a Small task (1 GiB), with single-row requests going on meanwhile: the host's peak RSS, and the
 * small requests' latency beside the same requests on an idle host.
 */
import { IRIS_ROW, largeIrisBody, SMALL_TASK_ENV, startIrisHost } from '../test/helpers/iris-host';
import { request } from '../test/helpers/model-host';

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

export function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

export async function largeRequests(): Promise<void> {
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
