/**
 * Where the serving API reads version logs and request metrics from: CloudWatch on AWS,
 * the host processes' own log files and status documents in the local twin.
 */
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';

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
}

/** GetMetricData takes at most 500 queries a call. */
const MAX_QUERIES = 500;

export interface ServingObservability {
  /** The most recent log lines of one version (oldest first), at most `limit`. */
  versionLogs(model: string, version: number, limit: number): Promise<string[]>;
  /** Request metrics per version over [startMs, endMs]. */
  metrics(model: string, versions: readonly number[], startMs: number, endMs: number): Promise<VersionMetricsWindow[]>;
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

  async metrics(
    model: string,
    versions: readonly number[],
    startMs: number,
    endMs: number,
  ): Promise<VersionMetricsWindow[]> {
    const period = Math.max(60, Math.ceil((endMs - startMs) / 1000 / 60) * 60);
    const queries: MetricDataQuery[] = versions.flatMap((v) =>
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
      ).map(([id, metric, stat]) => ({
        Id: `${id}_${v}`,
        MetricStat: {
          Metric: {
            Namespace: this.namespace,
            MetricName: metric,
            Dimensions: [
              { Name: 'Model', Value: model },
              { Name: 'Version', Value: String(v) },
            ],
          },
          Period: period,
          Stat: stat,
        },
      })),
    );
    if (queries.length === 0) return [];
    const results = new Map<string, number[]>();
    for (let i = 0; i < queries.length; i += MAX_QUERIES) {
      const out = await this.cloudwatch.send(
        new GetMetricDataCommand({
          MetricDataQueries: queries.slice(i, i + MAX_QUERIES),
          StartTime: new Date(startMs),
          EndTime: new Date(endMs),
        }),
      );
      for (const r of out.MetricDataResults ?? []) if (r.Id) results.set(r.Id, r.Values ?? []);
    }
    const value = (id: string, reduce: 'sum' | 'max') => {
      const values = results.get(id) ?? [];
      if (values.length === 0) return undefined;
      return reduce === 'sum' ? values.reduce((a, b) => a + b, 0) : Math.max(...values);
    };
    return versions.map((v) => {
      const lookupKeys = value(`lkeys_${v}`, 'sum');
      const lookupFailures = value(`lfailures_${v}`, 'sum');
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
      };
    });
  }
}
