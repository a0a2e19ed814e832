/**
 * A pool of Python workers for one version: each call goes to the ready worker with the fewest
 * calls outstanding, so a crash of one worker leaves the others serving while it restarts. The
 * pool can grow or shrink while it serves; a worker leaving it finishes its calls first.
 */
import { RuntimeUnavailableError } from '../errors';
import type { Json, ScoringInput } from '../scoring/input';
import {
  PYTHON_MEMORY_PER_BODY_BYTE,
  PyfuncRuntime,
  type PyfuncRuntimeOptions,
  type WorkerEvent,
} from './pyfunc-worker';
import type { LoadSpec, ModelRuntime, Prediction } from './runtime';

/** How often a shrinking pool checks whether a leaving worker has finished its calls. */
const RETIRE_POLL_MS = 50;

export class PyfuncPool implements ModelRuntime {
  readonly flavor = 'python_function';
  readonly memoryPerBodyByte = PYTHON_MEMORY_PER_BODY_BYTE;
  private workers: PyfuncRuntime[] = [];
  private loaded = false;
  private resizing: Promise<void> = Promise.resolve();

  constructor(
    private readonly spec: LoadSpec,
    private size: number,
    private readonly options: PyfuncRuntimeOptions = {},
  ) {}

  /** Starts the first worker, then the others at once: a model that cannot load fails fast, once. */
  async load(): Promise<void> {
    const first = this.worker(0);
    this.workers = [first];
    await first.load();
    const others = Array.from({ length: this.size - 1 }, (_, i) => this.worker(i + 1));
    this.workers.push(...others);
    const results = await Promise.allSettled(others.map((w) => w.load()));
    const failed = results.findIndex((r) => r.status === 'rejected');
    if (failed >= 0) {
      await this.unload();
      throw (results[failed] as PromiseRejectedResult).reason;
    }
    this.loaded = true;
  }

  predict(input: ScoringInput, params?: { readonly [key: string]: Json }): Promise<Prediction> {
    let best: PyfuncRuntime | undefined;
    for (const worker of this.workers) {
      if (worker.ready() && (!best || worker.outstanding < best.outstanding)) best = worker;
    }
    if (!best) {
      return Promise.reject(
        new RuntimeUnavailableError(
          `every worker for ${this.spec.modelName} version ${this.spec.version} is restarting; retry the request`,
        ),
      );
    }
    return best.predict(input, params);
  }

  async unload(): Promise<void> {
    this.loaded = false;
    const workers = this.workers;
    this.workers = [];
    await Promise.all(workers.map((w) => w.unload()));
  }

  ready(): boolean {
    return this.workers.some((w) => w.ready());
  }

  concurrency(): number {
    return this.workers.reduce((n, w) => n + w.concurrency(), 0);
  }

  pids(): number[] {
    return this.workers.flatMap((w) => w.pids());
  }

  /** How many workers the pool is meant to have. */
  get workerCount(): number {
    return this.size;
  }

  /**
   * Grows or shrinks the pool to `size` workers while it serves: new workers start beside the
   * others; leaving ones take no new calls and stop once theirs are answered.
   */
  resize(size: number): Promise<void> {
    this.resizing = this.resizing.then(async () => {
      if (!this.loaded || size === this.size) {
        this.size = size;
        return;
      }
      const previous = this.size;
      this.size = size;
      if (size > previous) {
        const added = Array.from({ length: size - previous }, (_, i) => this.worker(previous + i));
        await Promise.all(
          added.map(async (w) => {
            await w.load();
            if (this.loaded) this.workers.push(w);
            else await w.unload();
          }),
        );
        return;
      }
      const leaving = this.workers.slice(size);
      this.workers = this.workers.slice(0, size);
      await Promise.all(
        leaving.map(async (w) => {
          while (w.outstanding > 0) await new Promise((r) => setTimeout(r, RETIRE_POLL_MS));
          await w.unload();
        }),
      );
    });
    return this.resizing;
  }

  private worker(index: number): PyfuncRuntime {
    const onEvent = this.options.onEvent;
    return new PyfuncRuntime(this.spec, {
      ...this.options,
      onEvent:
        onEvent && ((event: WorkerEvent) => onEvent({ ...event, message: `[worker ${index + 1}] ${event.message}` })),
    });
  }
}
