/**
 * Where the serving API reads version logs and request metrics from: CloudWatch on AWS,
 * the host processes' own log files and status documents in the local twin.
 */
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { periodStarts } from './metric-series';

/** One period of a version's request series. */
export interface MetricPoint {
  /** The start of the period (ms). */
  readonly timestampMs: number;
  readonly requests: number;
  readonly clientErrors: number;
  readonly serverErrors: number;
  readonly latencyP50Ms?: number;
  readonly latencyP99Ms?: number;
}

export interface VersionMetricsWindow {
  readonly version: number;
  readonly requests: number;
  readonly clientErrors: number;
  readonly serverErrors: number;
  readonly latencyP50Ms?: number;
  readonly latencyP99Ms?: number;
  /** For a version with feature lookups: their latency, the keys looked up, misses and failed requests. */
  readonly featureLookups?: {
    readonly p50Ms?: number;
    readonly p99Ms?: number;
    readonly keys: number;
    readonly misses: number;
    readonly failures: number;
  };
  /** The series: one point per period from the window's first to its last, oldest first. */
  readonly points: readonly MetricPoint[];
}

/** The window metrics are asked for, and the period of its series. */
export interface MetricsRequest {
  readonly startMs: number;
  readonly endMs: number;
  readonly periodSeconds: number;
}

export interface MetricsHistory {
  /** The period the series has (a source may round the one asked for up). */
  readonly periodSeconds: number;
  readonly versions: readonly VersionMetricsWindow[];
}

/** GetMetricData takes at most 500 queries a call. */
const MAX_QUERIES = 500;

export interface ServingObservability {
  /** The most recent log lines of one version (oldest first), at most `limit`. */
  versionLogs(model: string, version: number, limit: number): Promise<string[]>;
  /** Request metrics per version over the window, and their series. */
  metrics(model: string, versions: readonly number[], request: MetricsRequest): Promise<MetricsHistory>;
}

/** CloudWatch Logs (the serving tasks' log group) and CloudWatch metrics (the hosts' EMF lines). */
export class CloudWatchObservability implements ServingObservability {
  constructor(
    private readonly logGroupName: string,
    private readonly namespace: string,
    private readonly logs = new CloudWatchLogsClient({}),
    private readonly cloudwatch = new CloudWatchClient({}),
  ) {}

  async versionLogs(model: string, version: number, limit: number): Promise<string[]> {
    const out = await this.logs.send(
      new FilterLogEventsCommand({
        logGroupName: this.logGroupName,
        filterPattern: `{ $.model = ${JSON.stringify(model)} && $.version = ${version} }`,
        startTime: Date.now() - 24 * 3600_000,
        limit,
      }),
    );
    return (out.events ?? []).map((e) => e.message ?? '');
  }

  private query(id: string, model: string, version: number, metric: string, stat: string, period: number) {
    return {
      Id: id,
      MetricStat: {
        Metric: {
          Namespace: this.namespace,
          MetricName: metric,
          Dimensions: [
            { Name: 'Model', Value: model },
            { Name: 'Version', Value: String(version) },
          ],
        },
        Period: period,
        Stat: stat,
      },
    } satisfies MetricDataQuery;
  }

  /**
   * Two sets of queries per version: the whole window in one period (the aggregate figures,
   * percentiles over the whole window), and the series at the asked period, which CloudWatch
   * takes in whole minutes for the hosts' standard-resolution metrics (so it is rounded up).
   */
  async metrics(model: string, versions: readonly number[], request: MetricsRequest): Promise<MetricsHistory> {
    const period = Math.max(60, Math.ceil(request.periodSeconds / 60) * 60);
    const starts = periodStarts(request.startMs, request.endMs, period);
    const seriesStart = starts[0] ?? request.startMs;
    const seriesEnd = (starts.at(-1) ?? request.startMs) + period * 1000;
    const windowPeriod = Math.max(60, Math.ceil((request.endMs - request.startMs) / 1000 / 60) * 60);
    const window: MetricDataQuery[] = versions.flatMap((v) =>
      (
        [
          ['requests', 'Requests', 'Sum'],
          ['client', 'ClientErrors', 'Sum'],
          ['server', 'ServerErrors', 'Sum'],
          ['p50', 'Latency', 'p50'],
          ['p99', 'Latency', 'p99'],
          ['lp50', 'FeatureLookupLatency', 'p50'],
          ['lp99', 'FeatureLookupLatency', 'p99'],
          ['lkeys', 'FeatureLookupKeys', 'Sum'],
          ['lmisses', 'FeatureLookupMisses', 'Sum'],
          ['lfailures', 'FeatureLookupFailures', 'Sum'],
        ] as const
      ).map(([id, metric, stat]) => this.query(`${id}_${v}`, model, v, metric, stat, windowPeriod)),
    );
    const series: MetricDataQuery[] = versions.flatMap((v) =>
      (
        [
          ['srequests', 'Requests', 'Sum'],
          ['sclient', 'ClientErrors', 'Sum'],
          ['sserver', 'ServerErrors', 'Sum'],
          ['sp50', 'Latency', 'p50'],
          ['sp99', 'Latency', 'p99'],
        ] as const
      ).map(([id, metric, stat]) => this.query(`${id}_${v}`, model, v, metric, stat, period)),
    );
    if (versions.length === 0) return { periodSeconds: period, versions: [] };
    const results = new Map<string, { timestamps: number[]; values: number[] }>();
    const load = async (queries: MetricDataQuery[], startMs: number, endMs: number) => {
      for (let i = 0; i < queries.length; i += MAX_QUERIES) {
        let nextToken: string | undefined;
        do {
          const out = await this.cloudwatch.send(
            new GetMetricDataCommand({
              MetricDataQueries: queries.slice(i, i + MAX_QUERIES),
              StartTime: new Date(startMs),
              EndTime: new Date(endMs),
              ScanBy: 'TimestampAscending',
              NextToken: nextToken,
            }),
          );
          for (const r of out.MetricDataResults ?? []) {
            if (!r.Id) continue;
            const into = results.get(r.Id) ?? { timestamps: [], values: [] };
            into.timestamps.push(...(r.Timestamps ?? []).map((t) => t.getTime()));
            into.values.push(...(r.Values ?? []));
            results.set(r.Id, into);
          }
          nextToken = out.NextToken;
        } while (nextToken);
      }
    };
    await load(window, request.startMs, request.endMs);
    await load(series, seriesStart, seriesEnd);
    const value = (id: string, reduce: 'sum' | 'max') => {
      const values = results.get(id)?.values ?? [];
      if (values.length === 0) return undefined;
      return reduce === 'sum' ? values.reduce((a, b) => a + b, 0) : Math.max(...values);
    };
    /** The series' values by the period they fall in (CloudWatch leaves out periods without data). */
    const byPeriod = (id: string, combine: (a: number, b: number) => number) => {
      const out = new Map<number, number>();
      const r = results.get(id);
      r?.timestamps.forEach((t, i) => {
        const at = Math.floor((t - seriesStart) / (period * 1000));
        const v = r.values[i] ?? 0;
        const before = out.get(at);
        out.set(at, before === undefined ? v : combine(before, v));
      });
      return out;
    };
    const sum = (a: number, b: number) => a + b;
    return {
      periodSeconds: period,
      versions: versions.map((v) => {
        const lookupKeys = value(`lkeys_${v}`, 'sum');
        const lookupFailures = value(`lfailures_${v}`, 'sum');
        const requests = byPeriod(`srequests_${v}`, sum);
        const client = byPeriod(`sclient_${v}`, sum);
        const server = byPeriod(`sserver_${v}`, sum);
        const p50 = byPeriod(`sp50_${v}`, Math.max);
        const p99 = byPeriod(`sp99_${v}`, Math.max);
        return {
          version: v,
          requests: value(`requests_${v}`, 'sum') ?? 0,
          clientErrors: value(`client_${v}`, 'sum') ?? 0,
          serverErrors: value(`server_${v}`, 'sum') ?? 0,
          latencyP50Ms: value(`p50_${v}`, 'max'),
          latencyP99Ms: value(`p99_${v}`, 'max'),
          featureLookups:
            lookupKeys === undefined && lookupFailures === undefined
              ? undefined
              : {
                  p50Ms: value(`lp50_${v}`, 'max'),
                  p99Ms: value(`lp99_${v}`, 'max'),
                  keys: lookupKeys ?? 0,
                  misses: value(`lmisses_${v}`, 'sum') ?? 0,
                  failures: lookupFailures ?? 0,
                },
          points: starts.map((timestampMs, i) => ({
            timestampMs,
            requests: requests.get(i) ?? 0,
            clientErrors: client.get(i) ?? 0,
            serverErrors: server.get(i) ?? 0,
            latencyP50Ms: p50.get(i),
            latencyP99Ms: p99.get(i),
          })),
        };
      }),
    };
  }
}
