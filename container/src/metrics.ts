/**
 * Per-version request metrics: counters and latencies kept in memory for the status
 * document, and written to stdout as CloudWatch embedded-metric-format (EMF) lines.
 */

/** EMF accepts at most 100 values per metric in one line; latencies beyond that are sampled. */
const MAX_VALUES = 100;

export interface MetricsSnapshot {
  readonly requests: number;
  readonly clientErrors: number;
  readonly serverErrors: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
}

export class VersionMetrics {
  private requests = 0;
  private clientErrors = 0;
  private serverErrors = 0;
  /** Latencies since the last EMF flush (a reservoir sample once there are more than MAX_VALUES). */
  private window: number[] = [];
  private windowCount = 0;
  private windowRequests = 0;
  private windowClientErrors = 0;
  private windowServerErrors = 0;
  /** The most recent latencies, for the status document's percentiles. */
  private readonly recent: number[] = [];
  private recentAt = 0;

  record(latencyMs: number, status: number): void {
    this.requests++;
    this.windowRequests++;
    if (status >= 500) {
      this.serverErrors++;
      this.windowServerErrors++;
    } else if (status >= 400) {
      this.clientErrors++;
      this.windowClientErrors++;
    }
    this.windowCount++;
    if (this.window.length < MAX_VALUES) this.window.push(latencyMs);
    else {
      const slot = Math.floor(Math.random() * this.windowCount);
      if (slot < MAX_VALUES) this.window[slot] = latencyMs;
    }
    if (this.recent.length < 1000) this.recent.push(latencyMs);
    else {
      this.recent[this.recentAt] = latencyMs;
      this.recentAt = (this.recentAt + 1) % 1000;
    }
  }

  snapshot(): MetricsSnapshot {
    const sorted = [...this.recent].sort((a, b) => a - b);
    const at = (q: number) =>
      sorted.length > 0 ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : undefined;
    return {
      requests: this.requests,
      clientErrors: this.clientErrors,
      serverErrors: this.serverErrors,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
    };
  }

  /** One EMF line for the requests since the last call, or undefined when there were none. */
  emf(namespace: string, model: string, version: number, now = Date.now()): string | undefined {
    if (this.windowRequests === 0) return undefined;
    const line = {
      _aws: {
        Timestamp: now,
        CloudWatchMetrics: [
          {
            Namespace: namespace,
            Dimensions: [['Model', 'Version']],
            Metrics: [
              { Name: 'Requests', Unit: 'Count' },
              { Name: 'ClientErrors', Unit: 'Count' },
              { Name: 'ServerErrors', Unit: 'Count' },
              { Name: 'Latency', Unit: 'Milliseconds' },
            ],
          },
        ],
      },
      Model: model,
      Version: String(version),
      Requests: this.windowRequests,
      ClientErrors: this.windowClientErrors,
      ServerErrors: this.windowServerErrors,
      Latency: this.window.map((ms) => Math.round(ms * 1000) / 1000),
    };
    this.window = [];
    this.windowCount = 0;
    this.windowRequests = 0;
    this.windowClientErrors = 0;
    this.windowServerErrors = 0;
    return JSON.stringify(line);
  }
}
