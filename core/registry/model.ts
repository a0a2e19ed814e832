/** The registry's domain types: what a registered model and a model version are. */

import { STAGES, type Stage } from '../shared/stages';

export { STAGES, type Stage };

export const VERSION_STATUSES = ['PENDING_REGISTRATION', 'FAILED_REGISTRATION', 'READY'] as const;
export type ModelVersionStatus = (typeof VERSION_STATUSES)[number];

export type Tags = Record<string, string>;

export interface RegisteredModel {
  readonly name: string;
  readonly description: string;
  readonly creationTimestamp: number;
  readonly lastUpdatedTimestamp: number;
  readonly tags: Tags;
  /** alias -> version number */
  readonly aliases: Record<string, number>;
  /** Highest version number ever given out (deleted versions keep their number). */
  readonly latestVersionNumber: number;
  /** Serving settings, once serving was ever enabled. */
  readonly serving?: ServingConfig;
  /** Who may do what with the model: principal -> permission level (CAN_READ … CAN_MANAGE). */
  readonly permissions: Readonly<Record<string, string>>;
}

/** What the artifact check learned from the version's `MLmodel`. */
export interface ArtifactInfo {
  readonly flavors: Record<string, unknown>;
  readonly mlflowVersion?: string;
  readonly signature?: {
    readonly inputs?: string;
    readonly outputs?: string;
    readonly params?: string;
  };
  /** Relative path of the saved input example inside the artifact, when one was saved. */
  readonly inputExamplePath?: string;
  /** Relative path of the serving input example (MLflow >= 2.12), when one was saved. */
  readonly servingInputExamplePath?: string;
  /** What MLflow saved as the input example (`dataframe`, `ndarray`, `json_object`, `sparse_matrix_csr`…). */
  readonly inputExampleType?: string;
  /** Relative path of a feature spec found in the artifact, when there is one. */
  readonly featureSpecPath?: string;
  /**
   * For a model logged by Databricks' FeatureStoreClient: the raw model's directory inside the
   * artifact, which is what gets served (and whose flavors `flavors` lists).
   */
  readonly rawModelPath?: string;
  readonly modelUuid?: string;
}

export interface ModelVersion {
  readonly name: string;
  readonly version: number;
  readonly creationTimestamp: number;
  readonly lastUpdatedTimestamp: number;
  readonly userId?: string;
  readonly currentStage: Stage;
  readonly description: string;
  readonly source: string;
  readonly runId: string;
  readonly runLink?: string;
  readonly status: ModelVersionStatus;
  readonly statusMessage?: string;
  readonly tags: Tags;
  readonly aliases: readonly string[];
  readonly artifact?: ArtifactInfo;
}

/** Where a version stands in the model host that serves it. */
export const VERSION_SERVING_STATES = ['LOADING', 'READY', 'FAILED', 'UNLOADED'] as const;
export type VersionServingState = (typeof VERSION_SERVING_STATES)[number];

export interface VersionServingStatus {
  readonly name: string;
  readonly version: number;
  readonly state: VersionServingState;
  readonly message: string;
  /** The flavor the version is served with (`python_function`, `onnx`). */
  readonly flavor?: string;
  /** When the version became READY (ms). */
  readonly loadedAt?: number;
  /** When this state was reported (ms). */
  readonly updatedAt: number;
  /** Which host reported it (task or process id). */
  readonly host?: string;
  /** The serving revision of the task that reported it. */
  readonly revision?: number;
}

/** Kinds of serving events; model-level events carry no version. */
export const SERVING_EVENT_TYPES = [
  'VERSION_LOADING',
  'VERSION_LOADED',
  'VERSION_LOAD_FAILED',
  'VERSION_UNLOADED',
  'WORKER_RESTARTED',
  'WORKER_EXITED',
  'ENV_BUILDING',
  'ENV_RESTORED',
  'ENV_BUILT',
  'ENV_BUILD_FAILED',
  'HOST_STARTED',
  'HOST_STOPPED',
  'SERVING_ENABLED',
  'SERVING_DISABLED',
  'SERVING_RECONFIGURED',
  'MODEL_DEPLOYING',
  'MODEL_READY',
  'MODEL_DEPLOY_FAILED',
  'MODEL_STOPPED',
  'TASK_STOPPED',
] as const;
export type ServingEventType = (typeof SERVING_EVENT_TYPES)[number];

export interface ServingEvent {
  readonly name: string;
  readonly version?: number;
  readonly time: number;
  readonly type: ServingEventType;
  readonly message: string;
}

/** Compute presets for a model's serving task (Fargate CPU units and memory). */
export const COMPUTE_SIZES = {
  Small: { cpu: 512, memoryMiB: 1024 },
  Medium: { cpu: 1024, memoryMiB: 4096 },
  Large: { cpu: 2048, memoryMiB: 8192 },
  XLarge: { cpu: 4096, memoryMiB: 16384 },
} as const;
export type ComputeSize = keyof typeof COMPUTE_SIZES;
export const DEFAULT_COMPUTE_SIZE: ComputeSize = 'Small';

/**
 * How a serving task coalesces concurrent requests to one version into one runtime call. Each
 * field is the model owner's choice; an absent one is the model host's default.
 */
export interface ServingBatching {
  readonly enabled?: boolean;
  /** Most rows in one coalesced call. */
  readonly maxBatchRows?: number;
  /** How long a request may wait for others to join its call, in ms. */
  readonly maxWaitMs?: number;
}

/** A change to batching: a value sets a field, null clears it (back to the host's default), absent leaves it. */
export type ServingBatchingChange = { readonly [K in keyof ServingBatching]?: ServingBatching[K] | null };

/** The ranges of the settings a running task applies live (whole numbers, bounds included). */
export const SERVING_SETTING_LIMITS = {
  maxBatchRows: { min: 1, max: 10_000 },
  maxWaitMs: { min: 0, max: 100 },
  workersPerVersion: { min: 1, max: 16 },
} as const;

/** What a model owner asked for: serving on or off, its compute size and task tags, batching and workers. */
export interface ServingConfig {
  readonly enabled: boolean;
  readonly computeSize: ComputeSize;
  readonly tags: Tags;
  /** Bumped by every change that needs a new task (enable, size, tags); not by batching or workers. */
  readonly revision: number;
  /** The model's listener-rule priority (unique, handed out at first enable). */
  readonly priority?: number;
  /** Request batching; absent: the host's defaults. The running task applies changes live. */
  readonly batching?: ServingBatching;
  /** Worker processes per version; absent: the host decides from the task's vCPUs. Applied live. */
  readonly workersPerVersion?: number;
}

/** A model's serving state as the deploy workflow records it. */
export const MODEL_SERVING_STATES = ['PENDING', 'READY', 'FAILED', 'STOPPED'] as const;
export type ModelServingState = (typeof MODEL_SERVING_STATES)[number];

export interface ModelServingStatus {
  readonly name: string;
  readonly state: ModelServingState;
  readonly message: string;
  /** ISO time of the last change. */
  readonly updatedAt?: string;
  readonly deployedRevision?: number;
}

/** What the serving task last reported: which revision it runs and whether every live version is READY. */
export interface HostReport {
  readonly revision: number;
  readonly allReady: boolean;
  readonly live: number;
  readonly ready: number;
  readonly host: string;
  readonly updatedAt: string;
}

export interface Page<T> {
  readonly items: T[];
  readonly nextPageToken?: string;
}

/** Parses a stage in any case to its canonical spelling, or undefined when it is not a stage. */
export function canonicalStage(input: string): Stage | undefined {
  const lower = input.trim().toLowerCase();
  return STAGES.find((s) => s.toLowerCase() === lower);
}
