/**
 * The queue every request for one version goes through. A request that finds the runtime free
 * goes at once (unless the version asks to wait a few ms for others); requests that wait while
 * the runtime is busy are coalesced, when compatible, into one runtime call whose predictions
 * are split back to each request by its rows (see batching.ts).
 *
 * Rules that keep it correct: a batch whose call fails with anything but a retryable 503 (a
 * worker that died) is re-run request by request, so only a bad request gets its error; the
 * first batched calls are checked against the same requests run alone; and a version whose
 * predictions are not row-aligned, or differ when batched, is served one request per call from
 * then on (logged once).
 */
import { type BatchingSettings, batchKey, inputRows, mergeInputs, samePredictions, splitPredictions } from './batching';
import { RuntimeUnavailableError } from './errors';
import type { ModelRuntime, Prediction } from './runtimes/runtime';
import type { Json, ScoringRequest } from './scoring/input';

interface Pending {
  readonly request: ScoringRequest;
  readonly key: string | undefined;
  readonly rows: number;
  readonly queuedAt: number;
  readonly resolve: (p: Prediction) => void;
  readonly reject: (e: unknown) => void;
}

/** How many requests may be in flight at a runtime when batching is off (the worker queues the rest). */
const UNBATCHED_IN_FLIGHT = 64;
/** Batched calls checked against the same requests run alone before batching is trusted. */
const VERIFIED_CALLS = 2;
/** How far down the queue a batch looks for requests that can join it. */
const SCAN_LIMIT = 4096;

export interface QueueStats {
  /** Runtime calls made, and the requests and rows they carried. */
  readonly calls: number;
  readonly requests: number;
  readonly rows: number;
  /** Whether requests may share calls now (off when configured so, or when the version's output is not row-aligned). */
  readonly batching: boolean;
  /** Why batching was turned off for this version, when it was. */
  readonly unbatchedBecause?: string;
}

export class RequestQueue {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private waitTimer?: NodeJS.Timeout;
  private unbatchedBecause?: string;
  private verifiedCalls = 0;
  private stats = { calls: 0, requests: 0, rows: 0 };

  constructor(
    private readonly runtime: () => ModelRuntime | undefined,
    private readonly settings: () => BatchingSettings,
    private readonly onUnbatched: (reason: string) => void = () => {},
  ) {}

  submit(request: ScoringRequest): Promise<Prediction> {
    return new Promise<Prediction>((resolve, reject) => {
      this.queue.push({
        request,
        key: batchKey(request),
        rows: inputRows(request.input),
        queuedAt: performance.now(),
        resolve,
        reject,
      });
      this.drain();
    });
  }

  /** Requests queued or running now. */
  get size(): number {
    return this.queue.length + this.inFlight;
  }

  snapshot(): QueueStats {
    return {
      ...this.stats,
      batching: this.batching(),
      ...(this.unbatchedBecause ? { unbatchedBecause: this.unbatchedBecause } : {}),
    };
  }

  private batching(): boolean {
    return this.settings().enabled && this.unbatchedBecause === undefined;
  }

  private drain(): void {
    const runtime = this.runtime();
    const batching = this.batching();
    const capacity = batching ? Math.max(1, runtime?.concurrency() ?? 1) : UNBATCHED_IN_FLIGHT;
    while (this.inFlight < capacity && this.queue.length > 0) {
      if (!runtime) {
        for (const p of this.queue.splice(0)) p.reject(new RuntimeUnavailableError('the version has no runtime'));
        return;
      }
      if (batching && this.shouldWait()) return;
      const batch = batching ? this.takeBatch() : [this.queue.shift() as Pending];
      this.inFlight++;
      void this.run(runtime, batch).finally(() => {
        this.inFlight--;
        this.drain();
      });
    }
  }

  /** With a wait configured, the oldest request waits up to it for others to join (unless the batch is full). */
  private shouldWait(): boolean {
    const { maxWaitMs, maxBatchRows } = this.settings();
    const oldest = this.queue[0];
    if (maxWaitMs <= 0 || !oldest || oldest.key === undefined) return false;
    const rows = this.queue.reduce((n, p) => (p.key === oldest.key ? n + p.rows : n), 0);
    const waited = performance.now() - oldest.queuedAt;
    if (rows >= maxBatchRows || waited >= maxWaitMs) return false;
    if (!this.waitTimer) {
      this.waitTimer = setTimeout(() => {
        this.waitTimer = undefined;
        this.drain();
      }, maxWaitMs - waited);
    }
    return true;
  }

  /** The oldest request and every later one with its key, while their rows fit in one call. */
  private takeBatch(): Pending[] {
    const first = this.queue.shift() as Pending;
    if (first.key === undefined) return [first];
    const limit = this.settings().maxBatchRows;
    const batch = [first];
    let rows = first.rows;
    for (let i = 0; i < this.queue.length && i < SCAN_LIMIT && rows < limit; ) {
      const next = this.queue[i] as Pending;
      if (next.key === first.key && rows + next.rows <= limit) {
        batch.push(next);
        rows += next.rows;
        this.queue.splice(i, 1);
      } else {
        i++;
      }
    }
    return batch;
  }

  private count(requests: number, rows: number): void {
    this.stats = {
      calls: this.stats.calls + 1,
      requests: this.stats.requests + requests,
      rows: this.stats.rows + rows,
    };
  }

  private async run(runtime: ModelRuntime, batch: Pending[]): Promise<void> {
    if (batch.length === 1) {
      const only = batch[0] as Pending;
      this.count(1, only.rows);
      await runtime.predict(only.request.input, only.request.params).then(only.resolve, only.reject);
      return;
    }
    const rows = batch.map((p) => p.rows);
    this.count(
      batch.length,
      rows.reduce((a, b) => a + b, 0),
    );
    let merged: Prediction;
    try {
      merged = await runtime.predict(mergeInputs(batch.map((p) => p.request.input)), batch[0]?.request.params);
    } catch (error) {
      // A worker that died fails the calls it had; anything else may be one request's fault.
      if (error instanceof RuntimeUnavailableError) {
        for (const p of batch) p.reject(error);
        return;
      }
      await this.runAlone(runtime, batch);
      return;
    }
    const parts = splitPredictions(merged.predictions, rows);
    if (!parts) {
      this.stopBatching('its predictions do not have one entry per input row');
      await this.runAlone(runtime, batch);
      return;
    }
    if (this.verifiedCalls < VERIFIED_CALLS) {
      await this.verify(runtime, batch, parts);
      return;
    }
    batch.forEach((p, i) => {
      p.resolve({ predictions: parts[i] as Json });
    });
  }

  /** Answers each request of the batch from its own call. */
  private async runAlone(runtime: ModelRuntime, batch: readonly Pending[]): Promise<void> {
    await Promise.all(
      batch.map((p) => {
        this.count(1, p.rows);
        return runtime.predict(p.request.input, p.request.params).then(p.resolve, p.reject);
      }),
    );
  }

  /** Runs the batch's requests alone too, answers from those, and trusts batching only if they agree. */
  private async verify(runtime: ModelRuntime, batch: readonly Pending[], parts: readonly Json[]): Promise<void> {
    const alone = await Promise.allSettled(batch.map((p) => runtime.predict(p.request.input, p.request.params)));
    let agree = true;
    alone.forEach((result, i) => {
      const p = batch[i] as Pending;
      if (result.status === 'rejected') {
        agree = false;
        p.reject(result.reason);
        return;
      }
      if (!samePredictions(result.value.predictions, parts[i] as Json)) agree = false;
      p.resolve(result.value);
    });
    if (agree) this.verifiedCalls++;
    else this.stopBatching('its predictions differ when requests are batched');
  }

  private stopBatching(reason: string): void {
    if (this.unbatchedBecause !== undefined) return;
    this.unbatchedBecause = reason;
    this.onUnbatched(reason);
  }
}
