/**
 * The model registry: registered models, versions, stages, aliases and tags, with the
 * semantics of MLflow's Model Registry. One module, one interface, used by the registry
 * Lambda, the local twin, and (through `core/serving`) the serving control plane.
 */
import {
  type DomainEvent,
  type EventPublisher,
  type NewDomainEvent,
  publishStoredChange,
} from '../events/domain-events';
import { alreadyExists, invalidParameter, MlflowError, notFound } from '../shared/errors';
import { type ArtifactReader, inspectArtifact } from './artifacts';
import type { ModelRecord, RegistryTable, VersionRecord } from './dynamo-store';
import { readInputExample, type ScoringRequestBody } from './input-example';
import { withModelLease } from './leases';
import { type ArtifactInfo, canonicalStage, type ModelVersion, type Page, STAGES, type Stage } from './model';
import { type SearchRequest, searchModelVersions, searchRegisteredModels } from './registry-search';
import type { SourcePolicy } from './sources';
import {
  checkTags,
  LIMITS,
  validateAlias,
  validateDescription,
  validateModelName,
  validateTag,
  validateTagKey,
} from './validation';
import {
  joinModels,
  latestPerStage,
  modelNotFound,
  modelView,
  type RegisteredModelView,
  requireStage,
  versionNotFound,
  versionView,
  withLatestVersions,
} from './views';

export type { SearchRequest } from './registry-search';
export type { RegisteredModelView } from './views';

export interface Clock {
  now(): number;
}

export interface RegistryDeps {
  readonly table: RegistryTable;
  readonly events: EventPublisher;
  readonly sources: SourcePolicy;
  readonly artifacts: ArtifactReader;
  readonly clock?: Clock;
  /** Called when a change was stored but its domain event could not be published. */
  readonly onPublishError?: (error: unknown, events: readonly DomainEvent[]) => void;
}

export class ModelRegistry {
  private readonly table: RegistryTable;
  private readonly clock: Clock;

  constructor(private readonly deps: RegistryDeps) {
    this.table = deps.table;
    this.clock = deps.clock ?? { now: () => Date.now() };
  }

  // ---- registered models -------------------------------------------------------------

  async createRegisteredModel(input: {
    name: string;
    description?: string;
    tags?: readonly { key: string; value: string }[];
    /** The principal creating the model: it gets CAN_MANAGE on it. */
    creator?: string;
  }): Promise<RegisteredModelView> {
    validateModelName(input.name);
    validateDescription(input.description ?? '');
    const tags = checkTags(input.tags ?? []);
    const record = await this.table.createModel({
      name: input.name,
      description: input.description ?? '',
      tags,
      now: this.clock.now(),
      permissions: input.creator ? { [input.creator]: 'CAN_MANAGE' } : {},
    });
    if (!record) throw alreadyExists(`Registered Model (name=${input.name}) already exists.`);
    await this.emit({ type: 'RegisteredModelCreated', modelName: record.name });
    return { ...modelView(record), latestVersions: [] };
  }

  async getRegisteredModel(name: string): Promise<RegisteredModelView> {
    const model = await this.requireModel(name);
    return withLatestVersions(model, await this.table.listVersions(model.modelId));
  }

  async searchRegisteredModels(request: SearchRequest): Promise<Page<RegisteredModelView>> {
    return searchRegisteredModels(this.table, request);
  }

  async updateRegisteredModel(name: string, description: string | undefined): Promise<RegisteredModelView> {
    const model = await this.requireModel(name);
    if (description !== undefined) validateDescription(description);
    const updated = await this.table.updateModel(model.modelId, { description, now: this.clock.now() });
    if (!updated) throw modelNotFound(name);
    return withLatestVersions(updated, await this.table.listVersions(updated.modelId));
  }

  async renameRegisteredModel(name: string, newName: string): Promise<RegisteredModelView> {
    validateModelName(newName, 'new_name');
    const model = await this.requireModel(name);
    if (newName === name) return withLatestVersions(model, await this.table.listVersions(model.modelId));
    await this.requireNotServing(model, 'rename');
    const outcome = await this.table.renameModel(model, newName, this.clock.now());
    if (outcome === 'taken') throw alreadyExists(`Registered Model (name=${newName}) already exists.`);
    if (outcome === 'gone') throw modelNotFound(name);
    await this.emit({ type: 'RegisteredModelRenamed', modelName: newName, previousName: name });
    return this.getRegisteredModel(newName);
  }

  async deleteRegisteredModel(name: string): Promise<void> {
    const model = await this.requireModel(name);
    await this.requireNotServing(model, 'delete');
    await this.table.deleteModel(model);
    await this.emit({ type: 'RegisteredModelDeleted', modelName: name });
  }

  async setRegisteredModelTag(name: string, key: string, value: string): Promise<void> {
    validateTag(key, value);
    const model = await this.requireModel(name);
    const updated = await this.table.updateModel(model.modelId, { setTag: [key, value] });
    if (!updated) throw modelNotFound(name);
    await this.emit({ type: 'RegisteredModelTagsChanged', modelName: name, key, deleted: false });
  }

  async deleteRegisteredModelTag(name: string, key: string): Promise<void> {
    validateTagKey(key);
    const model = await this.requireModel(name);
    // As MLflow: deleting a tag that is not there succeeds and changes nothing.
    if (!(key in model.tags)) return;
    const updated = await this.table.updateModel(model.modelId, { deleteTag: key });
    if (!updated) throw modelNotFound(name);
    await this.emit({ type: 'RegisteredModelTagsChanged', modelName: name, key, deleted: true });
  }

  async getLatestVersions(name: string, stages?: readonly string[]): Promise<ModelVersion[]> {
    const model = await this.requireModel(name);
    const wanted = stages && stages.length > 0 ? stages.map((s) => requireStage(s)) : [...STAGES];
    const latest = latestPerStage(model, await this.table.listVersions(model.modelId));
    return latest.filter((v) => wanted.includes(v.currentStage));
  }

  // ---- aliases -----------------------------------------------------------------------

  async setAlias(name: string, alias: string, version: number): Promise<void> {
    validateAlias(alias);
    const model = await this.requireModel(name);
    if (!(await this.table.getVersion(model.modelId, version))) throw versionNotFound(name, version);
    const updated = await this.table.setAlias(model.modelId, alias, version, this.clock.now());
    if (!updated) throw modelNotFound(name);
    await this.emit({ type: 'ModelAliasSet', modelName: name, version, alias });
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    validateAlias(alias);
    const model = await this.requireModel(name);
    const version = model.aliases[alias];
    // MLflow answers success when the alias does not exist; so do we.
    if (version === undefined) return;
    if (await this.table.deleteAlias(model.modelId, alias, this.clock.now(), version)) {
      await this.emit({ type: 'ModelAliasDeleted', modelName: name, version, alias });
    }
  }

  async getVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    validateAlias(alias);
    const model = await this.requireModel(name);
    const version = model.aliases[alias];
    if (version === undefined) throw invalidParameter(`Registered model alias ${alias} not found.`);
    const record = await this.table.getVersion(model.modelId, version);
    if (!record) throw invalidParameter(`Registered model alias ${alias} not found.`);
    return versionView(model, record);
  }

  // ---- model versions ----------------------------------------------------------------

  async createModelVersion(input: {
    name: string;
    source: string;
    runId?: string;
    runLink?: string;
    description?: string;
    tags?: readonly { key: string; value: string }[];
    userId?: string;
  }): Promise<ModelVersion> {
    validateModelName(input.name);
    if (input.source === '') throw invalidParameter("Missing value for required parameter 'source'.");
    if (input.source.length > LIMITS.sourceLength) {
      throw invalidParameter(`Source is ${input.source.length} characters long; the limit is ${LIMITS.sourceLength}.`);
    }
    if ((input.runId ?? '').length > LIMITS.runIdLength || !/^[A-Za-z0-9_-]*$/.test(input.runId ?? '')) {
      throw invalidParameter(`Invalid run_id '${input.runId}': expected an MLflow run id.`);
    }
    if ((input.runLink ?? '').length > LIMITS.runLinkLength) {
      throw invalidParameter(`run_link is longer than ${LIMITS.runLinkLength} characters.`);
    }
    validateDescription(input.description ?? '');
    const tags = checkTags(input.tags ?? []);
    await this.deps.sources.resolve(input.source);
    const model = await this.requireModel(input.name);
    const record = await this.table.createVersion(
      model.modelId,
      {
        source: input.source,
        runId: input.runId ?? '',
        runLink: input.runLink || undefined,
        description: input.description ?? '',
        tags,
        userId: input.userId,
      },
      this.clock.now(),
    );
    if (!record) throw modelNotFound(input.name);
    await this.emit({
      type: 'ModelVersionCreated',
      modelName: model.name,
      version: record.version,
      source: record.source,
    });
    return versionView(model, record);
  }

  /**
   * The registration check for a PENDING_REGISTRATION version: reads its `MLmodel` and
   * marks it READY (recording flavors, signature, examples, feature spec) or
   * FAILED_REGISTRATION with the reason. Idempotent: a version no longer pending is left alone.
   */
  async completeRegistration(name: string, version: number): Promise<ModelVersion | undefined> {
    const model = await this.table.findModel(name);
    const record = model && (await this.table.getVersion(model.modelId, version));
    if (!model || !record || record.status !== 'PENDING_REGISTRATION') return undefined;
    let outcome:
      | { status: 'READY'; artifact: NonNullable<VersionRecord['artifact']> }
      | { status: 'FAILED_REGISTRATION'; reason: string };
    try {
      const resolved = await this.deps.sources.resolve(record.source);
      outcome = { status: 'READY', artifact: await inspectArtifact(this.deps.artifacts, resolved) };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      outcome = { status: 'FAILED_REGISTRATION', reason: `Artifact check failed for '${record.source}': ${reason}` };
    }
    const now = this.clock.now();
    const changed = await this.table.updateVersion(model.modelId, version, {
      status: outcome.status,
      statusMessage: outcome.status === 'READY' ? '' : outcome.reason,
      artifact: outcome.status === 'READY' ? outcome.artifact : undefined,
      expectStatus: 'PENDING_REGISTRATION',
      now,
    });
    if (!changed) return undefined;
    await this.emit(
      outcome.status === 'READY'
        ? { type: 'ModelVersionReady', modelName: model.name, version }
        : { type: 'ModelVersionFailed', modelName: model.name, version, reason: outcome.reason },
    );
    return versionView(model, changed.after);
  }

  /** Versions still waiting for their registration check (e.g. after a crash). */
  async pendingVersions(): Promise<ModelVersion[]> {
    const pending = (await this.table.listAllVersions()).filter((v) => v.status === 'PENDING_REGISTRATION');
    return joinModels(this.table, pending);
  }

  async getModelVersion(name: string, version: number): Promise<ModelVersion> {
    const model = await this.requireModel(name);
    const record = await this.table.getVersion(model.modelId, version);
    if (!record) throw versionNotFound(name, version);
    return versionView(model, record);
  }

  async searchModelVersions(request: SearchRequest): Promise<Page<ModelVersion>> {
    return searchModelVersions(this.table, request);
  }

  async updateModelVersion(name: string, version: number, description: string | undefined): Promise<ModelVersion> {
    if (description !== undefined) validateDescription(description);
    const model = await this.requireModel(name);
    const changed = await this.table.updateVersion(model.modelId, version, { description, now: this.clock.now() });
    if (!changed) throw versionNotFound(name, version);
    return versionView(model, changed.after);
  }

  async deleteModelVersion(name: string, version: number): Promise<void> {
    const model = await this.requireModel(name);
    const deleted = await this.table.deleteVersion(model.modelId, version);
    if (!deleted) throw versionNotFound(name, version);
    const now = this.clock.now();
    const events: NewDomainEvent[] = [{ type: 'ModelVersionDeleted', modelName: name, version }];
    for (const [alias, v] of Object.entries(model.aliases)) {
      if (v === version && (await this.table.deleteAlias(model.modelId, alias, now, version))) {
        events.push({ type: 'ModelAliasDeleted', modelName: name, version, alias });
      }
    }
    await this.table.touchModel(model.modelId, now);
    await this.emit(...events);
  }

  /**
   * Moves a version to a stage. With `archiveExistingVersions`, the other versions in that
   * stage are archived; such transitions hold the model's `stages` lease, so two of them
   * running at once cannot archive each other and leave the stage empty.
   */
  async transitionModelVersionStage(
    name: string,
    version: number,
    stageInput: string,
    archiveExistingVersions: boolean,
  ): Promise<ModelVersion> {
    const stage = requireStage(stageInput);
    if (archiveExistingVersions && stage !== 'Staging' && stage !== 'Production') {
      throw invalidParameter(
        `Model version transition cannot archive existing model versions because '${stageInput}' is not an Active stage. Valid stages are ['Staging', 'Production']`,
      );
    }
    const model = await this.requireModel(name);
    const run = () => this.applyTransition(model, version, stage, archiveExistingVersions);
    return archiveExistingVersions ? withModelLease(this.table, this.clock, model, 'stages', run) : run();
  }

  private async applyTransition(
    model: ModelRecord,
    version: number,
    stage: Stage,
    archiveExistingVersions: boolean,
  ): Promise<ModelVersion> {
    const name = model.name;
    const now = this.clock.now();
    const changed = await this.table.updateVersion(model.modelId, version, { stage, now });
    if (!changed) throw versionNotFound(name, version);
    const events: NewDomainEvent[] = [];
    if (changed.before.currentStage !== stage) {
      events.push({
        type: 'ModelVersionStageChanged',
        modelName: name,
        version,
        fromStage: changed.before.currentStage,
        toStage: stage,
      });
    }
    if (archiveExistingVersions) {
      const others = (await this.table.listVersions(model.modelId)).filter(
        (v) => v.version !== version && v.currentStage === stage,
      );
      for (const other of others) {
        const archived = await this.table.updateVersion(model.modelId, other.version, {
          stage: 'Archived',
          expectStage: stage,
          now,
        });
        if (archived) {
          events.push({
            type: 'ModelVersionStageChanged',
            modelName: name,
            version: other.version,
            fromStage: stage,
            toStage: 'Archived',
          });
        }
      }
    }
    await this.table.touchModel(model.modelId, now);
    await this.emit(...events);
    return versionView(model, changed.after);
  }

  async setModelVersionTag(name: string, version: number, key: string, value: string): Promise<void> {
    validateTag(key, value);
    const model = await this.requireModel(name);
    const changed = await this.table.updateVersion(model.modelId, version, {
      setTag: [key, value],
      now: this.clock.now(),
    });
    if (!changed) throw versionNotFound(name, version);
    await this.emit({ type: 'ModelVersionTagsChanged', modelName: name, version, key, deleted: false });
  }

  async deleteModelVersionTag(name: string, version: number, key: string): Promise<void> {
    validateTagKey(key);
    const model = await this.requireModel(name);
    const record = await this.table.getVersion(model.modelId, version);
    if (!record) throw versionNotFound(name, version);
    if (!(key in record.tags)) return;
    const changed = await this.table.updateVersion(model.modelId, version, { deleteTag: key, now: this.clock.now() });
    if (!changed) throw versionNotFound(name, version);
    await this.emit({ type: 'ModelVersionTagsChanged', modelName: name, version, key, deleted: true });
  }

  async getModelVersionDownloadUri(name: string, version: number): Promise<string> {
    return (await this.getModelVersion(name, version)).source;
  }

  /** What the registration check recorded about a READY version's artifact; INVALID_STATE for any other version. */
  async versionArtifact(name: string, version: number): Promise<{ version: ModelVersion; artifact: ArtifactInfo }> {
    const v = await this.getModelVersion(name, version);
    if (v.status !== 'READY' || !v.artifact) {
      throw new MlflowError(
        'INVALID_STATE',
        `Version ${version} of model '${v.name}' is ${v.status}, not READY: its artifact ${
          v.status === 'PENDING_REGISTRATION' ? 'is still being checked' : 'did not pass the registration check'
        }.`,
      );
    }
    return { version: v, artifact: v.artifact };
  }

  /**
   * A READY version's input example as a request body for its scoring URL, read from its
   * artifact (input-example.ts): RESOURCE_DOES_NOT_EXIST when it was logged without one.
   */
  async inputExample(name: string, version: number): Promise<ScoringRequestBody> {
    const { version: v, artifact } = await this.versionArtifact(name, version);
    const source = await this.deps.sources.resolve(v.source);
    return readInputExample(this.deps.artifacts, source, artifact, { name: v.name, version });
  }

  /**
   * Resolves a scoring reference — a version number, a stage (any case) or `@alias` — to
   * the version that holds it now. Stages resolve to their highest version.
   */
  async resolveRef(name: string, ref: string): Promise<ModelVersion> {
    if (ref.startsWith('@')) return this.getVersionByAlias(name, ref.slice(1));
    if (/^[0-9]+$/.test(ref)) return this.getModelVersion(name, Number(ref));
    const stage = canonicalStage(ref);
    if (!stage || stage === 'None' || stage === 'Archived') {
      throw invalidParameter(
        `Invalid model reference '${ref}': use a version number, Staging, Production or @<alias>.`,
      );
    }
    const [latest] = await this.getLatestVersions(name, [stage]);
    if (!latest) throw notFound(`Registered model '${name}' has no version in stage ${stage}.`);
    return latest;
  }

  /** Refuses changes that would strand a serving task (delete, rename) until serving is stopped. */
  private async requireNotServing(model: ModelRecord, action: string): Promise<void> {
    if (model.serving?.enabled) {
      throw new MlflowError(
        'INVALID_STATE',
        `Cannot ${action} '${model.name}' while serving is enabled; disable serving first.`,
        400,
      );
    }
    const recorded = await this.table.recordedServingState(model.modelId);
    if (recorded && recorded !== 'STOPPED') {
      throw new MlflowError(
        'INVALID_STATE',
        `Cannot ${action} '${model.name}' while its serving task is still being torn down; try again shortly.`,
        400,
      );
    }
  }

  // ---- helpers -----------------------------------------------------------------------

  private async requireModel(name: string): Promise<ModelRecord> {
    validateModelName(name);
    const model = await this.table.findModel(name);
    if (!model) throw modelNotFound(name);
    return model;
  }

  private async emit(...events: NewDomainEvent[]): Promise<void> {
    await publishStoredChange(this.deps.events, events, this.clock.now(), this.deps.onPublishError);
  }
}
