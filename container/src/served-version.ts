/**
 * One version as the host serves it: its runtime, its serving state, its metrics, and the
 * queue every request for it goes through. The queue is where concurrent requests for one
 * version can later be coalesced into one runtime call; today each runs as its own call,
 * with at most `maxInFlight` outstanding at the runtime. Requests are counted from the moment
 * they are routed here, so that unloading the version can wait for every one of them.
 */
import type { VersionServingState } from '../../core/registry/model';
import type { FeatureLookups } from './features/feature-lookups';
import { VersionMetrics } from './metrics';
import type { ModelRuntime, Prediction } from './runtimes/runtime';
import type { ScoringRequest } from './scoring/input';

interface Pending {
  readonly request: ScoringRequest;
  readonly resolve: (p: Prediction) => void;
  readonly reject: (e: unknown) => void;
}

export class ServedVersion {
  state: VersionServingState = 'LOADING';
  message = '';
  flavor?: string;
  loadedAt?: number;
  runtime?: ModelRuntime;
  /** The version's feature lookups, when its artifact has a feature spec. */
  features?: FeatureLookups;
  readonly metrics = new VersionMetrics();
  /** Load attempts that failed in a row, for retry backoff. */
  failures = 0;
  retryAt?: number;
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  /** Requests routed to this version and not yet answered (feature lookups, queue, runtime). */
  private active = 0;
  private idle: (() => void)[] = [];

  constructor(
    readonly version: number,
    private readonly maxInFlight = 64,
  ) {}

  /** Queues a request for this version's runtime. */
  submit(request: ScoringRequest): Promise<Prediction> {
    return new Promise<Prediction>((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.drain();
    });
  }

  /** Requests queued or running now. */
  get load(): number {
    return this.queue.length + this.inFlight;
  }

  /** Counts a request routed to this version until `end()`; unloading waits for it. */
  begin(): void {
    this.active++;
  }

  end(): void {
    this.active--;
    if (this.active === 0) for (const wake of this.idle.splice(0)) wake();
  }

  /** Resolves once no request routed here is unanswered, or after `timeoutMs`; true when drained. */
  drained(timeoutMs: number): Promise<boolean> {
    if (this.active === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.idle = this.idle.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idle.push(wake);
    });
  }

  private drain(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const next = this.queue.shift() as Pending;
      const runtime = this.runtime;
      if (!runtime) {
        next.reject(new Error(`version ${this.version} has no runtime`));
        continue;
      }
      this.inFlight++;
      runtime
        .predict(next.request.input, next.request.params)
        .then(next.resolve, next.reject)
        .finally(() => {
          this.inFlight--;
          this.drain();
        });
    }
  }
}
