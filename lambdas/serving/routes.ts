/**
 * The serving API under /api/2.0/preview/mlflow/endpoints/: the retired product's paths, so
 * its users' scripts keep working. Transport only: state lives in the registry.
 */
import { z } from 'zod';
import { AccessControl, type Requirement } from '../../core/auth/access';
import type { PermissionLevel } from '../../core/auth/levels';
import {
  modelName,
  servingBatching,
  tag,
  tagKey,
  versionNumber,
  workersPerVersion,
} from '../../core/registry/identifiers';
import {
  COMPUTE_SIZES,
  type ComputeSize,
  type ModelServingState,
  type ModelVersion,
  type ServingBatching,
  type VersionServingStatus,
} from '../../core/registry/model';
import type { ModelRegistry } from '../../core/registry/registry';
import type { ServingControl } from '../../core/serving/serving';
import { invalidParameter } from '../../core/shared/errors';
import { perModelCost, total } from '../../infra/cost/estimate';
import { PRICES } from '../../infra/cost/prices';
import { routesOf, type TableRoute } from '../shared/routing';
import type { ServingObservability } from './observability';
import type {
  BatchingJson,
  ComputeSizeJson,
  EndpointState,
  NetworkProfileName,
  ServingResponses,
  VersionMetricsJson,
  VersionState,
} from './responses';

export const SERVING_PREFIX = '/api/2.0/preview/mlflow/endpoints/';

const registeredModelName = modelName('registered_model_name');
const model = z.object({ registered_model_name: registeredModelName });
const versionName = versionNumber('endpoint_version_name');
const intLike = z
  .union([z.number().int(), z.string().regex(/^-?[0-9]+$/)])
  .transform(Number)
  .optional();

export interface ServingDeps {
  readonly registry: ModelRegistry;
  readonly serving: ServingControl;
  readonly observability: ServingObservability;
  readonly access: AccessControl;
  /**
   * The deployment's network profile, which decides whether serving tasks have public IPv4
   * addresses (lean) and so what a served model costs (MLSERVE_NETWORK_PROFILE on AWS; the twin
   * prices the lean profile).
   */
  readonly networkProfile?: NetworkProfileName;
}

type ServingRoute = TableRoute<ServingDeps>;
/** A route whose `run` answers what `ServingResponses` (responses.ts) declares for its path. */
const route = routesOf<ServingDeps, ServingResponses>();

const on =
  (level: PermissionLevel) =>
  (p: { registered_model_name: string }): Requirement => ({ kind: 'model', model: p.registered_model_name, level });

const VERSION_STATE = {
  LOADING: 'VERSION_STATE_PENDING',
  READY: 'VERSION_STATE_READY',
  FAILED: 'VERSION_STATE_FAILED',
  UNLOADED: 'VERSION_STATE_UNLOADED',
} as const satisfies Record<string, VersionState>;

const endpointState = (state: ModelServingState): EndpointState => `ENDPOINT_STATE_${state}`;

/** Most points a metric series may have (the window divided by the period). */
export const MAX_METRIC_POINTS = 1440;
/** The default period of a series: the window in 60 parts, rounded up to whole minutes (at least one). */
export function defaultPeriodSeconds(startMs: number, endMs: number): number {
  return Math.max(60, Math.ceil((endMs - startMs) / 1000 / 60 / 60) * 60);
}

/** Each compute preset with what one served model of that size costs a month (`npm run cost`'s figure). */
export function computeSizes(profile: NetworkProfileName): ComputeSizeJson[] {
  return (Object.keys(COMPUTE_SIZES) as ComputeSize[]).map((name) => ({
    name,
    vcpu: COMPUTE_SIZES[name].cpu / 1024,
    memory_mib: COMPUTE_SIZES[name].memoryMiB,
    // Lean tasks run in public subnets with a public IPv4 address; hardened ones behind NAT.
    estimated_monthly_usd: total(perModelCost(name, profile === 'lean')),
  }));
}

/** The URIs that score a version now: its number, the stages it holds the latest of, its aliases. */
export function scoringUris(name: string, version: ModelVersion, all: readonly ModelVersion[]): string[] {
  const base = `/model/${encodeURIComponent(name)}`;
  const uris = [`${base}/${version.version}/invocations`];
  for (const stage of ['Staging', 'Production'] as const) {
    const latest = all.filter((v) => v.currentStage === stage).sort((a, b) => b.version - a.version)[0];
    if (latest?.version === version.version) uris.push(`${base}/${stage}/invocations`);
  }
  for (const alias of version.aliases) uris.push(`${base}/@${alias}/invocations`);
  return uris;
}

/** The batching fields a model's owner set, as the API names them; undefined when none is set. */
export function batchingJson(batching: ServingBatching | undefined): BatchingJson | undefined {
  if (!batching) return undefined;
  const json: BatchingJson = {
    ...(batching.enabled === undefined ? {} : { enabled: batching.enabled }),
    ...(batching.maxBatchRows === undefined ? {} : { max_batch_rows: batching.maxBatchRows }),
    ...(batching.maxWaitMs === undefined ? {} : { max_wait_ms: batching.maxWaitMs }),
  };
  return Object.keys(json).length > 0 ? json : undefined;
}

function versionState(
  enabled: boolean,
  status: VersionServingStatus | undefined,
): { state: VersionState; message: string } {
  if (!enabled) return { state: VERSION_STATE.UNLOADED, message: 'serving is not enabled' };
  if (!status) return { state: 'VERSION_STATE_PENDING', message: 'waiting for the serving task' };
  return { state: VERSION_STATE[status.state], message: status.message };
}

export const SERVING_ROUTES: readonly ServingRoute[] = [
  route({
    method: 'POST',
    path: 'enable',
    params: model,
    access: on('CAN_MANAGE'),
    run: async ({ serving }, p) => {
      await serving.enableServing(p.registered_model_name);
      return {};
    },
  }),
  route({
    method: 'POST',
    path: 'disable',
    params: model,
    access: on('CAN_MANAGE'),
    run: async ({ serving }, p) => {
      await serving.disableServing(p.registered_model_name);
      return {};
    },
  }),
  route({
    method: 'GET',
    path: 'get-status',
    params: model,
    access: on('CAN_READ'),
    run: async ({ serving }, p) => {
      const status = await serving.modelServingStatus(p.registered_model_name);
      const batching = batchingJson(status.config?.batching);
      const workers = status.config?.workersPerVersion;
      return {
        endpoint_status: {
          registered_model_name: status.name,
          state: endpointState(status.state),
          message: status.message,
          enabled: status.config?.enabled === true,
          ...(status.config
            ? {
                compute_size: status.config.computeSize,
                tags: Object.entries(status.config.tags).map(([key, value]) => ({ key, value })),
              }
            : {}),
          ...(batching ? { batching } : {}),
          ...(workers === undefined ? {} : { workers_per_version: workers }),
        },
      };
    },
  }),
  route({
    method: 'GET',
    path: 'list',
    params: z.object({}),
    access: () => ({ kind: 'authenticated' }),
    run: async ({ serving }, _p, caller) => {
      const models = (await serving.servingModels()).filter((m) => AccessControl.canRead(caller, m.permissions));
      const endpoints = await Promise.all(
        models.map(async (m) => {
          const status = await serving.modelServingStatus(m.name);
          return { registered_model_name: m.name, state: endpointState(status.state), message: status.message };
        }),
      );
      return { endpoints };
    },
  }),
  route({
    method: 'GET',
    path: 'list-versions',
    params: model,
    access: on('CAN_READ'),
    run: async ({ serving }, p) => {
      const name = p.registered_model_name;
      const [{ model: m, versions }, statuses] = await Promise.all([
        serving.servingSnapshot(name),
        serving.servingStatuses(name),
      ]);
      const live = versions.filter((v) => v.status === 'READY' && v.currentStage !== 'Archived');
      return {
        endpoint_versions: live.map((v) => ({
          endpoint_version_name: String(v.version),
          ...versionState(
            m.serving?.enabled === true,
            statuses.find((s) => s.version === v.version),
          ),
          scoring_uris: scoringUris(name, v, versions),
        })),
      };
    },
  }),
  route({
    method: 'GET',
    path: 'list-version-aliases',
    params: model,
    access: on('CAN_READ'),
    run: async ({ serving }, p) => {
      const { model: m, versions } = await serving.servingSnapshot(p.registered_model_name);
      const aliases: { alias: string; endpoint_version_name: string }[] = [];
      for (const stage of ['Staging', 'Production'] as const) {
        const latest = versions.filter((v) => v.currentStage === stage).sort((a, b) => b.version - a.version)[0];
        if (latest) aliases.push({ alias: stage, endpoint_version_name: String(latest.version) });
      }
      for (const [alias, version] of Object.entries(m.aliases).sort()) {
        aliases.push({ alias: `@${alias}`, endpoint_version_name: String(version) });
      }
      return { aliases };
    },
  }),
  route({
    method: 'GET',
    path: 'get-version-logs',
    params: z.object({
      registered_model_name: registeredModelName,
      endpoint_version_name: versionName,
      max_lines: intLike,
    }),
    access: on('CAN_READ'),
    run: async ({ registry, observability }, p) => {
      await registry.getModelVersion(p.registered_model_name, p.endpoint_version_name);
      const lines = await observability.versionLogs(
        p.registered_model_name,
        p.endpoint_version_name,
        Math.min(Math.max(p.max_lines ?? 200, 1), 10_000),
      );
      return { logs: lines.join('\n') };
    },
  }),
  route({
    method: 'GET',
    path: 'get-event-history',
    params: z.object({
      registered_model_name: registeredModelName,
      endpoint_version_name: versionName.optional(),
      max_results: intLike,
    }),
    access: on('CAN_READ'),
    run: async ({ serving }, p) => {
      const events = await serving.servingEvents(p.registered_model_name, {
        version: p.endpoint_version_name,
        limit: Math.min(Math.max(p.max_results ?? 100, 1), 1000),
      });
      return {
        events: events.map((e) => ({
          timestamp: e.time,
          event_type: e.type,
          message: e.message,
          ...(e.version === undefined ? {} : { endpoint_version_name: String(e.version) }),
        })),
      };
    },
  }),
  route({
    method: 'GET',
    path: 'get-metric-history',
    params: z.object({
      registered_model_name: registeredModelName,
      start_time_ms: intLike,
      end_time_ms: intLike,
      period_seconds: intLike,
    }),
    access: on('CAN_READ'),
    run: async ({ serving, observability }, p) => {
      const end = p.end_time_ms ?? Date.now();
      const start = p.start_time_ms ?? end - 3600_000;
      if (end <= start) {
        throw invalidParameter(`end_time_ms (${end}) must be after start_time_ms (${start}).`);
      }
      const asked = p.period_seconds ?? defaultPeriodSeconds(start, end);
      if (asked < 1) throw invalidParameter(`period_seconds must be at least 1; got ${asked}.`);
      if ((end - start) / 1000 / asked > MAX_METRIC_POINTS) {
        throw invalidParameter(
          `A window of ${Math.ceil((end - start) / 1000)} s in periods of ${asked} s is more than ${MAX_METRIC_POINTS} points; ` +
            `ask for a period of at least ${Math.ceil((end - start) / 1000 / MAX_METRIC_POINTS)} s or a shorter window.`,
        );
      }
      const { versions } = await serving.servingSnapshot(p.registered_model_name);
      const live = versions.filter((v) => v.status === 'READY' && v.currentStage !== 'Archived').map((v) => v.version);
      const history = await observability.metrics(p.registered_model_name, live, {
        startMs: start,
        endMs: end,
        periodSeconds: asked,
      });
      return {
        start_time_ms: start,
        end_time_ms: end,
        period_seconds: history.periodSeconds,
        metrics: history.versions.map(
          (w): VersionMetricsJson => ({
            endpoint_version_name: String(w.version),
            requests: w.requests,
            client_errors: w.clientErrors,
            server_errors: w.serverErrors,
            latency_p50_ms: w.latencyP50Ms,
            latency_p99_ms: w.latencyP99Ms,
            ...(w.featureLookups
              ? {
                  feature_lookups: {
                    keys: w.featureLookups.keys,
                    misses: w.featureLookups.misses,
                    failures: w.featureLookups.failures,
                    latency_p50_ms: w.featureLookups.p50Ms,
                    latency_p99_ms: w.featureLookups.p99Ms,
                  },
                }
              : {}),
            points: w.points.map((point) => ({
              timestamp_ms: point.timestampMs,
              requests: point.requests,
              client_errors: point.clientErrors,
              server_errors: point.serverErrors,
              latency_p50_ms: point.latencyP50Ms,
              latency_p99_ms: point.latencyP99Ms,
            })),
          }),
        ),
      };
    },
  }),
  route({
    method: 'POST',
    path: 'update-cluster-config',
    params: z.object({
      registered_model_name: registeredModelName,
      compute_size: z.string().min(1).optional(),
      tags_to_set: z.array(tag()).optional(),
      tags_to_delete: z.array(tagKey()).optional(),
      batching: servingBatching(),
      workers_per_version: workersPerVersion(),
    }),
    access: on('CAN_MANAGE'),
    run: async ({ serving }, p) => {
      await serving.updateServingConfig(p.registered_model_name, {
        computeSize: p.compute_size,
        tagsToSet: p.tags_to_set,
        tagsToDelete: p.tags_to_delete,
        batching: p.batching,
        workersPerVersion: p.workers_per_version,
      });
      return {};
    },
  }),
  route({
    method: 'GET',
    path: 'list-compute-sizes',
    params: z.object({}),
    access: () => ({ kind: 'authenticated' }),
    run: async ({ networkProfile = 'lean' }) => ({
      compute_sizes: computeSizes(networkProfile),
      prices: { region: PRICES.region, recorded: PRICES.recorded },
      network_profile: networkProfile,
    }),
  }),
];
