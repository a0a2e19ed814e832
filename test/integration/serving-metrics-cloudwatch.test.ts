/**
 * The serving API's metric series on AWS: CloudWatchObservability against CloudWatch's
 * GetMetricData. CloudWatch has no local engine, so the client's transport answers as
 * CloudWatch does (AWS JSON 1.0): it takes in the EMF lines the real model host writes
 * (container/src/metrics.ts), and answers each query with one datapoint per period that has
 * data (Sum, or a percentile of the values), periods counted from StartTime, paged by NextToken.
 */
import { Readable } from 'node:stream';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { describe, expect, it } from 'vitest';
import { VersionMetrics } from '../../container/src/metrics';
import { percentile } from '../../lambdas/serving/metric-series';
import { CloudWatchObservability } from '../../lambdas/serving/observability';

interface Datum {
  readonly namespace: string;
  readonly metric: string;
  readonly model: string;
  readonly version: string;
  readonly timeMs: number;
  readonly values: readonly number[];
}

interface Query {
  Id: string;
  MetricStat: {
    Metric: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: string }[] };
    Period: number;
    Stat: string;
  };
}

interface Call {
  readonly queries: Query[];
  readonly startTime: number;
  readonly endTime: number;
  readonly scanBy?: string;
  readonly nextToken?: string;
}

/** CloudWatch metrics at the transport: EMF lines in, GetMetricData answers out. */
function cloudWatch(options: { pageSize?: number } = {}) {
  const data: Datum[] = [];
  const calls: Call[] = [];
  const reply = (statusCode: number, body: unknown) => ({
    response: {
      statusCode,
      headers: { 'content-type': 'application/x-amz-json-1.0' },
      body: Readable.from([Buffer.from(JSON.stringify(body))]),
    },
  });
  const answer = (call: Call) => {
    const results = call.queries.map((q) => {
      const dims = Object.fromEntries(q.MetricStat.Metric.Dimensions.map((d) => [d.Name, d.Value]));
      const period = q.MetricStat.Period * 1000;
      const points: { t: number; v: number }[] = [];
      for (let t = call.startTime * 1000; t < call.endTime * 1000; t += period) {
        const values = data
          .filter(
            (d) =>
              d.namespace === q.MetricStat.Metric.Namespace &&
              d.metric === q.MetricStat.Metric.MetricName &&
              d.model === dims.Model &&
              d.version === dims.Version &&
              d.timeMs >= t &&
              d.timeMs < t + period,
          )
          .flatMap((d) => d.values);
        if (values.length === 0) continue;
        const stat = q.MetricStat.Stat;
        const v =
          stat === 'Sum'
            ? values.reduce((a, b) => a + b, 0)
            : (percentile(
                [...values].sort((a, b) => a - b),
                Number(stat.slice(1)) / 100,
              ) as number);
        points.push({ t, v });
      }
      if (call.scanBy !== 'TimestampAscending') points.reverse();
      return { id: q.Id, points };
    });
    // Paging as CloudWatch pages: at most pageSize datapoints an answer, the rest behind NextToken.
    const all = results.flatMap((r) => r.points.map((p) => ({ id: r.id, ...p })));
    const from = Number(call.nextToken ?? 0);
    const page = all.slice(from, from + (options.pageSize ?? 100_800));
    const next = from + page.length < all.length ? String(from + page.length) : undefined;
    return {
      MetricDataResults: results.map((r) => {
        const mine = page.filter((p) => p.id === r.id);
        return {
          Id: r.id,
          Timestamps: mine.map((p) => p.t / 1000),
          Values: mine.map((p) => p.v),
          StatusCode: next ? 'PartialData' : 'Complete',
        };
      }),
      ...(next ? { NextToken: next } : {}),
    };
  };
  const requestHandler = {
    async handle(request: { headers: Record<string, string>; body?: string | Uint8Array }) {
      const text = typeof request.body === 'string' ? request.body : new TextDecoder().decode(request.body);
      const target = request.headers['x-amz-target'];
      if (target !== 'GraniteServiceVersion20100801.GetMetricData') {
        return reply(400, { __type: 'InvalidAction', message: `not answered here: ${target}` });
      }
      const body = JSON.parse(text) as {
        MetricDataQueries: Query[];
        StartTime: number;
        EndTime: number;
        ScanBy?: string;
        NextToken?: string;
      };
      if (body.MetricDataQueries.length > 500) {
        return reply(400, { __type: 'InvalidParameterValue', message: 'at most 500 queries' });
      }
      const call: Call = {
        queries: body.MetricDataQueries,
        startTime: body.StartTime,
        endTime: body.EndTime,
        scanBy: body.ScanBy,
        nextToken: body.NextToken,
      };
      calls.push(call);
      return reply(200, answer(call));
    },
  };
  return {
    calls,
    client: new CloudWatchClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      requestHandler,
      maxAttempts: 1,
    }),
    /** Takes in one EMF line as CloudWatch Logs would turn it into metrics. */
    ingest(line: string) {
      const emf = JSON.parse(line) as Record<string, unknown> & {
        _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Metrics: { Name: string }[] }[] };
      };
      for (const directive of emf._aws.CloudWatchMetrics) {
        for (const { Name } of directive.Metrics) {
          const value = emf[Name];
          data.push({
            namespace: directive.Namespace,
            metric: Name,
            model: String(emf.Model),
            version: String(emf.Version),
            timeMs: emf._aws.Timestamp,
            values: Array.isArray(value) ? (value as number[]) : [value as number],
          });
        }
      }
    },
  };
}

/** One EMF line of a version, as the host writes it after these requests ([latency ms, status]). */
function emfLine(model: string, version: number, timeMs: number, requests: [number, number][]): string {
  const metrics = new VersionMetrics();
  for (const [ms, status] of requests) metrics.record(ms, status);
  return metrics.emf('mlserve', model, version, timeMs) as string;
}

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const MINUTE = 60_000;

function observed(options: { pageSize?: number } = {}) {
  const cw = cloudWatch(options);
  cw.ingest(
    emfLine('iris', 1, T0 + 30_000, [
      [10, 200],
      [20, 400],
      [30, 200],
    ]),
  );
  cw.ingest(
    emfLine('iris', 1, T0 + 90_000, [
      [40, 200],
      [50, 503],
    ]),
  );
  cw.ingest(emfLine('iris', 2, T0 + 200_000, [[7, 200]]));
  cw.ingest(emfLine('other', 1, T0 + 30_000, [[1, 200]]));
  const logs = new CloudWatchLogsClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 't', secretAccessKey: 't' },
  });
  return { cw, observability: new CloudWatchObservability('/mlserve/model-hosts', 'mlserve', logs, cw.client) };
}

describe('metric series from CloudWatch', () => {
  it('answers one point per period, zero where CloudWatch has none, and the window figures', async () => {
    const { observability } = observed();
    const history = await observability.metrics('iris', [1, 2], {
      startMs: T0,
      endMs: T0 + 10 * MINUTE,
      periodSeconds: 60,
    });
    expect(history.periodSeconds).toBe(60);
    const [v1, v2] = history.versions;
    expect(v1?.points.map((p) => p.timestampMs)).toEqual(Array.from({ length: 10 }, (_, i) => T0 + i * MINUTE));
    expect(v1?.points[0]).toEqual({
      timestampMs: T0,
      requests: 3,
      clientErrors: 1,
      serverErrors: 0,
      latencyP50Ms: 20,
      latencyP99Ms: 30,
    });
    expect(v1?.points[1]).toMatchObject({ requests: 2, clientErrors: 0, serverErrors: 1, latencyP50Ms: 40 });
    for (const p of v1?.points.slice(2) ?? []) {
      expect(p).toMatchObject({ requests: 0, clientErrors: 0, serverErrors: 0 });
      expect(p.latencyP50Ms).toBeUndefined();
    }
    // The window's figures: sums, and percentiles over the whole window (not the largest period's).
    expect(v1).toMatchObject({ version: 1, requests: 5, clientErrors: 1, serverErrors: 1, latencyP50Ms: 30 });
    expect(v1?.latencyP99Ms).toBe(50);
    expect(v2?.points.map((p) => p.requests)).toEqual([0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(v2?.requests).toBe(1);
  });

  it('asks for the series at the period rounded up to whole minutes, from the period holding the start', async () => {
    const { cw, observability } = observed();
    const history = await observability.metrics('iris', [1], {
      startMs: T0 + 30_000,
      endMs: T0 + 10 * MINUTE + 30_000,
      periodSeconds: 90,
    });
    expect(history.periodSeconds).toBe(120);
    const series = cw.calls.find((c) => c.queries.some((q) => q.Id.startsWith('srequests_')));
    expect(series).toMatchObject({ startTime: T0 / 1000, scanBy: 'TimestampAscending' });
    expect(new Set(series?.queries.map((q) => q.MetricStat.Period))).toEqual(new Set([120]));
    const points = history.versions[0]?.points ?? [];
    expect(points.map((p) => p.timestampMs)).toEqual([0, 1, 2, 3, 4, 5].map((i) => T0 + i * 2 * MINUTE));
    expect(points.map((p) => p.requests)).toEqual([5, 0, 0, 0, 0, 0]);
  });

  it('follows NextToken through every page of an answer', async () => {
    const { cw, observability } = observed({ pageSize: 2 });
    const history = await observability.metrics('iris', [1, 2], {
      startMs: T0,
      endMs: T0 + 10 * MINUTE,
      periodSeconds: 60,
    });
    expect(cw.calls.some((c) => c.nextToken !== undefined)).toBe(true);
    expect(history.versions[0]?.points.map((p) => p.requests).slice(0, 3)).toEqual([3, 2, 0]);
    expect(history.versions[0]?.latencyP99Ms).toBe(50);
    expect(history.versions[1]?.points[3]?.requests).toBe(1);
  });

  it('splits the queries of many versions into calls of at most 500', async () => {
    const { cw, observability } = observed();
    const versions = Array.from({ length: 60 }, (_, i) => i + 1);
    const history = await observability.metrics('iris', versions, {
      startMs: T0,
      endMs: T0 + 10 * MINUTE,
      periodSeconds: 60,
    });
    expect(cw.calls.length).toBeGreaterThan(2);
    expect(Math.max(...cw.calls.map((c) => c.queries.length))).toBeLessThanOrEqual(500);
    expect(history.versions.map((v) => v.version)).toEqual(versions);
    expect(history.versions[1]?.points[3]?.requests).toBe(1);
  });
});
