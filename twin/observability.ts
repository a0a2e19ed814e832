/**
 * Version logs and metrics in the local twin: each model's serving task appends its JSON log
 * lines to `<home>/logs/<model>.log`, and reports request metrics in its status document.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { MetricsSnapshot as HostMetrics } from '../container/src/metrics';
import type { ServingObservability, VersionMetricsWindow } from '../lambdas/serving/observability';
import type { HostTask } from './aws/host-task';

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

  /** The running task's counters since it started (the twin keeps no metric history). */
  async metrics(model: string, versions: readonly number[]): Promise<VersionMetricsWindow[]> {
    const task = this.tasksOf(model).find((t) => t.url);
    const status = task
      ? ((await fetch(`${task.url}/status`)
          .then((r) => r.json())
          .catch(() => undefined)) as { versions?: { version: number; metrics: HostMetrics }[] } | undefined)
      : undefined;
    return versions.map((version) => {
      const m = status?.versions?.find((v) => v.version === version)?.metrics;
      return {
        version,
        requests: m?.requests ?? 0,
        clientErrors: m?.clientErrors ?? 0,
        serverErrors: m?.serverErrors ?? 0,
        latencyP50Ms: m?.p50Ms,
        latencyP99Ms: m?.p99Ms,
        featureLookups: m?.featureLookups,
      };
    });
  }
}
