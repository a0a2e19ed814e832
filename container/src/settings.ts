/** The model host's settings, read from the environment in this one place. */
import { readFileSync } from 'node:fs';
import { availableParallelism, hostname, totalmem } from 'node:os';
import { z } from 'zod';
import { type OnlineStores, parseOnlineStores } from '../../core/features/online-stores';
import { DEFAULT_MAX_JSON_DEPTH } from '../../core/shared/json-limits';
import { schemaProblems } from '../../core/shared/schema-problems';
import { type BatchingSettings, DEFAULT_BATCHING } from './batching';
import { type ArchiveLocation, parseArchiveLocation } from './runtimes/env-archive';
import type { PackageIndex } from './runtimes/package-index';

const MIB = 1024 * 1024;

const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);
const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .default('false')
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const Schema = z.object({
  MLSERVE_MODEL_NAME: z.string().min(1),
  REGISTRY_TABLE: z.string().min(1),
  MLSERVE_SOURCE_ROOTS: z.string().min(1),
  PORT: int(8080),
  MLSERVE_BIND: z.string().default('0.0.0.0'),
  MLSERVE_MAX_BODY_BYTES: int(16 * 1024 * 1024, 1),
  MLSERVE_REQUEST_TIMEOUT_MS: int(60_000, 1),
  MLSERVE_DRAIN_TIMEOUT_MS: int(30_000),
  MLSERVE_POLL_INTERVAL_MS: int(1000, 50),
  MLSERVE_ARTIFACT_CACHE: z.string().default('/tmp/mlserve/artifacts'),
  MLSERVE_PYTHON: z.string().default('/usr/bin/python3'),
  MLSERVE_PYTHON_ENV: z.enum(['system', 'per-version']).default('system'),
  MLSERVE_ENV_CACHE: z.string().default('/tmp/mlserve/envs'),
  MLSERVE_UV: z.string().default('uv'),
  MLSERVE_PYTHON_INSTALLER: z.enum(['auto', 'uv', 'pip']).default('auto'),
  MLSERVE_PYTHON_DOWNLOADS: flag,
  MLSERVE_ENV_SYSTEM_PACKAGES: flag,
  MLSERVE_PIP_INDEX_URL: z.url().optional(),
  MLSERVE_PIP_INDEX_URL_SECRET_ARN: z.string().startsWith('arn:').optional(),
  MLSERVE_PIP_FIND_LINKS: z.string().min(1).optional(),
  MLSERVE_PIP_NO_INDEX: flag,
  MLSERVE_ALLOW_CONDA_DEFAULTS: flag,
  MLSERVE_ENV_ARCHIVE: z.string().optional(),
  MLSERVE_RELEASE: z.string().default('unreleased'),
  MLSERVE_WORKER_LOADER: z.enum(['auto', 'sklearn']).default('auto'),
  MLSERVE_WORKER_SCRIPT: z.string().optional(),
  MLSERVE_METRICS_INTERVAL_MS: int(60_000),
  MLSERVE_METRICS_NAMESPACE: z.string().default('mlserve'),
  MLSERVE_HOST_ID: z.string().optional(),
  MLSERVE_REVISION: int(0),
  MLSERVE_ONLINE_STORES: z.string().optional(),
  MLSERVE_FEATURE_TIMEOUT_MS: int(2000, 1),
  MLSERVE_MAX_JSON_DEPTH: int(DEFAULT_MAX_JSON_DEPTH, 2),
  MLSERVE_MEMORY_MIB: z.coerce.number().int().min(64).optional(),
  MLSERVE_REQUEST_MEMORY_MIB: z.coerce.number().int().min(1).optional(),
  MLSERVE_ADMISSION_WAIT_MS: int(10_000),
  MLSERVE_BATCHING: z.enum(['on', 'off']).default('on'),
  MLSERVE_MAX_BATCH_ROWS: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_BATCHING.maxBatchRows),
  MLSERVE_BATCH_WAIT_MS: z.coerce.number().int().min(0).max(100).default(DEFAULT_BATCHING.maxWaitMs),
  MLSERVE_WORKERS_PER_VERSION: z.union([z.literal('auto'), z.coerce.number().int().min(1).max(16)]).default('auto'),
  MLSERVE_CPU_UNITS: z.coerce.number().int().min(128).optional(),
});

/** Share of the task's memory that requests in flight may reserve (the rest: runtime, models, workers). */
const REQUEST_MEMORY_SHARE = 0.4;

/**
 * Share of the task's memory the host's JavaScript heap may grow to, in percent. On Fargate the
 * image sets it (NODE_OPTIONS=--max-old-space-size-percentage in container/Dockerfile: Node
 * reads the container's limit); where no container limit exists, `heapLimitOption` says it.
 */
export const HEAP_SHARE_PERCENT = 50;

/** The Node option giving the host a heap fitting a task of `memoryMiB`. */
export function heapLimitOption(memoryMiB: number): string {
  return `--max-old-space-size=${Math.floor((memoryMiB * HEAP_SHARE_PERCENT) / 100)}`;
}

/** The memory this process may use: the container's cgroup limit where there is one, else the machine's. */
function containerMemoryBytes(): number {
  const files = ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'];
  for (const file of files) {
    try {
      const value = Number(readFileSync(file, 'utf8').trim());
      if (Number.isFinite(value) && value > 0 && value < totalmem()) return value;
    } catch {
      // not this cgroup version
    }
  }
  return totalmem();
}

export interface HostSettings {
  readonly modelName: string;
  readonly registryTable: string;
  readonly sourceRoots: string;
  readonly port: number;
  readonly bind: string;
  readonly maxBodyBytes: number;
  readonly requestTimeoutMs: number;
  readonly drainTimeoutMs: number;
  readonly pollIntervalMs: number;
  readonly artifactCache: string;
  readonly python: {
    readonly interpreter: string;
    readonly mode: 'system' | 'per-version';
    readonly envCache: string;
    readonly uv: string;
    /** What installs requirements: `auto` is uv when it is found, else the image Python's pip. */
    readonly installer: 'auto' | 'uv' | 'pip';
    /** Whether uv may install a Python version the image lacks. */
    readonly pythonDownloads: boolean;
    /** Whether environments also see the image interpreter's packages. */
    readonly systemPackages: boolean;
    /** Where packages come from; `url` may hold credentials (never logged). */
    readonly index: PackageIndex;
    /** A Secrets Manager secret holding the index URL, read at start into `index.url`. */
    readonly indexUrlSecretArn?: string;
    readonly allowDefaultsChannel: boolean;
    /**
     * Where built environments are kept and restored from (MLSERVE_ENV_ARCHIVE,
     * `s3://bucket/prefix`); undefined: each task builds its own. See docs/environments.md.
     */
    readonly archive?: ArchiveLocation;
    readonly loader: 'auto' | 'sklearn';
    /** The worker program; defaults to container/python/mlserve_worker.py beside the sources. */
    readonly workerScript?: string;
  };
  /** How often per-version metrics are written as CloudWatch EMF lines; 0 turns them off. */
  readonly metricsIntervalMs: number;
  readonly metricsNamespace: string;
  readonly hostId: string;
  /** The serving revision this task was deployed for (set by the deploy workflow). */
  readonly revision: number;
  /**
   * The mlserve release this task runs (MLSERVE_RELEASE, set by the deploy workflow: a fingerprint
   * of the image and the tasks' environment); part of every archived environment's key.
   */
  readonly release: string;
  /** The operator's online stores that feature lookups may read (MLSERVE_ONLINE_STORES, JSON). */
  readonly onlineStores: OnlineStores;
  /** How long one request's feature lookups may take before it fails with a 503. */
  readonly featureTimeoutMs: number;
  /** Deepest nesting of arrays and objects a request body may have. */
  readonly maxJsonDepth: number;
  /** The task's memory (MLSERVE_MEMORY_MIB, set by the deploy workflow; else the cgroup limit). */
  readonly memoryBytes: number;
  /** Memory that requests in flight may reserve together (default 40 % of the task's). */
  readonly requestMemoryBytes: number;
  /** How long a request may wait for memory before a 503. */
  readonly admissionWaitMs: number;
  /** Batching of each version's requests, unless the model's serving config says otherwise. */
  readonly batching: BatchingSettings;
  /** Python workers per version, unless the model's serving config says otherwise (default: `autoWorkers`). */
  readonly workersPerVersion: number;
  /** The task's vCPUs (MLSERVE_CPU_UNITS / 1024 from the task definition; else this machine's cores). */
  readonly vcpus: number;
}

/** Most Python workers a version gets when nobody says how many. */
const MAX_AUTO_WORKERS = 8;

/**
 * Python workers per version when nobody says: one per vCPU beyond the first, which the host
 * keeps for HTTP, decoding and batching (with batching, fewer and larger calls beat more and
 * smaller ones); at least one.
 */
export function autoWorkers(vcpus: number): number {
  const cores = Math.floor(vcpus);
  return Math.min(MAX_AUTO_WORKERS, Math.max(1, cores >= 2 ? cores - 1 : cores));
}

/** Reads the settings; throws naming every missing or malformed variable. */
export function readSettings(env: NodeJS.ProcessEnv = process.env): HostSettings {
  const parsed = Schema.safeParse(env);
  if (!parsed.success) {
    const problems = schemaProblems(parsed.error);
    throw new Error(`Invalid model host settings: ${problems}`);
  }
  const e = parsed.data;
  if (e.MLSERVE_PIP_INDEX_URL && e.MLSERVE_PIP_INDEX_URL_SECRET_ARN) {
    throw new Error(
      'Invalid model host settings: set MLSERVE_PIP_INDEX_URL or MLSERVE_PIP_INDEX_URL_SECRET_ARN, not both',
    );
  }
  const onlineStores = parseOnlineStores(e.MLSERVE_ONLINE_STORES);
  const vcpus = e.MLSERVE_CPU_UNITS !== undefined ? e.MLSERVE_CPU_UNITS / 1024 : availableParallelism();
  const memoryBytes = e.MLSERVE_MEMORY_MIB !== undefined ? e.MLSERVE_MEMORY_MIB * MIB : containerMemoryBytes();
  const requestMemoryBytes =
    e.MLSERVE_REQUEST_MEMORY_MIB !== undefined
      ? e.MLSERVE_REQUEST_MEMORY_MIB * MIB
      : Math.floor(memoryBytes * REQUEST_MEMORY_SHARE);
  return {
    modelName: e.MLSERVE_MODEL_NAME,
    registryTable: e.REGISTRY_TABLE,
    sourceRoots: e.MLSERVE_SOURCE_ROOTS,
    port: e.PORT,
    bind: e.MLSERVE_BIND,
    maxBodyBytes: e.MLSERVE_MAX_BODY_BYTES,
    requestTimeoutMs: e.MLSERVE_REQUEST_TIMEOUT_MS,
    drainTimeoutMs: e.MLSERVE_DRAIN_TIMEOUT_MS,
    pollIntervalMs: e.MLSERVE_POLL_INTERVAL_MS,
    artifactCache: e.MLSERVE_ARTIFACT_CACHE,
    python: {
      interpreter: e.MLSERVE_PYTHON,
      mode: e.MLSERVE_PYTHON_ENV,
      envCache: e.MLSERVE_ENV_CACHE,
      uv: e.MLSERVE_UV,
      installer: e.MLSERVE_PYTHON_INSTALLER,
      pythonDownloads: e.MLSERVE_PYTHON_DOWNLOADS,
      systemPackages: e.MLSERVE_ENV_SYSTEM_PACKAGES,
      index: {
        url: e.MLSERVE_PIP_INDEX_URL,
        findLinks: e.MLSERVE_PIP_FIND_LINKS,
        noIndex: e.MLSERVE_PIP_NO_INDEX,
      },
      indexUrlSecretArn: e.MLSERVE_PIP_INDEX_URL_SECRET_ARN,
      allowDefaultsChannel: e.MLSERVE_ALLOW_CONDA_DEFAULTS,
      archive: e.MLSERVE_ENV_ARCHIVE ? parseArchiveLocation(e.MLSERVE_ENV_ARCHIVE) : undefined,
      loader: e.MLSERVE_WORKER_LOADER,
      workerScript: e.MLSERVE_WORKER_SCRIPT,
    },
    metricsIntervalMs: e.MLSERVE_METRICS_INTERVAL_MS,
    metricsNamespace: e.MLSERVE_METRICS_NAMESPACE,
    hostId: e.MLSERVE_HOST_ID ?? `${hostname()}:${process.pid}`,
    revision: e.MLSERVE_REVISION,
    release: e.MLSERVE_RELEASE,
    onlineStores,
    featureTimeoutMs: e.MLSERVE_FEATURE_TIMEOUT_MS,
    maxJsonDepth: e.MLSERVE_MAX_JSON_DEPTH,
    memoryBytes,
    requestMemoryBytes,
    admissionWaitMs: e.MLSERVE_ADMISSION_WAIT_MS,
    batching: {
      enabled: e.MLSERVE_BATCHING === 'on',
      maxBatchRows: e.MLSERVE_MAX_BATCH_ROWS,
      maxWaitMs: e.MLSERVE_BATCH_WAIT_MS,
    },
    workersPerVersion: e.MLSERVE_WORKERS_PER_VERSION === 'auto' ? autoWorkers(vcpus) : e.MLSERVE_WORKERS_PER_VERSION,
    vcpus,
  };
}
