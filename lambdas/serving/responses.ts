/**
 * The serving API's answers (`/api/2.0/preview/mlflow/endpoints/…`), as JSON on the wire. The
 * web console imports these types, so this file imports types only, and only from modules that
 * import nothing themselves: it must type-check and bundle for the browser.
 * `SERVING_ROUTES` (routes.ts) returns each route's type from `ServingResponses`.
 */
import type { ComputeSize, ServingEventType } from '../../core/registry/model';

export type { ComputeSize, ServingEventType };

/** A tag as the APIs write it. */
export interface ServingTagJson {
  readonly key: string;
  readonly value: string;
}

/** The answer of a route that only does something (enable, disable, update-cluster-config). */
export type EmptyResponse = Record<string, never>;

export type EndpointState =
  | 'ENDPOINT_STATE_PENDING'
  | 'ENDPOINT_STATE_READY'
  | 'ENDPOINT_STATE_FAILED'
  | 'ENDPOINT_STATE_STOPPED';

export type VersionState =
  | 'VERSION_STATE_PENDING'
  | 'VERSION_STATE_READY'
  | 'VERSION_STATE_FAILED'
  | 'VERSION_STATE_UNLOADED';

/**
 * Request batching as the model's owner set it (`get-status`): only the fields that are set;
 * a field left out is the model host's default.
 */
export interface BatchingJson {
  readonly enabled?: boolean;
  /** Most rows in one coalesced call, 1–10000. */
  readonly max_batch_rows?: number;
  /** How long a request may wait for others to join its call, 0–100 ms. */
  readonly max_wait_ms?: number;
}

/**
 * `update-cluster-config`'s `batching` (a request, typed here for the console): any of the
 * fields, each a value or null (back to the host's default); null as a whole clears all of them.
 */
export type BatchingChangeJson = { readonly [K in keyof BatchingJson]?: BatchingJson[K] | null } | null;

/** `get-status`. */
export interface EndpointStatusJson {
  readonly registered_model_name: string;
  readonly state: EndpointState;
  readonly message: string;
  /** Whether serving is switched on (a model being stopped is not, though its state is still PENDING). */
  readonly enabled: boolean;
  /** Present once serving was ever enabled. */
  readonly compute_size?: ComputeSize;
  readonly tags?: readonly ServingTagJson[];
  /** Present when any batching field is set (the running task applies changes live). */
  readonly batching?: BatchingJson;
  /** Present when set; absent: automatic (the host decides from the task's vCPUs). */
  readonly workers_per_version?: number;
}
export interface EndpointStatusResponse {
  readonly endpoint_status: EndpointStatusJson;
}

/** `list`: every model whose serving was ever enabled and that the caller may read. */
export interface EndpointSummaryJson {
  readonly registered_model_name: string;
  readonly state: EndpointState;
  readonly message: string;
}
export interface ListEndpointsResponse {
  readonly endpoints: readonly EndpointSummaryJson[];
}

/** `list-versions`: each live version (READY, not Archived). */
export interface EndpointVersionJson {
  readonly endpoint_version_name: string;
  readonly state: VersionState;
  readonly message: string;
  /** Paths under the API's base URL: by number, by the stages it is the latest of, by its aliases. */
  readonly scoring_uris: readonly string[];
}
export interface ListVersionsResponse {
  readonly endpoint_versions: readonly EndpointVersionJson[];
}

/** `list-version-aliases`: `Staging`/`Production` and `@alias`, with the version holding each. */
export interface VersionAliasJson {
  readonly alias: string;
  readonly endpoint_version_name: string;
}
export interface ListVersionAliasesResponse {
  readonly aliases: readonly VersionAliasJson[];
}

/** `get-version-logs`: the version's most recent log lines, oldest first, joined by newlines. */
export interface VersionLogsResponse {
  readonly logs: string;
}

/** `get-event-history`, newest first; model-level events carry no version. */
export interface ServingEventJson {
  readonly timestamp: number;
  readonly event_type: ServingEventType;
  readonly message: string;
  readonly endpoint_version_name?: string;
}
export interface EventHistoryResponse {
  readonly events: readonly ServingEventJson[];
}

/** One period of a version's request series; latencies are absent for a period without requests. */
export interface MetricPointJson {
  /** The start of the period (ms). */
  readonly timestamp_ms: number;
  readonly requests: number;
  readonly client_errors: number;
  readonly server_errors: number;
  readonly latency_p50_ms?: number;
  readonly latency_p99_ms?: number;
}

export interface FeatureLookupMetricsJson {
  readonly keys: number;
  readonly misses: number;
  readonly failures: number;
  readonly latency_p50_ms?: number;
  readonly latency_p99_ms?: number;
}

/** A version's figures over the whole window, and its series (one point per period, oldest first). */
export interface VersionMetricsJson {
  readonly endpoint_version_name: string;
  readonly requests: number;
  readonly client_errors: number;
  readonly server_errors: number;
  readonly latency_p50_ms?: number;
  readonly latency_p99_ms?: number;
  /** For a version with feature lookups. */
  readonly feature_lookups?: FeatureLookupMetricsJson;
  readonly points: readonly MetricPointJson[];
}
/** `get-metric-history`. */
export interface MetricHistoryResponse {
  readonly start_time_ms: number;
  readonly end_time_ms: number;
  /** The length of each point's period, as used (may be rounded up from the one asked for). */
  readonly period_seconds: number;
  readonly metrics: readonly VersionMetricsJson[];
}

/** `list-compute-sizes`: each preset, and what one served model of that size costs a month. */
export interface ComputeSizeJson {
  readonly name: ComputeSize;
  readonly vcpu: number;
  readonly memory_mib: number;
  /**
   * List price of one served model for a month (730 h) with one live version: its Fargate task,
   * its public IPv4 address in the lean network profile, its Container Insights and host
   * metrics — the figure `npm run cost` prints. Usage (requests, data, logs) is not included.
   */
  readonly estimated_monthly_usd: number;
}
export type NetworkProfileName = 'lean' | 'hardened';
export interface ComputeSizesResponse {
  readonly compute_sizes: readonly ComputeSizeJson[];
  /** The price table the estimates come from: its region and the date it was recorded. */
  readonly prices: { readonly region: string; readonly recorded: string };
  /** The deployment's network profile (lean: each serving task has a public IPv4 address, which is priced). */
  readonly network_profile: NetworkProfileName;
}

/** Each serving route's answer, by its path under `/api/2.0/preview/mlflow/endpoints/`. */
export interface ServingResponses {
  readonly enable: EmptyResponse;
  readonly disable: EmptyResponse;
  readonly 'get-status': EndpointStatusResponse;
  readonly list: ListEndpointsResponse;
  readonly 'list-versions': ListVersionsResponse;
  readonly 'list-version-aliases': ListVersionAliasesResponse;
  readonly 'get-version-logs': VersionLogsResponse;
  readonly 'get-event-history': EventHistoryResponse;
  readonly 'get-metric-history': MetricHistoryResponse;
  readonly 'update-cluster-config': EmptyResponse;
  readonly 'list-compute-sizes': ComputeSizesResponse;
}
