/**
 * One load run, in its own process (started by bench/load.ts): autocannon with the given
 * connections and duration, keeping every 2xx answer's latency so that percentiles are exact to
 * the microsecond (autocannon's own histogram counts whole milliseconds). Prints one JSON line.
 */
import autocannon from 'autocannon';

interface RunSpec {
  readonly url: string;
  readonly body: string;
  readonly connections: number;
  readonly seconds: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as RunSpec;
let latencies = new Float64Array(1 << 16);
let answered = 0;

const instance = autocannon({
  url: spec.url,
  connections: spec.connections,
  duration: spec.seconds,
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: spec.body,
  timeout: 30,
});
instance.on('response', (_client, status, _bytes, ms) => {
  if (status < 200 || status > 299) return;
  if (answered === latencies.length) {
    const grown = new Float64Array(latencies.length * 2);
    grown.set(latencies);
    latencies = grown;
  }
  latencies[answered++] = ms;
});
const result = await instance;
const sorted = latencies.subarray(0, answered).sort();
const at = (q: number) => (answered > 0 ? (sorted[Math.min(answered - 1, Math.floor(q * answered))] as number) : 0);
let sum = 0;
for (let i = 0; i < answered; i++) sum += sorted[i] as number;
process.stdout.write(
  `${JSON.stringify({
    rps: answered / result.duration,
    p50: at(0.5),
    p99: at(0.99),
    mean: answered > 0 ? sum / answered : 0,
    answered,
    errors: result.errors + result.non2xx,
    seconds: result.duration,
  })}\n`,
);
