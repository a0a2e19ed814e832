/**
 * A fuzz run of the model host: thousands of malformed, odd and oversized scoring requests
 * (test/helpers/fuzz/, from a printed seed; FUZZ_SEED replays one) sent to a real host
 * process serving MLflow's iris scikit-learn model (version 1, through the Python worker) and an
 * ONNX iris model (version 2, native), with the memory settings of a Small task. Every answer
 * must be JSON with MLflow's error shape, never a 5xx other than a counted 503/504; the host and
 * the worker must survive without a restart, the host's memory must come back within a bound,
 * the worker's peak memory must stay within what requests may reserve, and both versions must
 * still predict what they did before. FUZZ_COUNT changes the number of bodies; FUZZ_SAVE_DIR
 * keeps every body that failed a check.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FuzzBody, fuzzBodies, type ModelKind } from '../helpers/fuzz';
import { IRIS_COLUMNS, type IrisHost, SMALL_TASK_ENV, startIrisHost } from '../helpers/iris-host';
import { type HttpAnswer, type RunningHost, request } from '../helpers/model-host';

const MODEL = 'fuzz';
const MiB = 1024 * 1024;
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : (Math.random() * 2 ** 32) >>> 0;
/** Bodies per model kind. */
const COUNT = Number(process.env.FUZZ_COUNT ?? 5000);
const IN_FLIGHT = 8;
/** The test's timeout; sending stops 20 s before it, so what was seen is still reported. */
const RUN_TIMEOUT_MS = 120_000;
/** Optional: a directory where every body that failed a check is written, for replay with curl. */
const SAVE_DIR = process.env.FUZZ_SAVE_DIR;

/**
 * How far the host's RSS may stay above its RSS at the start once the run is over. Measured here
 * (2 cores, seeds 1, 2, 3 and random ones): 143–149 MiB at the start, 386–449 MiB at the end, so
 * 240–305 MiB of growth, which stays put (V8 keeps the old space it grew into for the 1–15 MiB
 * bodies, below the 512 MiB heap cap of a Small task, and glibc keeps freed buffers) and does not
 * grow with the number of bodies: a run of 15,000 per kind ended at the same 404 MiB. 400 MiB
 * leaves room over the worst run seen and keeps the host (≈550 MiB) plus its worker (≈190 MiB)
 * inside the task's 1 GiB; a host that kept its bodies or grew its heap to the cap would go past it.
 */
const RSS_GROWTH_BOUND_BYTES = 400 * MiB;
/** A Small task's memory (MLSERVE_MEMORY_MIB below), and the share of it requests in flight may reserve. */
const TASK_MEMORY_BYTES = 1024 * MiB;
const REQUEST_SHARE = 0.4;

const CHECK_ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [5.9, 3.0, 4.2, 1.5],
  [6.7, 3.0, 5.2, 2.3],
];

interface VersionStatus {
  readonly version: number;
  readonly state: string;
  readonly message: string;
  readonly pids: number[];
}

interface StatusDocument {
  readonly process: { readonly pid: number; readonly rssBytes: number; readonly peakRssBytes: number };
  readonly versions: VersionStatus[];
  /** The memory budget of requests in flight (absent on hosts without memory admission). */
  readonly admission?: { readonly budgetBytes: number };
}

interface Failure {
  readonly index: number;
  readonly kind: ModelKind;
  readonly label: string;
  readonly contentType: string | undefined;
  readonly bodyBytes: number;
  readonly bodyHead: string;
  readonly problem: string;
}

let iris: IrisHost;
let host: RunningHost;

const invocations = (version: 1 | 2) => `${host.url}/model/${MODEL}/${version}/invocations`;

async function status(): Promise<StatusDocument> {
  const answer = await request(`${host.url}/status`, { method: 'GET' });
  if (answer.status !== 200) throw new Error(`status answered ${answer.status}: ${answer.text}`);
  return answer.json as StatusDocument;
}

const version = (doc: StatusDocument, n: number): VersionStatus | undefined =>
  doc.versions.find((v) => v.version === n);

/** The normal requests whose predictions must be the same before and after the run. */
async function checkPredictions(): Promise<{ sklearn: HttpAnswer; onnx: HttpAnswer }> {
  const [sklearn, onnx] = await Promise.all([
    request(invocations(1), {
      body: JSON.stringify({ dataframe_split: { columns: IRIS_COLUMNS, data: CHECK_ROWS } }),
      contentType: 'application/json',
    }),
    request(invocations(2), { body: JSON.stringify({ inputs: CHECK_ROWS }), contentType: 'application/json' }),
  ]);
  return { sklearn, onnx };
}

/** What is wrong with an answer, or undefined when it is fine (503/504 are counted separately). */
function problemWith(answer: HttpAnswer): string | undefined {
  if (answer.json === undefined) return `body is not JSON: ${JSON.stringify(answer.text.slice(0, 300))}`;
  if (answer.status >= 500 && answer.status !== 503 && answer.status !== 504) {
    return `answered ${answer.status}: ${answer.text.slice(0, 500)}`;
  }
  if (answer.status !== 200) {
    const body = answer.json as { error_code?: unknown; message?: unknown } | null;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      return `${answer.status} body is not an object: ${answer.text.slice(0, 300)}`;
    }
    if (typeof body.error_code !== 'string' || typeof body.message !== 'string') {
      return `${answer.status} body lacks string error_code and message: ${answer.text.slice(0, 300)}`;
    }
  }
  return undefined;
}

const head = (body: Buffer) => JSON.stringify(body.subarray(0, 240).toString('latin1'));

beforeAll(async () => {
  // What a Small task gets (1 GiB, half of it for the heap); no metric lines in the output.
  iris = await startIrisHost({ model: MODEL, env: SMALL_TASK_ENV });
  host = iris.host;
}, 60_000);

afterAll(async () => {
  await iris?.close();
});

describe('the model host under fuzzed scoring requests', () => {
  it(
    `answers ${COUNT} fuzzed bodies per model kind with JSON, no 5xx, no crash, and bounded memory`,
    async () => {
      console.log(`fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED}); ${COUNT} bodies per model kind`);
      const started = Date.now();

      const before = await checkPredictions();
      expect(before.sklearn.status, before.sklearn.text).toBe(200);
      expect(before.onnx.status, before.onnx.text).toBe(200);
      expect(before.sklearn.json).toEqual({ predictions: [0, 1, 2] });
      const start = await status();
      const startWorkerPids = version(start, 1)?.pids ?? [];
      expect(startWorkerPids.length, 'version 1 runs a Python worker').toBe(1);
      expect(version(start, 1)?.state).toBe('READY');
      expect(version(start, 2)?.state).toBe('READY');
      const workerStart = await procMemory(startWorkerPids[0]);

      // Watch the host while the run goes: its pid, the worker's pid and state, its RSS.
      const samples: StatusDocument[] = [start];
      let sampling = true;
      const watcher = (async () => {
        while (sampling) {
          await new Promise((r) => setTimeout(r, 1000));
          if (!sampling || host.child.exitCode !== null) break;
          const doc = await status().catch(() => undefined);
          if (doc) samples.push(doc);
        }
      })();

      // Both kinds interleaved, IN_FLIGHT requests at a time.
      const streams: [ModelKind, Iterator<FuzzBody>][] = [
        ['sklearn', fuzzBodies(SEED, 'sklearn', COUNT)],
        ['onnx', fuzzBodies(SEED, 'onnx', COUNT)],
      ];
      let next = 0;
      const take = (): [number, ModelKind, FuzzBody] | undefined => {
        for (let tries = 0; tries < streams.length; tries++) {
          const [kind, stream] = streams[next % streams.length] as [ModelKind, Iterator<FuzzBody>];
          const index = next++;
          const item = stream.next();
          if (!item.done) return [index, kind, item.value];
        }
        return undefined;
      };
      const failures: Failure[] = [];
      const unavailable: string[] = [];
      /** 503/504 answers counted by their message (all of them; the first 50 are printed whole as they come). */
      const unavailableByMessage = new Map<string, number>();
      const counts: Record<ModelKind, Record<number, number>> = { sklearn: {}, onnx: {} };
      const sent: Record<ModelKind, number> = { sklearn: 0, onnx: 0 };
      let maxLatency = { ms: 0, label: '' };
      const large: string[] = [];
      const tooLarge: string[] = [];
      const pinned: Record<ModelKind, string[]> = { sklearn: [], onnx: [] };
      const deep: Record<number, number> = {};
      const fail = async (index: number, kind: ModelKind, fuzz: FuzzBody, problem: string) => {
        failures.push({
          index,
          kind,
          label: fuzz.label,
          contentType: fuzz.contentType,
          bodyBytes: fuzz.body.length,
          bodyHead: head(fuzz.body),
          problem,
        });
        if (SAVE_DIR) {
          await mkdir(SAVE_DIR, { recursive: true });
          await writeFile(path.join(SAVE_DIR, `${index}-${kind}.body`), fuzz.body);
          await writeFile(
            path.join(SAVE_DIR, `${index}-${kind}.json`),
            JSON.stringify({ label: fuzz.label, contentType: fuzz.contentType ?? null, problem }, null, 2),
          );
        }
      };
      const deadline = started + RUN_TIMEOUT_MS - 20_000;
      let outOfTime = false;
      const lane = async () => {
        for (let item = take(); item; item = take()) {
          const [index, kind, fuzz] = item;
          if (host.child.exitCode !== null) return;
          if (Date.now() > deadline) {
            outOfTime = true;
            return;
          }
          sent[kind]++;
          const t0 = performance.now();
          let answer: HttpAnswer;
          try {
            answer = await request(invocations(kind === 'sklearn' ? 1 : 2), {
              body: fuzz.body,
              contentType: fuzz.contentType,
            });
          } catch (error) {
            await fail(index, kind, fuzz, `no answer: ${(error as Error).message}`);
            continue;
          }
          const ms = performance.now() - t0;
          if (ms > maxLatency.ms) maxLatency = { ms, label: `${kind} ${fuzz.label}` };
          counts[kind][answer.status] = (counts[kind][answer.status] ?? 0) + 1;
          if (answer.status === 413 && !fuzz.label.startsWith('large-')) {
            tooLarge.push(`${kind} ${fuzz.label} (${fuzz.body.length} bytes): ${answer.text.slice(0, 300)}`);
          }
          if (fuzz.label.startsWith('large-')) {
            const code = (answer.json as { error_code?: string } | undefined)?.error_code ?? '';
            large.push(
              `${kind} ${fuzz.label} (${fuzz.body.length} bytes): ${answer.status} ${code} in ${ms.toFixed(0)} ms`,
            );
          } else if (fuzz.label.startsWith('pinned-')) {
            pinned[kind].push(`${fuzz.label.slice('pinned-'.length)}=${answer.status}`);
          } else if (/^(deep|limit)-/.test(fuzz.label)) {
            deep[answer.status] = (deep[answer.status] ?? 0) + 1;
          }
          const problem = problemWith(answer);
          if (problem) await fail(index, kind, fuzz, problem);
          if (answer.status === 503 || answer.status === 504) {
            const line = `#${index} ${kind} ${fuzz.label} (${fuzz.body.length} bytes, Content-Type ${fuzz.contentType}): ${answer.status} ${answer.text.slice(0, 400)}`;
            if (unavailable.length < 50) console.log(`unavailable: ${line}`);
            unavailable.push(line);
            const message = `${answer.status} ${(answer.json as { message?: string } | undefined)?.message ?? answer.text.slice(0, 200)}`;
            unavailableByMessage.set(message, (unavailableByMessage.get(message) ?? 0) + 1);
          }
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
      sampling = false;
      await watcher;
      const runMs = Date.now() - started;

      // The host, and what it says about itself after the run.
      const alive = host.child.exitCode === null && host.child.signalCode === null;
      const end = alive ? await status() : undefined;
      if (end) samples.push(end);
      const after = alive ? await checkPredictions() : undefined;
      const events = await iris.env.serving.servingEvents(MODEL, { version: 1, limit: 100 });
      const workerEvents = events.filter((e) => e.type === 'WORKER_EXITED' || e.type === 'WORKER_RESTARTED');
      const peakRss = Math.max(...samples.map((s) => s.process.rssBytes));
      const workerEnd = await procMemory(startWorkerPids[0]);
      // The worker may take what requests in flight may reserve together (the admission budget), no more.
      const requestBudget = start.admission?.budgetBytes ?? REQUEST_SHARE * TASK_MEMORY_BYTES;

      console.log(
        [
          `fuzz run: ${runMs} ms; sent sklearn ${sent.sklearn}, onnx ${sent.onnx}; ${IN_FLIGHT} in flight`,
          `statuses sklearn (v1): ${JSON.stringify(counts.sklearn)}`,
          `statuses onnx (v2): ${JSON.stringify(counts.onnx)}`,
          `pinned cases, sklearn (v1): ${pinned.sklearn.sort().join(' ')}`,
          `pinned cases, onnx (v2): ${pinned.onnx.sort().join(' ')}`,
          `deep bodies (1,000–100,000 levels and 60–66 around the limit), statuses: ${JSON.stringify(deep)}`,
          `large bodies:\n  ${large.join('\n  ')}`,
          `other 413 answers: ${tooLarge.length === 0 ? 'none' : `\n  ${tooLarge.join('\n  ')}`}`,
          `slowest answer: ${maxLatency.ms.toFixed(0)} ms (${maxLatency.label})`,
          `503/504 answers: ${unavailable.length}${[...unavailableByMessage].map(([m, n]) => `\n  ${n} × ${m}`).join('')}`,
          `host RSS: start ${mib(start.process.rssBytes)} MiB, peak sampled ${mib(peakRss)} MiB, end ${end ? mib(end.process.rssBytes) : 'n/a'} MiB (bound: start + ${mib(RSS_GROWTH_BOUND_BYTES)} MiB)`,
          `host peak RSS (maxRSS): ${end ? mib(end.process.peakRssBytes) : 'n/a'} MiB`,
          `worker (v1) RSS: start ${mib(workerStart?.rss)} MiB, end ${mib(workerEnd?.rss)} MiB, peak ${mib(workerEnd?.peak)} MiB (bound: start + ${mib(requestBudget)} MiB)`,
          `failures: ${failures.length}`,
        ].join('\n'),
      );
      // Failures grouped by what went wrong (numbers and \u escapes blurred), a few examples of each.
      const report = (list: Failure[]) => {
        const groups = new Map<string, Failure[]>();
        for (const f of list) {
          const key = f.problem
            .replace(/\\+u[0-9a-fA-F]{4}/g, '\\uXXXX')
            .replace(/\d+/g, 'N')
            .slice(0, 200);
          groups.set(key, [...(groups.get(key) ?? []), f]);
        }
        return [...groups.entries()]
          .map(
            ([key, group]) =>
              `${group.length} × ${key}\n${group
                .slice(0, 3)
                .map(
                  (f) =>
                    `  #${f.index} ${f.kind} [${f.label}] Content-Type ${f.contentType === undefined ? '(none)' : JSON.stringify(f.contentType)}, ${f.bodyBytes} bytes, body starts ${f.bodyHead}\n    -> ${f.problem}`,
                )
                .join('\n')}`,
          )
          .join('\n');
      };

      expect.soft(outOfTime, `the run did not finish within ${RUN_TIMEOUT_MS - 20_000} ms`).toBe(false);
      expect
        .soft(
          alive,
          `the host exited (${host.child.exitCode ?? host.child.signalCode}):\n${host.output().slice(-3000)}`,
        )
        .toBe(true);
      expect.soft(failures.length, `answers that break the contract (seed ${SEED}):\n${report(failures)}`).toBe(0);
      expect
        .soft(
          unavailable.length,
          `503/504 answers (every body here is refusable at once or scorable alone; a retry-safe 503 would mean ` +
            `the host was too busy for ${IN_FLIGHT} clients — each must be explained):\n` +
            [...unavailableByMessage].map(([m, n]) => `${n} × ${m}`).join('\n') +
            `\nthe first of them:\n${unavailable.slice(0, 20).join('\n')}`,
        )
        .toBe(0);
      expect.soft(sent.sklearn + sent.onnx).toBe(2 * COUNT);

      // Every status sample (one a second, and the ones before and after): one host, one worker, both READY.
      const seen = (pick: (s: StatusDocument) => unknown) => [...new Set(samples.map((s) => JSON.stringify(pick(s))))];
      expect
        .soft(
          seen((s) => s.process.pid),
          'the host process was replaced',
        )
        .toEqual([String(start.process.pid)]);
      expect
        .soft(
          seen((s) => version(s, 1)?.pids),
          'the Python worker of version 1 was replaced',
        )
        .toEqual([JSON.stringify(startWorkerPids)]);
      expect
        .soft(
          seen((s) => [version(s, 1)?.state, version(s, 1)?.message]),
          'version 1 left READY',
        )
        .toEqual([JSON.stringify(['READY', ''])]);
      expect
        .soft(
          seen((s) => [version(s, 2)?.state, version(s, 2)?.message]),
          'version 2 left READY',
        )
        .toEqual([JSON.stringify(['READY', ''])]);
      const workerLines = host
        .output()
        .split('\n')
        .filter((line) => line.includes('"message":"worker"'))
        .slice(-15)
        .map((line) => line.slice(0, 400));
      expect
        .soft(
          workerEvents.map((e) => `${e.type}: ${e.message}`),
          `worker restarts; the worker's last lines:\n${workerLines.join('\n')}`,
        )
        .toEqual([]);
      if (end) {
        expect
          .soft(
            end.process.rssBytes,
            `host RSS grew from ${mib(start.process.rssBytes)} to ${mib(end.process.rssBytes)} MiB`,
          )
          .toBeLessThanOrEqual(start.process.rssBytes + RSS_GROWTH_BOUND_BYTES);
      }
      if (workerStart && workerEnd) {
        expect
          .soft(
            workerEnd.peak,
            `the Python worker of version 1 peaked at ${mib(workerEnd.peak)} MiB (from ${mib(workerStart.rss)} MiB), more ` +
              `than the ${mib(requestBudget)} MiB all requests in flight may reserve in a ${mib(TASK_MEMORY_BYTES)} MiB task`,
          )
          .toBeLessThanOrEqual(workerStart.rss + requestBudget);
      }
      expect.soft(after?.sklearn.status, after?.sklearn.text).toBe(200);
      expect.soft(after?.sklearn.json).toEqual(before.sklearn.json);
      expect.soft(after?.onnx.status, after?.onnx.text).toBe(200);
      expect.soft(after?.onnx.json).toEqual(before.onnx.json);
    },
    RUN_TIMEOUT_MS,
  );
});

function mib(bytes: number | undefined): string {
  return bytes === undefined ? 'n/a' : (bytes / MiB).toFixed(0);
}

/** A process's resident memory now and at its peak (Linux /proc), in bytes. */
async function procMemory(pid: number | undefined): Promise<{ rss: number; peak: number } | undefined> {
  if (pid === undefined) return undefined;
  try {
    const text = await readFile(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? Number.NaN) * 1024;
    return { rss: kib('VmRSS'), peak: kib('VmHWM') };
  } catch {
    return undefined;
  }
}
