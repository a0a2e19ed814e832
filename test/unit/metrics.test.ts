import { describe, expect, it } from 'vitest';
import { VersionMetrics } from '../../container/src/metrics';

describe('version metrics', () => {
  it('counts requests by outcome and writes one EMF line per window', () => {
    const metrics = new VersionMetrics();
    metrics.record(4, 200);
    metrics.record(6, 400);
    metrics.record(8, 503);
    const line = JSON.parse(metrics.emf('mlserve', 'iris', 2, 1000) as string);
    expect(line).toMatchObject({ Model: 'iris', Version: '2', Requests: 3, ClientErrors: 1, ServerErrors: 1 });
    expect(line.Latency).toEqual([4, 6, 8]);
    expect(line._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name)).toEqual([
      'Requests',
      'ClientErrors',
      'ServerErrors',
      'Latency',
    ]);
    expect(metrics.emf('mlserve', 'iris', 2)).toBeUndefined();
  });

  it('adds feature lookup latency, keys, misses and failures for a version with lookups', () => {
    const metrics = new VersionMetrics();
    metrics.recordLookup(2.5, { keys: 10, misses: 3, cacheHits: 4 });
    metrics.recordLookup(7, 'failed');
    metrics.record(9, 200);
    metrics.record(8, 503);
    expect(metrics.snapshot().featureLookups).toEqual({
      requests: 2,
      failures: 1,
      keys: 10,
      misses: 3,
      cacheHits: 4,
      p50Ms: 7,
      p99Ms: 7,
    });
    const line = JSON.parse(metrics.emf('mlserve', 'churn', 1) as string);
    expect(line).toMatchObject({
      FeatureLookupLatency: [2.5, 7],
      FeatureLookupKeys: 10,
      FeatureLookupMisses: 3,
      FeatureLookupFailures: 1,
    });
    expect(line._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name)).toContain(
      'FeatureLookupMisses',
    );
    // Totals stay for the status document after the window is written.
    expect(metrics.snapshot().featureLookups?.keys).toBe(10);
  });

  it('leaves feature lookups out for a version without them', () => {
    const metrics = new VersionMetrics();
    metrics.record(1, 200);
    expect(metrics.snapshot().featureLookups).toBeUndefined();
    expect(metrics.emf('mlserve', 'iris', 1)).not.toContain('FeatureLookup');
  });
});
