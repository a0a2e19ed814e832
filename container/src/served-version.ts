/**
 * One version as the host serves it: its runtime, its serving state, its metrics, and the
 * queue every request for it goes through (where concurrent requests are coalesced into one
 * runtime call: request-queue.ts). The host manages its state; the data plane scores with what
 * it carries. Requests are counted from the moment they are routed here, so that unloading the
 * version can wait for every one of them.
 */
import type { ModelVersion, VersionServingState } from '../../core/registry/model';
import { type BatchingSettings, DEFAULT_BATCHING } from './batching';
import type { FeatureLookups } from './features/feature-lookups';
import { VersionMetrics } from './metrics';
import { RequestQueue } from './request-queue';
import type { ModelRuntime, Prediction } from './runtimes/runtime';
import type { ScoringRequest } from './scoring/input';

export class ServedVersion {
  state: VersionServingState = 'LOADING';
  message = '';
  flavor?: string;
  /** The MLflow version that saved the model, which decides ambiguous response shapes. */
  mlflowVersion?: string;
  loadedAt?: number;
  runtime?: ModelRuntime;
  /** The version's feature lookups, when its artifact has a feature spec. */
  features?: FeatureLookups;
  readonly metrics = new VersionMetrics();
  /** Load attempts that failed in a row, for retry backoff. */
  failures = 0;
  retryAt?: number;
  readonly queue: RequestQueue;
  /** Requests routed to this version and not yet answered (feature lookups, queue, runtime). */
  private active = 0;
  private idle: (() => void)[] = [];

  constructor(
    readonly modelName: string,
    readonly version: number,
    batching: () => BatchingSettings = () => DEFAULT_BATCHING,
    onUnbatched: (reason: string) => void = () => {},
  ) {
    this.queue = new RequestQueue(() => this.runtime, batching, onUnbatched);
  }

  /** Queues a request for this version's runtime. */
  submit(request: ScoringRequest): Promise<Prediction> {
    return this.queue.submit(request);
  }

  /** Requests queued or running now. */
  get load(): number {
    return this.queue.size;
  }

  /** Counts a request routed to this version until `end()`; unloading waits for it. */
  begin(): void {
    this.active++;
  }

  end(): void {
    this.active--;
    if (this.active === 0) for (const wake of this.idle.splice(0)) wake();
  }

  /** The version's entry in the host's status document; `registered` is the version as the registry says now. */
  status(registered: ModelVersion | undefined): Record<string, unknown> {
    return {
      version: this.version,
      stage: registered?.currentStage,
      aliases: registered?.aliases ?? [],
      state: this.state,
      message: this.message,
      flavor: this.flavor,
      loadedAt: this.loadedAt,
      pids: this.runtime?.pids() ?? [],
      metrics: this.metrics.snapshot(),
      // Runtime calls and the requests and rows they carried: requests / calls is the mean batch size.
      batching: this.queue.snapshot(),
    };
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
}
