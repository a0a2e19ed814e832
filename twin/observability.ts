/**
 * Version logs and metrics in the local twin: each model's serving task appends its JSON log
 * lines to `<home>/logs/<model>.log` — among them one EMF line per version every
 * MLSERVE_METRICS_INTERVAL_MS, as CloudWatch would receive them — and reports request metrics
 * since it started in its status document.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { MetricsSnapshot as HostMetrics } from '../container/src/metrics';
import { percentile, periodStarts } from '../lambdas/serving/metric-series';
import type {
  MetricPoint,
  MetricsHistory,
  MetricsRequest,
  ServingObservability,
} from '../lambdas/serving/observability';
import type { HostTask } from './aws/host-task';

/** The fields of a model host's EMF line (container/src/metrics.ts) the series read. */
interface EmfLine {
  readonly _aws?: { readonly Timestamp?: unknown };
  readonly Model?: unknown;
  readonly Version?: unknown;
  readonly Requests?: unknown;
  readonly ClientErrors?: unknown;
  readonly ServerErrors?: unknown;
  readonly Latency?: unknown;
}

interface Bucket {
  requests: number;
  clientErrors: number;
  serverErrors: number;
  latencies: number[];
}

const count = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

export function modelLogFile(home: string, model: string): string {
  return path.join(home, 'logs', `${encodeURIComponent(model)}.log`);
}

export class TwinObservability implements ServingObservability {
  constructor(
    private readonly home: string,
    private readonly tasksOf: (model: string) => readonly HostTask[],
  ) {}

  async versionLogs(model: string, version: number, limit: number): Promise<string[]> {
    let text: string;
    try {
      text = await readFile(modelLogFile(this.home, model), 'utf8');
    } catch {
      return [];
    }
    const lines: string[] = [];
    for (const raw of text.split('\n')) {
      if (!raw.startsWith('{')) continue;
      try {
        const entry = JSON.parse(raw) as Record<string, unknown>;
        if (entry.version !== version) continue;
        const detail = entry.line ?? entry.error ?? '';
        lines.push(`${entry.timestamp} ${entry.level} ${entry.message}${detail ? ` ${String(detail)}` : ''}`);
      } catch {
        // not a log entry
      }
    }
    return lines.slice(-limit);
  }

  /**
   * The window's figures are the running task's counters since it started (as before the series
   * existed); the series come from the EMF lines in the model's log file, each counted in the
   * period its timestamp (the end of the host's interval) falls in.
   */
  async metrics(model: string, versions: readonly number[], request: MetricsRequest): Promise<MetricsHistory> {
    const periodSeconds = Math.max(1, Math.ceil(request.periodSeconds));
    const starts = periodStarts(request.startMs, request.endMs, periodSeconds);
    const [status, series] = await Promise.all([
      this.taskStatus(model),
      this.series(model, versions, starts, periodSeconds * 1000),
    ]);
    return {
      periodSeconds,
      versions: versions.map((version) => {
        const m = status?.versions?.find((v) => v.version === version)?.metrics;
        return {
          version,
          requests: m?.requests ?? 0,
          clientErrors: m?.clientErrors ?? 0,
          serverErrors: m?.serverErrors ?? 0,
          latencyP50Ms: m?.p50Ms,
          latencyP99Ms: m?.p99Ms,
          featureLookups: m?.featureLookups,
          points: series.get(version) ?? [],
        };
      }),
    };
  }

  private async taskStatus(model: string) {
    const task = this.tasksOf(model).find((t) => t.url);
    return task
      ? ((await fetch(`${task.url}/status`)
          .then((r) => r.json())
          .catch(() => undefined)) as { versions?: { version: number; metrics: HostMetrics }[] } | undefined)
      : undefined;
  }

  /** Each version's points over `starts` (periods of `periodMs`), from the EMF lines of the model's log file. */
  private async series(
    model: string,
    versions: readonly number[],
    starts: readonly number[],
    periodMs: number,
  ): Promise<Map<number, MetricPoint[]>> {
    const buckets = new Map<number, Bucket[]>(
      versions.map((v) => [
        v,
        starts.map(() => ({ requests: 0, clientErrors: 0, serverErrors: 0, latencies: [] as number[] })),
      ]),
    );
    const first = starts[0] ?? 0;
    let text = '';
    try {
      text = await readFile(modelLogFile(this.home, model), 'utf8');
    } catch {
      // no log yet: every point is zero
    }
    for (const raw of text.split('\n')) {
      if (!raw.startsWith('{"_aws"')) continue;
      let line: EmfLine;
      try {
        line = JSON.parse(raw) as EmfLine;
      } catch {
        continue; // a line cut short
      }
      if (line.Model !== model) continue;
      const version = buckets.get(Number(line.Version));
      const time = line._aws?.Timestamp;
      if (!version || typeof time !== 'number') continue;
      const bucket = version[Math.floor((time - first) / periodMs)];
      if (!bucket) continue;
      bucket.requests += count(line.Requests);
      bucket.clientErrors += count(line.ClientErrors);
      bucket.serverErrors += count(line.ServerErrors);
      if (Array.isArray(line.Latency)) {
        for (const ms of line.Latency) if (typeof ms === 'number' && Number.isFinite(ms)) bucket.latencies.push(ms);
      }
    }
    const out = new Map<number, MetricPoint[]>();
    for (const [version, periods] of buckets) {
      out.set(
        version,
        periods.map((b, i) => {
          const sorted = b.latencies.sort((x, y) => x - y);
          return {
            timestampMs: starts[i] ?? first,
            requests: b.requests,
            clientErrors: b.clientErrors,
            serverErrors: b.serverErrors,
            latencyP50Ms: percentile(sorted, 0.5),
            latencyP99Ms: percentile(sorted, 0.99),
          };
        }),
      );
    }
    return out;
  }
}
