/**
 * Per-version request metrics: counters and latencies kept in memory for the status
 * document, and written to stdout as CloudWatch embedded-metric-format (EMF) lines. A
 * version with a feature spec also gets its lookups' latency, keys and misses.
 */

/** EMF accepts at most 100 values per metric in one line; latencies beyond that are sampled. */
const MAX_VALUES = 100;
/** How many recent latencies the status document's percentiles are computed over. */
const RECENT = 1000;

export interface FeatureLookupSnapshot {
  /** Requests whose features were looked up (successfully or not). */
  readonly requests: number;
  /** Requests whose lookups failed (a store error or timeout: 503). */
  readonly failures: number;
  /** Distinct keys looked up, and how many of them the stores did not have. */
  readonly keys: number;
  readonly misses: number;
  /** Keys answered from the per-lookup cache. */
  readonly cacheHits: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
}

export interface MetricsSnapshot {
  readonly requests: number;
  readonly clientErrors: number;
  readonly serverErrors: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly featureLookups?: FeatureLookupSnapshot;
}

/** Latencies: a reservoir sample since the last EMF flush, and the most recent ones for percentiles. */
class Latencies {
  window: number[] = [];
  private windowCount = 0;
  private readonly recent: number[] = [];
  private recentAt = 0;

  add(ms: number): void {
    this.windowCount++;
    if (this.window.length < MAX_VALUES) this.window.push(ms);
    else {
      const slot = Math.floor(Math.random() * this.windowCount);
      if (slot < MAX_VALUES) this.window[slot] = ms;
    }
    if (this.recent.length < RECENT) this.recent.push(ms);
    else {
      this.recent[this.recentAt] = ms;
      this.recentAt = (this.recentAt + 1) % RECENT;
    }
  }

  percentiles(): { p50Ms?: number; p99Ms?: number } {
    const sorted = [...this.recent].sort((a, b) => a - b);
    const at = (q: number) =>
      sorted.length > 0 ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : undefined;
    return { p50Ms: at(0.5), p99Ms: at(0.99) };
  }

  /** The window's values, rounded to µs, and a fresh window. */
  take(): number[] {
    const values = this.window.map((ms) => Math.round(ms * 1000) / 1000);
    this.window = [];
    this.windowCount = 0;
    return values;
  }
}

interface Counts {
  requests: number;
  clientErrors: number;
  serverErrors: number;
  lookups: number;
  lookupFailures: number;
  lookupKeys: number;
  lookupMisses: number;
  lookupCacheHits: number;
}

const zero = (): Counts => ({
  requests: 0,
  clientErrors: 0,
  serverErrors: 0,
  lookups: 0,
  lookupFailures: 0,
  lookupKeys: 0,
  lookupMisses: 0,
  lookupCacheHits: 0,
});

export class VersionMetrics {
  private readonly total = zero();
  private window = zero();
  private readonly latency = new Latencies();
  private readonly lookupLatency = new Latencies();

  private count(key: keyof Counts, by = 1): void {
    this.total[key] += by;
    this.window[key] += by;
  }

  record(latencyMs: number, status: number): void {
    this.count('requests');
    if (status >= 500) this.count('serverErrors');
    else if (status >= 400) this.count('clientErrors');
    this.latency.add(latencyMs);
  }

  /** One request's feature lookups: how long they took, and what they found. */
  recordLookup(
    latencyMs: number,
    outcome: { readonly keys: number; readonly misses: number; readonly cacheHits: number } | 'failed',
  ): void {
    this.count('lookups');
    if (outcome === 'failed') this.count('lookupFailures');
    else {
      this.count('lookupKeys', outcome.keys);
      this.count('lookupMisses', outcome.misses);
      this.count('lookupCacheHits', outcome.cacheHits);
    }
    this.lookupLatency.add(latencyMs);
  }

  snapshot(): MetricsSnapshot {
    const t = this.total;
    return {
      requests: t.requests,
      clientErrors: t.clientErrors,
      serverErrors: t.serverErrors,
      ...this.latency.percentiles(),
      ...(t.lookups > 0
        ? {
            featureLookups: {
              requests: t.lookups,
              failures: t.lookupFailures,
              keys: t.lookupKeys,
              misses: t.lookupMisses,
              cacheHits: t.lookupCacheHits,
              ...this.lookupLatency.percentiles(),
            },
          }
        : {}),
    };
  }

  /** One EMF line for the requests since the last call, or undefined when there were none. */
  emf(namespace: string, model: string, version: number, now = Date.now()): string | undefined {
    const w = this.window;
    if (w.requests === 0 && w.lookups === 0) return undefined;
    const metrics = [
      { Name: 'Requests', Unit: 'Count' },
      { Name: 'ClientErrors', Unit: 'Count' },
      { Name: 'ServerErrors', Unit: 'Count' },
      { Name: 'Latency', Unit: 'Milliseconds' },
    ];
    // Versions with feature lookups add their figures (and the metrics' declarations).
    let lookups = {};
    if (w.lookups > 0) {
      lookups = {
        FeatureLookupLatency: this.lookupLatency.take(),
        FeatureLookupKeys: w.lookupKeys,
        FeatureLookupMisses: w.lookupMisses,
        FeatureLookupFailures: w.lookupFailures,
      };
      metrics.push(
        { Name: 'FeatureLookupLatency', Unit: 'Milliseconds' },
        { Name: 'FeatureLookupKeys', Unit: 'Count' },
        { Name: 'FeatureLookupMisses', Unit: 'Count' },
        { Name: 'FeatureLookupFailures', Unit: 'Count' },
      );
    }
    const line = {
      _aws: {
        Timestamp: now,
        CloudWatchMetrics: [{ Namespace: namespace, Dimensions: [['Model', 'Version']], Metrics: metrics }],
      },
      Model: model,
      Version: String(version),
      Requests: w.requests,
      ClientErrors: w.clientErrors,
      ServerErrors: w.serverErrors,
      Latency: this.latency.take(),
      ...lookups,
    };
    this.window = zero();
    return JSON.stringify(line);
  }
}
