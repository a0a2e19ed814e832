/**
 * The model host: serves every live version of one registered model (READY and not
 * archived), following the registry while it runs. It polls the registry, loads versions
 * that appear, unloads versions that are archived or deleted, resolves scoring references
 * (version, stage, @alias) against what the registry says now, and reports each version's
 * serving state and events back to the registry.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SourcePolicy } from '../../core/registry';
import type { ModelVersion, RegisteredModel, ServingEventType } from '../../core/registry/model';
import type { BatchingSettings } from './batching';
import { StoreClients } from './features/load';
import { RefResolver } from './ref-resolver';
import { RefRoutes, registryHolders } from './ref-routes';
import { createRuntime, workerPoolOf } from './runtimes/create-runtime';
import type { EnvironmentStore } from './runtimes/env-archive';
import type { LoadSpec, ModelRuntime } from './runtimes/runtime';
import { ServedVersion } from './served-version';
import type { HostServing, ServingSnapshot } from './serving-port';
import type { HostSettings } from './settings';
import { fetchVersion } from './version-files';

export interface HostDeps {
  readonly serving: HostServing;
  readonly sources: SourcePolicy;
  readonly settings: HostSettings;
  readonly logger: Logger;
  readonly s3?: () => S3Client;
  /** Where built Python environments are shared between tasks (MLSERVE_ENV_ARCHIVE). */
  readonly environments?: EnvironmentStore;
}

/** The registry as last read: the model's serving config carries the batching and workers applied live. */
interface Snapshot extends ServingSnapshot {
  /** When it was read (ms). */
  readonly at: number;
}

/** How many versions load at once (each Python worker imports its libraries on load). */
const PARALLEL_LOADS = 2;
/** Retry a version whose load failed after this long, doubling up to the maximum. */
const RETRY_INITIAL_MS = 30_000;
const RETRY_MAX_MS = 15 * 60_000;

/** How often the host re-sends an unchanged report. */
const REPORT_HEARTBEAT_MS = 3000;

const isLive = (v: ModelVersion) => v.status === 'READY' && v.currentStage !== 'Archived';

export class ModelHost {
  private readonly served = new Map<number, ServedVersion>();
  private snapshot?: Snapshot;
  private missingModel = false;
  private timer?: NodeJS.Timeout;
  private syncing?: Promise<void>;
  private loads = 0;
  private readonly loadQueue: (() => void)[] = [];
  private stopped = false;
  private lastReport?: { key: string; at: number };
  private readonly storeClients = new StoreClients();
  /** Which version answers each stage and alias now (the old holder until the new one is READY). */
  private readonly routes = new RefRoutes();
  private readonly resolver = new RefResolver();

  constructor(private readonly deps: HostDeps) {}

  get modelName(): string {
    return this.deps.settings.modelName;
  }

  /** Syncs once with the registry, then keeps following it. */
  async start(): Promise<void> {
    await this.event('HOST_STARTED', `host ${this.deps.settings.hostId} started`);
    await this.sync();
    this.timer = setInterval(() => {
      void this.sync();
    }, this.deps.settings.pollIntervalMs);
    this.timer.unref();
  }

  /** Reads the registry and converges the served versions to its live versions. */
  sync(): Promise<void> {
    this.syncing ??= this.syncOnce().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    if (this.stopped) return;
    let snapshot: Snapshot;
    try {
      const read = await this.deps.serving.servingSnapshot(this.modelName);
      snapshot = { model: read.model, versions: read.versions, serving: read.serving, at: Date.now() };
      this.missingModel = false;
    } catch (error) {
      if ((error as { errorCode?: string }).errorCode === 'RESOURCE_DOES_NOT_EXIST') {
        this.missingModel = true;
        snapshot = { model: emptyModel(this.modelName), versions: [], at: Date.now() };
      } else {
        this.deps.logger.warn('registry read failed; serving from the last snapshot', { error: error as Error });
        return;
      }
    }
    this.snapshot = snapshot;
    for (const version of snapshot.versions.filter(isLive)) {
      const served = this.served.get(version.version);
      if (!served) {
        const fresh = new ServedVersion(
          this.modelName,
          version.version,
          () => this.batching(),
          (reason) => this.deps.logger.warn('serving one request per call', { version: version.version, reason }),
        );
        this.served.set(version.version, fresh);
        void this.load(fresh, version);
      } else if (served.state === 'FAILED' && served.retryAt !== undefined && Date.now() >= served.retryAt) {
        served.retryAt = undefined;
        void this.load(served, version);
      }
    }
    this.settleRoutes();
    this.resizePools();
    await this.report();
  }

  /**
   * Moves stages and aliases to the versions the registry gives them once those can answer,
   * then unloads versions that are neither live nor still answering a ref.
   */
  private settleRoutes(): void {
    const snapshot = this.snapshot;
    if (!snapshot) return;
    this.routes.update(registryHolders(snapshot.model, snapshot.versions), (v) => this.served.get(v)?.state);
    const live = new Set(snapshot.versions.filter(isLive).map((v) => v.version));
    const handingOver = this.routes.handingOver();
    for (const [number, served] of this.served) {
      if (live.has(number) || (handingOver.has(number) && served.state === 'READY')) continue;
      this.served.delete(number);
      void this.unload(served, archivedOrGone(snapshot, number));
    }
  }

  /**
   * Tells the registry which revision this host runs and whether every live version has
   * settled (READY, or FAILED with its reason): what the deploy workflow waits for. Written
   * when it changes, and every few seconds as a heartbeat (the workflow counts only reports
   * written after it began waiting).
   */
  private async report(): Promise<void> {
    if (this.missingModel) return;
    const all = [...this.served.values()];
    const ready = all.filter((s) => s.state === 'READY').length;
    const allReady = this.health().healthy;
    const key = `${this.deps.settings.revision}:${allReady}:${all.length}:${ready}`;
    if (this.lastReport?.key === key && Date.now() - this.lastReport.at < REPORT_HEARTBEAT_MS) return;
    try {
      await this.deps.serving.recordHostReport(this.modelName, {
        revision: this.deps.settings.revision,
        allReady,
        live: all.length,
        ready,
        host: this.deps.settings.hostId,
        updatedAt: new Date().toISOString(),
      });
      this.lastReport = { key, at: Date.now() };
    } catch (error) {
      this.deps.logger.warn('could not report to the registry', { error: error as Error });
    }
  }

  private async load(served: ServedVersion, version: ModelVersion): Promise<void> {
    await this.loadSlot();
    try {
      if (this.stopped || this.served.get(version.version) !== served) return;
      await this.setState(served, 'LOADING', 'loading');
      this.deps.logger.info('loading version', { version: version.version, source: version.source });
      await this.event('VERSION_LOADING', `loading version ${version.version} from ${version.source}`, version.version);
      const { spec, features } = await fetchVersion(version, {
        modelName: this.modelName,
        sources: this.deps.sources,
        settings: this.deps.settings,
        storeClients: this.storeClients,
        s3: this.deps.s3,
      });
      const runtime = await this.createRuntime(spec, served);
      await runtime.load();
      if (this.stopped || this.served.get(version.version) !== served) {
        await runtime.unload();
        return;
      }
      served.runtime = runtime;
      served.features = features;
      served.flavor = runtime.flavor;
      served.mlflowVersion = spec.artifact.mlflowVersion;
      served.loadedAt = Date.now();
      served.failures = 0;
      this.deps.logger.info('version loaded', { version: version.version, flavor: runtime.flavor });
      await this.setState(served, 'READY', '');
      this.settleRoutes();
      await this.event('VERSION_LOADED', `version ${version.version} serves with ${runtime.flavor}`, version.version);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      served.failures++;
      served.retryAt = Date.now() + Math.min(RETRY_MAX_MS, RETRY_INITIAL_MS * 2 ** (served.failures - 1));
      this.deps.logger.error('version failed to load', { version: version.version, error: message });
      await this.setState(served, 'FAILED', message);
      this.settleRoutes();
      await this.event('VERSION_LOAD_FAILED', message, version.version);
    } finally {
      this.releaseSlot();
    }
  }

  private createRuntime(spec: LoadSpec, served: ServedVersion): Promise<ModelRuntime> {
    return createRuntime(spec, {
      python: this.deps.settings.python,
      workers: this.workersPerVersion(),
      environments: this.deps.environments,
      logger: this.deps.logger.createChild({ persistentKeys: { version: spec.version } }),
      onEnvironmentEvent: (e) => void this.event(e.type, e.message, spec.version),
      onWorkerEvent: (e) => {
        // With a pool, the version serves on while any of its workers does.
        const serving = served.runtime?.ready() === true;
        if (e.type === 'WORKER_EXITED') {
          if (!serving) void this.setState(served, 'LOADING', `worker restarting: ${e.message}`);
          void this.event('WORKER_EXITED', e.message, spec.version);
        } else if (e.type === 'WORKER_RESTARTED') {
          if (served.state === 'LOADING' && served.runtime) void this.setState(served, 'READY', '');
          void this.event('WORKER_RESTARTED', e.message, spec.version);
        } else if (e.type === 'WORKER_FAILED' && !serving) {
          void this.setState(served, 'LOADING', `worker restart failed: ${e.message}`);
        }
      },
    });
  }

  /** The model's own batching settings over the host's defaults. */
  private batching(): BatchingSettings {
    const own = this.snapshot?.serving?.batching ?? {};
    const defaults = this.deps.settings.batching;
    return {
      enabled: own.enabled ?? defaults.enabled,
      maxBatchRows: own.maxBatchRows ?? defaults.maxBatchRows,
      maxWaitMs: own.maxWaitMs ?? defaults.maxWaitMs,
    };
  }

  /** Python workers per version: the model's setting, else the host's (from the task's vCPUs). */
  private workersPerVersion(): number {
    return this.snapshot?.serving?.workersPerVersion ?? this.deps.settings.workersPerVersion;
  }

  /** Resizes every Python version's pool to the model's current worker setting. */
  private resizePools(): void {
    const workers = this.workersPerVersion();
    for (const served of this.served.values()) {
      const pool = workerPoolOf(served.runtime);
      if (pool && pool.workerCount !== workers) {
        this.deps.logger.info('resizing worker pool', { version: served.version, workers });
        void pool.resize(workers);
      }
    }
  }

  /** Waits for the version's requests in flight (bounded by the request timeout), then stops its runtime. */
  private async unload(served: ServedVersion, why: string, options: { stopping?: boolean } = {}): Promise<void> {
    if (!(await served.drained(this.deps.settings.requestTimeoutMs))) {
      this.deps.logger.warn('unloading with requests still in flight', { version: served.version });
    }
    try {
      await served.runtime?.unload();
    } catch (error) {
      this.deps.logger.warn('unload failed', { version: served.version, error: error as Error });
    }
    served.runtime = undefined;
    this.deps.logger.info('version unloaded', { version: served.version, reason: why });
    await this.setState(served, 'UNLOADED', why, options);
    await this.event('VERSION_UNLOADED', `version ${served.version} unloaded: ${why}`, served.version);
  }

  private loadSlot(): Promise<void> {
    if (this.loads < PARALLEL_LOADS) {
      this.loads++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.loadQueue.push(resolve));
  }

  private releaseSlot(): void {
    const next = this.loadQueue.shift();
    if (next) next();
    else this.loads--;
  }

  /**
   * Records a version's state. A report never overwrites one from a task of a newer serving
   * revision, and a stopping host only replaces its own reports, so the task that replaced
   * this one keeps its word.
   */
  private async setState(
    served: ServedVersion,
    state: ServedVersion['state'],
    message: string,
    options: { stopping?: boolean } = {},
  ): Promise<void> {
    served.state = state;
    served.message = message;
    try {
      await this.deps.serving.recordServingStatus(
        {
          name: this.modelName,
          version: served.version,
          state,
          message,
          flavor: served.flavor,
          loadedAt: state === 'READY' ? served.loadedAt : undefined,
          updatedAt: Date.now(),
          host: this.deps.settings.hostId,
          revision: this.deps.settings.revision,
        },
        { onlyOwnReport: options.stopping === true },
      );
    } catch (error) {
      this.deps.logger.warn('could not record serving state', { version: served.version, error: error as Error });
    }
  }

  private async event(type: ServingEventType, message: string, version?: number): Promise<void> {
    try {
      await this.deps.serving.recordServingEvent({ name: this.modelName, type, message, version });
    } catch (error) {
      this.deps.logger.warn('could not record serving event', { type, error: error as Error });
    }
  }

  /**
   * The version a reference names now: a version number, a stage (Staging, Production; any
   * case) or `@alias`. Throws a ScoringError (404, or 503 while loading) naming the reason.
   */
  resolve(ref: string): ServedVersion {
    return this.resolver.resolve(ref, {
      modelName: this.modelName,
      snapshot: this.snapshot,
      missingModel: this.missingModel,
      served: this.served,
      routes: this.routes,
    });
  }

  /**
   * Healthy once the registry was read and no live version is still loading (or restarting
   * its worker). A version that failed to load does not hold the others back: it answers
   * 503 with its reason and shows in the status document and the events.
   */
  health(): { healthy: boolean; reason: string } {
    if (!this.snapshot) return { healthy: false, reason: 'the registry has not been read yet' };
    const waiting = [...this.served.values()].filter((s) => s.state === 'LOADING');
    if (waiting.length > 0) {
      return { healthy: false, reason: `loading version(s) ${waiting.map((s) => s.version).join(', ')}` };
    }
    return { healthy: true, reason: '' };
  }

  /** The per-version status document. */
  status(): Record<string, unknown> {
    const snapshot = this.snapshot;
    const versions = [...this.served.values()]
      .sort((a, b) => a.version - b.version)
      .map((s) => s.status(snapshot?.versions.find((v) => v.version === s.version)));
    return {
      model: this.modelName,
      host: this.deps.settings.hostId,
      process: {
        pid: process.pid,
        rssBytes: process.memoryUsage().rss,
        peakRssBytes: process.resourceUsage().maxRSS * 1024,
      },
      ...this.health(),
      registryReadAt: snapshot?.at,
      versions,
      // Stages and aliases still answered by their old holder while the new one loads.
      handovers: this.routes.handovers(),
      settings: { batching: this.batching(), workersPerVersion: this.workersPerVersion() },
    };
  }

  /** Every served version, for metrics flushing. */
  servedVersions(): ServedVersion[] {
    return [...this.served.values()];
  }

  /** Stops following the registry and unloads every version. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.syncing;
    const all = [...this.served.values()];
    this.served.clear();
    await Promise.all(all.map((s) => this.unload(s, 'host stopping', { stopping: true })));
    this.storeClients.destroy();
    await this.event('HOST_STOPPED', `host ${this.deps.settings.hostId} stopped`);
  }
}

function archivedOrGone(snapshot: Snapshot, version: number): string {
  const v = snapshot.versions.find((x) => x.version === version);
  if (!v) return 'the version was deleted';
  if (v.currentStage === 'Archived') return 'the version was archived';
  return `the version is ${v.status}`;
}

function emptyModel(name: string): RegisteredModel {
  return {
    name,
    description: '',
    creationTimestamp: 0,
    lastUpdatedTimestamp: 0,
    tags: {},
    aliases: {},
    latestVersionNumber: 0,
    permissions: {},
  };
}
