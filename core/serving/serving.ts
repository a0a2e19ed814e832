/**
 * The serving control plane: whether a registered model is served and how (compute size, task
 * tags, batching, workers), what its serving task and the deploy workflow report back (each
 * version's state, serving events, the host report), and the requests that make the deploy
 * workflow converge. It reads models and versions from the registry's storage and never
 * changes them; its own state is in `ServingTable`.
 */
import {
  type DomainEvent,
  type EventPublisher,
  type NewDomainEvent,
  publishStoredChange,
} from '../events/domain-events';
import type { ModelRecord, RegistryTable } from '../registry/dynamo-store';
import {
  COMPUTE_SIZES,
  type ComputeSize,
  DEFAULT_COMPUTE_SIZE,
  type HostReport,
  type ModelServingStatus,
  type ModelVersion,
  type RegisteredModel,
  type ServingBatchingChange,
  type ServingConfig,
  type ServingEvent,
  type VersionServingStatus,
} from '../registry/model';
import type { Clock } from '../registry/registry';
import { checkTags, validateModelName, validateTagKey } from '../registry/validation';
import { modelNotFound, modelView, versionView } from '../registry/views';
import { invalidParameter } from '../shared/errors';
import type { ServingTable } from './serving-store';
import { changedBatching, checkServingSettings, describeServing, sameEntries } from './settings';

/** What serving reads of the registry: models and their versions, never written here. */
export type ModelReader = Pick<RegistryTable, 'findModel' | 'getModelById' | 'listModels' | 'listVersions'>;

export interface ServingDeps {
  readonly models: ModelReader;
  readonly table: ServingTable;
  readonly events: EventPublisher;
  readonly clock?: Clock;
  /** Called when a change was stored but its domain event could not be published. */
  readonly onPublishError?: (error: unknown, events: readonly DomainEvent[]) => void;
}

export class ServingControl {
  private readonly models: ModelReader;
  private readonly table: ServingTable;
  private readonly clock: Clock;

  constructor(private readonly deps: ServingDeps) {
    this.models = deps.models;
    this.table = deps.table;
    this.clock = deps.clock ?? { now: () => Date.now() };
  }

  // ---- serving state ------------------------------------------------------------------

  /**
   * What a model host needs: the model (aliases) and all its versions to route requests, and
   * the model's serving config, whose batching and workers the running task applies live.
   */
  async servingSnapshot(
    name: string,
  ): Promise<{ model: RegisteredModel; versions: ModelVersion[]; serving?: ServingConfig }> {
    const model = await this.requireModel(name);
    const versions = (await this.models.listVersions(model.modelId)).map((r) => versionView(model, r));
    const view = modelView(model);
    return { model: view, versions, ...(view.serving ? { serving: view.serving } : {}) };
  }

  /**
   * Records a version's serving state as a host reports it; answers whether it was recorded.
   * A report from an older serving revision than the recorded one is ignored, and with
   * `onlyOwnReport` (a host that is stopping) so is one replacing another host's report.
   */
  async recordServingStatus(
    status: VersionServingStatus,
    options: { readonly onlyOwnReport?: boolean } = {},
  ): Promise<boolean> {
    const model = await this.requireModel(status.name);
    const { name: _, ...rest } = status;
    return this.table.putServingStatus(model.modelId, rest, options);
  }

  async servingStatuses(name: string): Promise<VersionServingStatus[]> {
    const model = await this.requireModel(name);
    return (await this.table.listServingStatuses(model.modelId)).map((s) => ({ ...s, name: model.name }));
  }

  async recordServingEvent(event: Omit<ServingEvent, 'time'> & { time?: number }): Promise<void> {
    const model = await this.requireModel(event.name);
    const { name: _, ...rest } = event;
    await this.table.addServingEvent(model.modelId, { ...rest, time: event.time ?? this.clock.now() });
  }

  /** Serving events of a model, newest first (at most `limit`, default 100). */
  async servingEvents(name: string, options: { version?: number; limit?: number } = {}): Promise<ServingEvent[]> {
    const model = await this.requireModel(name);
    const events = await this.table.listServingEvents(model.modelId, {
      limit: options.limit ?? 100,
      version: options.version,
    });
    return events.map((e) => ({ ...e, name: model.name }));
  }

  // ---- serving settings ---------------------------------------------------------------

  /** Turns serving on; idempotent. The deploy workflow converges on the ServingEnabled event. */
  async enableServing(name: string): Promise<ServingConfig> {
    const model = await this.requireModel(name);
    if (model.serving?.priority === undefined) await this.table.assignServingPriority(model.modelId);
    const updated = await this.table.updateServing(model.modelId, (current) =>
      current?.enabled
        ? undefined
        : {
            enabled: true,
            computeSize: current?.computeSize ?? DEFAULT_COMPUTE_SIZE,
            tags: current?.tags ?? {},
            batching: current?.batching,
            workersPerVersion: current?.workersPerVersion,
            bump: true,
          },
    );
    if (!updated?.serving) throw modelNotFound(name);
    if (model.serving?.enabled !== true) {
      await this.recordServingEvent({ name, type: 'SERVING_ENABLED', message: 'serving enabled' });
      await this.emit({ type: 'ServingEnabled', modelName: name });
    }
    return updated.serving;
  }

  /** Turns serving off; idempotent. The deploy workflow tears the serving task down. */
  async disableServing(name: string): Promise<void> {
    const model = await this.requireModel(name);
    if (!model.serving?.enabled) return;
    await this.table.updateServing(model.modelId, (current) =>
      current?.enabled
        ? {
            enabled: false,
            computeSize: current.computeSize,
            tags: current.tags,
            batching: current.batching,
            workersPerVersion: current.workersPerVersion,
            bump: false,
          }
        : undefined,
    );
    await this.recordServingEvent({ name, type: 'SERVING_DISABLED', message: 'serving disabled' });
    await this.emit({ type: 'ServingDisabled', modelName: name });
  }

  /**
   * Changes the compute size and task tags — which rolls a new serving task in (a new serving
   * revision) — and request batching and workers per version, which the running task applies
   * live (same revision). Any change is a SERVING_RECONFIGURED event and a ServingReconfigured
   * domain event; a change to nothing is neither.
   */
  async updateServingConfig(
    name: string,
    change: {
      computeSize?: string;
      tagsToSet?: readonly { key: string; value: string }[];
      tagsToDelete?: readonly string[];
      /** Null clears every batching field; within it, null clears that field. */
      batching?: ServingBatchingChange | null;
      /** Null clears it (automatic). */
      workersPerVersion?: number | null;
    },
  ): Promise<ServingConfig> {
    if (change.computeSize !== undefined && !(change.computeSize in COMPUTE_SIZES)) {
      throw invalidParameter(
        `Invalid compute size '${change.computeSize}'. Use one of ${Object.keys(COMPUTE_SIZES).join(', ')}.`,
      );
    }
    const toSet = checkTags(change.tagsToSet ?? []);
    for (const key of change.tagsToDelete ?? []) validateTagKey(key);
    checkServingSettings(change.batching, change.workersPerVersion);
    const model = await this.requireModel(name);
    let changed = false;
    let newTaskNeeded = false;
    const updated = await this.table.updateServing(model.modelId, (current) => {
      const tags = { ...(current?.tags ?? {}), ...toSet };
      for (const key of change.tagsToDelete ?? []) delete tags[key];
      const computeSize =
        (change.computeSize as ComputeSize | undefined) ?? current?.computeSize ?? DEFAULT_COMPUTE_SIZE;
      const batching = changedBatching(current?.batching, change.batching);
      const workersPerVersion =
        change.workersPerVersion === undefined ? current?.workersPerVersion : (change.workersPerVersion ?? undefined);
      const newTask = current === undefined || computeSize !== current.computeSize || !sameEntries(tags, current.tags);
      const live =
        !sameEntries(batching ?? {}, current?.batching ?? {}) || workersPerVersion !== current?.workersPerVersion;
      changed = newTask || live;
      newTaskNeeded = newTask;
      if (!changed) return undefined;
      return {
        enabled: current?.enabled ?? false,
        computeSize,
        tags,
        ...(batching ? { batching } : {}),
        ...(workersPerVersion === undefined ? {} : { workersPerVersion }),
        bump: newTask,
      };
    });
    if (!updated?.serving) throw modelNotFound(name);
    if (changed) {
      await this.recordServingEvent({
        name,
        type: 'SERVING_RECONFIGURED',
        message: describeServing(updated.serving, newTaskNeeded),
      });
      await this.emit({ type: 'ServingReconfigured', modelName: name });
    }
    return updated.serving;
  }

  /** The model's serving state: the deploy workflow's record, or what follows from the settings. */
  async modelServingStatus(name: string): Promise<ModelServingStatus & { config?: ServingConfig }> {
    const model = await this.requireModel(name);
    const recorded = await this.table.getModelServingStatus(model.modelId);
    const config = model.serving;
    if (config?.enabled && (!recorded || recorded.state === 'STOPPED')) {
      return { name, state: 'PENDING', message: 'deployment requested', config };
    }
    if (!config?.enabled && recorded && recorded.state !== 'STOPPED') {
      return { name, ...recorded, state: 'PENDING', message: 'stopping', config };
    }
    return { name, ...(recorded ?? { state: 'STOPPED', message: 'serving is not enabled' }), config };
  }

  /** Models whose serving was ever enabled, for listing and the periodic reconcile. */
  async servingModels(): Promise<RegisteredModel[]> {
    return (await this.models.listModels()).filter((m) => m.serving !== undefined).map((m) => modelView(m));
  }

  /** Notes that `name` should converge again (see the deploy-model definition's run claim). */
  async requestConvergence(name: string): Promise<void> {
    const model = await this.requireModel(name);
    await this.table.addConvergenceRequest(model.modelId);
  }

  /** The name of the model with this registry id (serving resources are named by id). */
  async modelNameById(modelId: string): Promise<string | undefined> {
    return (await this.models.getModelById(modelId))?.name;
  }

  async recordHostReport(name: string, report: HostReport): Promise<void> {
    const model = await this.requireModel(name);
    await this.table.putHostReport(model.modelId, report);
  }

  async hostReport(name: string): Promise<HostReport | undefined> {
    const model = await this.requireModel(name);
    return this.table.getHostReport(model.modelId);
  }

  private async requireModel(name: string): Promise<ModelRecord> {
    validateModelName(name);
    const model = await this.models.findModel(name);
    if (!model) throw modelNotFound(name);
    return model;
  }

  private async emit(...events: NewDomainEvent[]): Promise<void> {
    await publishStoredChange(this.deps.events, events, this.clock.now(), this.deps.onPublishError);
  }
}
