/** The serving API (the retired product's paths, under /api/2.0/preview/mlflow/endpoints/). */
import { call } from './client';

const API = '/api/2.0/preview/mlflow/endpoints';

import type {
  BatchingChangeJson,
  BatchingJson,
  ComputeSizeJson,
  ComputeSizesResponse,
  EmptyResponse,
  EndpointStatusJson,
  EndpointStatusResponse,
  EndpointVersionJson,
  EventHistoryResponse,
  ListEndpointsResponse,
  ListVersionsResponse,
  MetricHistoryResponse,
  MetricPointJson,
  ServingEventJson,
  ServingTagJson,
  VersionLogsResponse,
  VersionMetricsJson,
} from '../../../lambdas/serving/responses';

export type {
  BatchingChangeJson,
  BatchingJson,
  ComputeSizeJson,
  EndpointStatusJson,
  EndpointVersionJson,
  MetricHistoryResponse,
  MetricPointJson,
  ServingEventJson,
  ServingTagJson,
  VersionMetricsJson,
};

// ---- Calls

const model = (name: string) => ({ registered_model_name: name });

/** Serving state of every model whose serving was ever enabled (that the caller may read). */
export async function listEndpoints(): Promise<ListEndpointsResponse['endpoints']> {
  return (await call<ListEndpointsResponse>('GET', `${API}/list`)).endpoints;
}

export async function getServingStatus(name: string): Promise<EndpointStatusJson> {
  return (await call<EndpointStatusResponse>('GET', `${API}/get-status`, model(name))).endpoint_status;
}

export function enableServing(name: string): Promise<EmptyResponse> {
  return call<EmptyResponse>('POST', `${API}/enable`, model(name));
}

export function disableServing(name: string): Promise<EmptyResponse> {
  return call<EmptyResponse>('POST', `${API}/disable`, model(name));
}

/** The served (live) versions, newest first, each with its state and scoring URIs. */
export async function listServedVersions(name: string): Promise<readonly EndpointVersionJson[]> {
  const answer = await call<ListVersionsResponse>('GET', `${API}/list-versions`, model(name));
  return [...answer.endpoint_versions].sort(
    (a, b) => Number(b.endpoint_version_name) - Number(a.endpoint_version_name),
  );
}

/** A version's most recent log lines, oldest first. */
export async function getVersionLogs(name: string, version: string, maxLines = 200): Promise<string> {
  const answer = await call<VersionLogsResponse>('GET', `${API}/get-version-logs`, {
    ...model(name),
    endpoint_version_name: version,
    max_lines: maxLines,
  });
  return answer.logs;
}

/** Serving events, newest first; of one version when `version` is given. */
export async function getEventHistory(
  name: string,
  version?: string,
  maxResults = 100,
): Promise<readonly ServingEventJson[]> {
  const answer = await call<EventHistoryResponse>('GET', `${API}/get-event-history`, {
    ...model(name),
    endpoint_version_name: version,
    max_results: maxResults,
  });
  return answer.events;
}

/** Request metrics per version over the last `windowMs`, with a point every `periodSeconds` (or more). */
export function getMetricHistory(
  name: string,
  windowMs: number,
  periodSeconds: number,
): Promise<MetricHistoryResponse> {
  const end = Date.now();
  return call<MetricHistoryResponse>('GET', `${API}/get-metric-history`, {
    ...model(name),
    start_time_ms: end - windowMs,
    end_time_ms: end,
    period_seconds: periodSeconds,
  });
}

/** The compute presets with their estimated monthly price, and where the prices come from. */
export function listComputeSizes(): Promise<ComputeSizesResponse> {
  return call<ComputeSizesResponse>('GET', `${API}/list-compute-sizes`);
}

/**
 * Changes the compute size and tags (a new task rolls in before the old one drains), and
 * batching and workers per version (the running task applies them). Null clears a setting.
 */
export function updateClusterConfig(
  name: string,
  change: {
    readonly computeSize?: string;
    readonly tagsToSet?: readonly ServingTagJson[];
    readonly tagsToDelete?: readonly string[];
    readonly batching?: BatchingChangeJson;
    readonly workersPerVersion?: number | null;
  },
): Promise<EmptyResponse> {
  return call<EmptyResponse>('POST', `${API}/update-cluster-config`, {
    ...model(name),
    compute_size: change.computeSize,
    tags_to_set: change.tagsToSet?.length ? change.tagsToSet : undefined,
    tags_to_delete: change.tagsToDelete?.length ? change.tagsToDelete : undefined,
    batching: change.batching,
    workers_per_version: change.workersPerVersion,
  });
}
