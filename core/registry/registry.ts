/**
 * The model registry: registered models, versions, stages, aliases and tags, with the
 * semantics of MLflow's Model Registry. One module, one interface, used by the registry
 * Lambda, the local twin, and (later) the model host and the deploy workflow.
 */
import { type DomainEvent, domainEvent, type EventPublisher, type NewDomainEvent } from '../events/domain-events';
import { alreadyExists, invalidParameter, MlflowError, notFound } from '../shared/errors';
import { type ArtifactReader, inspectArtifact } from './artifacts';
import type { ModelRecord, RegistryTable, VersionRecord } from './dynamo-store';
import { readInputExample, type ScoringRequestBody } from './input-example';
import {
  type ArtifactInfo,
  COMPUTE_SIZES,
  type ComputeSize,
  canonicalStage,
  DEFAULT_COMPUTE_SIZE,
  type HostReport,
  type ModelServingStatus,
  type ModelVersion,
  type Page,
  type RegisteredModel,
  type ServingBatching,
  type ServingBatchingChange,
  type ServingConfig,
  type ServingEvent,
  STAGES,
  type Stage,
  type Tags,
  type VersionServingStatus,
} from './model';
import {
  type Clause,
  compareBy,
  decodePageToken,
  encodePageToken,
  type FilterSpec,
  matches,
  parseFilter,
  parseOrderBy,
} from './search';
import type { SourcePolicy } from './sources';
import {
  BATCHING_FIELDS,
  isModelName,
  LIMITS,
  permissionLevelProblem,
  principalProblem,
  stageProblem,
  validateAlias,
  validateDescription,
  validateModelName,
  validateTag,
  validateTagKey,
  workersPerVersionProblem,
} from './validation';

export interface RegisteredModelView extends RegisteredModel {
  /** The latest version in each stage (None, Staging, Production, Archived) that has one. */
  readonly latestVersions: readonly ModelVersion[];
}

export interface SearchRequest {
  readonly filter?: string;
  readonly maxResults?: number;
  readonly orderBy?: readonly string[];
  readonly pageToken?: string;
  /** Only models (and their versions) whose permissions pass this test are found. */
  readonly readable?: (permissions: Readonly<Record<string, string>>) => boolean;
}

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

/** How long a model lease lasts if its holder dies, and how long a caller waits for one. */
const LEASE_TTL_MS = 30_000;
const LEASE_WAIT_MS = 20_000;

export const SEARCH_MODELS_MAX_RESULTS = 1000;
export const SEARCH_MODELS_DEFAULT_RESULTS = 100;
export const SEARCH_VERSIONS_MAX_RESULTS = 200_000;
export const SEARCH_VERSIONS_DEFAULT_RESULTS = 200_000;

const MODEL_FILTER: FilterSpec = {
  attributes: { name: ['=', '!=', 'LIKE', 'ILIKE'] },
  aliases: { 'attributes.name': 'name', 'attribute.name': 'name' },
  tagComparators: ['=', '!=', 'LIKE', 'ILIKE'],
};

const VERSION_FILTER: FilterSpec = {
  attributes: {
    name: ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'],
    run_id: ['=', '!=', 'IN', 'NOT IN'],
    source_path: ['=', '!=', 'LIKE', 'ILIKE'],
    version_number: ['=', '!=', '<', '<=', '>', '>='],
    user_id: ['=', '!=', 'LIKE', 'ILIKE'],
    current_stage: ['=', '!=', 'IN', 'NOT IN'],
    status: ['=', '!='],
  },
  numeric: ['version_number'],
  aliases: { 'attributes.name': 'name', 'attributes.run_id': 'run_id', source: 'source_path' },
  tagComparators: ['=', '!=', 'LIKE', 'ILIKE'],
};

/** As MLflow's SQL store: both `timestamp` and `last_updated_timestamp` sort on the last update. */
const MODEL_ORDER_KEYS = {
  name: 'name',
  timestamp: 'last_updated_timestamp',
  last_updated_timestamp: 'last_updated_timestamp',
};
const VERSION_ORDER_KEYS = Object.fromEntries(
  ['name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'].flatMap((k) => [
    [k, k],
    [`attribute.${k}`, k],
    [`attributes.${k}`, k],
  ]),
);

function checkMaxResults(value: number | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw invalidParameter(`Invalid value for max_results. It must be a positive integer, but got ${value}`);
  }
  if (value > max) {
    throw invalidParameter(
      `Invalid value for request parameter max_results. It must be at most ${max}, but got value ${value}`,
    );
  }
  return value;
}

function paginate<T>(items: readonly T[], offset: number, limit: number): Page<T> {
  const slice = items.slice(offset, offset + limit);
  return {
    items: slice,
    nextPageToken: offset + limit < items.length ? encodePageToken(offset + limit) : undefined,
  };
}

function tagsMatch(tags: Tags, clause: Clause): boolean {
  return matches(clause, tags[clause.key]);
}

function checkTags(tags: readonly { key: string; value: string }[]): Tags {
  if (tags.length > LIMITS.tagsPerRequest) {
    throw invalidParameter(`At most ${LIMITS.tagsPerRequest} tags may be given at once; got ${tags.length}.`);
  }
  const out: Tags = {};
  for (const { key, value } of tags) {
    validateTag(key, value);
    out[key] = value;
  }
  return out;
}

/** Refuses batching and worker settings out of their ranges (the rules every API checks). */
function checkServingSettings(
  batching: ServingBatchingChange | null | undefined,
  workersPerVersion: number | null | undefined,
): void {
  for (const { key, problem } of Object.values(BATCHING_FIELDS)) {
    const value = batching?.[key];
    const found = value === undefined || value === null ? undefined : problem(value);
    if (found !== undefined) throw invalidParameter(found);
  }
  const workers = workersPerVersion ?? undefined;
  const found = workers === undefined ? undefined : workersPerVersionProblem(workers);
  if (found !== undefined) throw invalidParameter(found);
}

/** Batching after `change` (null clears all; a null field clears that field); undefined when nothing is set. */
function changedBatching(
  current: ServingBatching | undefined,
  change: ServingBatchingChange | null | undefined,
): ServingBatching | undefined {
  if (change === undefined) return current;
  const next: Record<string, unknown> = { ...(change === null ? {} : current) };
  for (const { key } of Object.values(BATCHING_FIELDS)) {
    const value = change?.[key];
    if (value === null) delete next[key];
    else if (value !== undefined) next[key] = value;
  }
  return Object.keys(next).length > 0 ? (next as ServingBatching) : undefined;
}

/** Whether two maps hold the same entries, in any order. */
function sameEntries(a: object, b: object): boolean {
  return JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
}

/** A SERVING_RECONFIGURED event's message: the settings now, in the serving API's words. */
function describeServing(config: ServingConfig, newTask: boolean): string {
  const batching = Object.fromEntries(
    Object.entries(BATCHING_FIELDS)
      .filter(([, { key }]) => config.batching?.[key] !== undefined)
      .map(([field, { key }]) => [field, config.batching?.[key]]),
  );
  return [
    `compute ${config.computeSize}, tags ${JSON.stringify(config.tags)}`,
    `batching ${Object.keys(batching).length > 0 ? JSON.stringify(batching) : 'default'}`,
    `workers per version ${config.workersPerVersion ?? 'auto'}`,
  ]
    .join(', ')
    .concat(newTask ? '' : ' (applied by the running task; no new task)');
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
    return { ...this.modelView(record), latestVersions: [] };
  }

  async getRegisteredModel(name: string): Promise<RegisteredModelView> {
    const model = await this.requireModel(name);
    return this.withLatestVersions(model, await this.table.listVersions(model.modelId));
  }

  async searchRegisteredModels(request: SearchRequest): Promise<Page<RegisteredModelView>> {
    const limit = checkMaxResults(request.maxResults, SEARCH_MODELS_DEFAULT_RESULTS, SEARCH_MODELS_MAX_RESULTS);
    const clauses = parseFilter(request.filter, MODEL_FILTER);
    const order = parseOrderBy(request.orderBy, MODEL_ORDER_KEYS);
    const offset = decodePageToken(request.pageToken);
    const models = await this.candidateModels(clauses);
    const selected = models.filter(
      (m) =>
        (!request.readable || request.readable(m.permissions)) &&
        clauses.every((c) => (c.type === 'tag' ? tagsMatch(m.tags, c) : matches(c, m.name))),
    );
    if (!order.some((o) => o.key === 'name')) order.push({ key: 'name', ascending: true });
    selected.sort(compareBy<ModelRecord>(order, (m, key) => (key === 'name' ? m.name : m.lastUpdatedTimestamp)));
    const page = paginate(selected, offset, limit);
    const items = await Promise.all(
      page.items.map(async (m) => this.withLatestVersions(m, await this.table.listVersions(m.modelId))),
    );
    return { items, nextPageToken: page.nextPageToken };
  }

  /** Narrows the models to read using the filter's name clauses where the table can. */
  private async candidateModels(clauses: readonly Clause[]): Promise<ModelRecord[]> {
    const exact = clauses.find((c) => c.type === 'attribute' && c.comparator === '=');
    if (exact) {
      // A name no model can have matches nothing (and is never sent to the table as a key).
      const model = isModelName(exact.value as string) ? await this.table.findModel(exact.value as string) : undefined;
      return model ? [model] : [];
    }
    const like = clauses.find((c) => c.type === 'attribute' && c.comparator === 'LIKE');
    const prefix = like ? /^[^%_]*/.exec(like.value as string)?.[0] : undefined;
    if (prefix !== undefined && prefix.length > LIMITS.nameLength) return [];
    return this.table.listModels(prefix || undefined);
  }

  async updateRegisteredModel(name: string, description: string | undefined): Promise<RegisteredModelView> {
    const model = await this.requireModel(name);
    if (description !== undefined) validateDescription(description);
    const updated = await this.table.updateModel(model.modelId, { description, now: this.clock.now() });
    if (!updated) throw this.modelNotFound(name);
    return this.withLatestVersions(updated, await this.table.listVersions(updated.modelId));
  }

  async renameRegisteredModel(name: string, newName: string): Promise<RegisteredModelView> {
    validateModelName(newName, 'new_name');
    const model = await this.requireModel(name);
    if (newName === name) return this.withLatestVersions(model, await this.table.listVersions(model.modelId));
    await this.requireNotServing(model, 'rename');
    const outcome = await this.table.renameModel(model, newName, this.clock.now());
    if (outcome === 'taken') throw alreadyExists(`Registered Model (name=${newName}) already exists.`);
    if (outcome === 'gone') throw this.modelNotFound(name);
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
    if (!updated) throw this.modelNotFound(name);
    await this.emit({ type: 'RegisteredModelTagsChanged', modelName: name, key, deleted: false });
  }

  async deleteRegisteredModelTag(name: string, key: string): Promise<void> {
    validateTagKey(key);
    const model = await this.requireModel(name);
    // As MLflow: deleting a tag that is not there succeeds and changes nothing.
    if (!(key in model.tags)) return;
    const updated = await this.table.updateModel(model.modelId, { deleteTag: key });
    if (!updated) throw this.modelNotFound(name);
    await this.emit({ type: 'RegisteredModelTagsChanged', modelName: name, key, deleted: true });
  }

  async getLatestVersions(name: string, stages?: readonly string[]): Promise<ModelVersion[]> {
    const model = await this.requireModel(name);
    const wanted = stages && stages.length > 0 ? stages.map((s) => this.requireStage(s)) : [...STAGES];
    const latest = this.latestPerStage(model, await this.table.listVersions(model.modelId));
    return latest.filter((v) => wanted.includes(v.currentStage));
  }

  // ---- aliases -----------------------------------------------------------------------

  async setAlias(name: string, alias: string, version: number): Promise<void> {
    validateAlias(alias);
    const model = await this.requireModel(name);
    if (!(await this.table.getVersion(model.modelId, version))) throw this.versionNotFound(name, version);
    const updated = await this.table.setAlias(model.modelId, alias, version, this.clock.now());
    if (!updated) throw this.modelNotFound(name);
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
    return this.versionView(model, record);
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
    if (!record) throw this.modelNotFound(input.name);
    await this.emit({
      type: 'ModelVersionCreated',
      modelName: model.name,
      version: record.version,
      source: record.source,
    });
    return this.versionView(model, record);
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
    return this.versionView(model, changed.after);
  }

  /** Versions still waiting for their registration check (e.g. after a crash). */
  async pendingVersions(): Promise<ModelVersion[]> {
    const pending = (await this.table.listAllVersions()).filter((v) => v.status === 'PENDING_REGISTRATION');
    return this.joinModels(pending);
  }

  async getModelVersion(name: string, version: number): Promise<ModelVersion> {
    const model = await this.requireModel(name);
    const record = await this.table.getVersion(model.modelId, version);
    if (!record) throw this.versionNotFound(name, version);
    return this.versionView(model, record);
  }

  async searchModelVersions(request: SearchRequest): Promise<Page<ModelVersion>> {
    const limit = checkMaxResults(request.maxResults, SEARCH_VERSIONS_DEFAULT_RESULTS, SEARCH_VERSIONS_MAX_RESULTS);
    const clauses = parseFilter(request.filter, VERSION_FILTER);
    const order = parseOrderBy(request.orderBy, VERSION_ORDER_KEYS);
    const offset = decodePageToken(request.pageToken);
    for (const c of clauses) {
      if (c.key === 'current_stage' && c.type === 'attribute') {
        const values = Array.isArray(c.value) ? c.value : [c.value as string];
        for (const v of values) this.requireStage(v);
      }
    }
    const readable = await this.readableModels(request);
    const versions = (await this.candidateVersions(clauses)).filter(
      (v) =>
        readable(v.name) &&
        clauses.every((c) => {
          if (c.type === 'tag') return tagsMatch(v.tags, c);
          const actual =
            c.key === 'name'
              ? v.name
              : c.key === 'run_id'
                ? v.runId
                : c.key === 'source_path'
                  ? v.source
                  : c.key === 'version_number'
                    ? v.version
                    : c.key === 'user_id'
                      ? v.userId
                      : c.key === 'current_stage'
                        ? v.currentStage
                        : v.status;
          if (c.key === 'current_stage') {
            const wanted = (Array.isArray(c.value) ? c.value : [c.value as string]).map((s) => this.requireStage(s));
            const hit = wanted.includes(v.currentStage);
            return c.comparator === '=' || c.comparator === 'IN' ? hit : !hit;
          }
          return matches(c, actual);
        }),
    );
    const keys = order.length > 0 ? order : [{ key: 'last_updated_timestamp', ascending: false }];
    keys.push({ key: 'name', ascending: true }, { key: 'version_number', ascending: false });
    versions.sort(
      compareBy<ModelVersion>(keys, (v, key) =>
        key === 'name'
          ? v.name
          : key === 'version_number'
            ? v.version
            : key === 'creation_timestamp'
              ? v.creationTimestamp
              : v.lastUpdatedTimestamp,
      ),
    );
    return paginate(versions, offset, limit);
  }

  /** A test of model names against `request.readable`, reading each model's permissions once. */
  private async readableModels(request: SearchRequest): Promise<(name: string) => boolean> {
    const test = request.readable;
    if (!test) return () => true;
    const allowed = new Set((await this.table.listModels()).filter((m) => test(m.permissions)).map((m) => m.name));
    return (name) => allowed.has(name);
  }

  /** Reads only the versions a filter can concern, using the table's keys where it can. */
  private async candidateVersions(clauses: readonly Clause[]): Promise<ModelVersion[]> {
    const byName = clauses.find(
      (c) => c.type === 'attribute' && c.key === 'name' && (c.comparator === '=' || c.comparator === 'IN'),
    );
    if (byName) {
      const names = Array.isArray(byName.value) ? byName.value : [byName.value as string];
      const lists = await Promise.all(
        names.filter(isModelName).map(async (n) => {
          const model = await this.table.findModel(n);
          return model ? (await this.table.listVersions(model.modelId)).map((r) => this.versionView(model, r)) : [];
        }),
      );
      return lists.flat();
    }
    const byRun = clauses.find(
      (c) => c.type === 'attribute' && c.key === 'run_id' && (c.comparator === '=' || c.comparator === 'IN'),
    );
    if (byRun) {
      const runs = Array.isArray(byRun.value) ? byRun.value : [byRun.value as string];
      // Run ids longer than any stored one match nothing (and are never sent to the table as keys).
      const stored = runs.filter((r) => r !== '' && r.length <= LIMITS.runIdLength);
      const records = (await Promise.all(stored.map((r) => this.table.listVersionsByRun(r)))).flat();
      return this.joinModels(records);
    }
    return this.joinModels(await this.table.listAllVersions());
  }

  /** Attaches model names and aliases; versions whose model is gone are dropped. */
  private async joinModels(records: readonly VersionRecord[]): Promise<ModelVersion[]> {
    const models = await this.table.getModelsByIds(records.map((r) => r.modelId));
    return records.flatMap((r) => {
      const model = models.get(r.modelId);
      return model ? [this.versionView(model, r)] : [];
    });
  }

  async updateModelVersion(name: string, version: number, description: string | undefined): Promise<ModelVersion> {
    if (description !== undefined) validateDescription(description);
    const model = await this.requireModel(name);
    const changed = await this.table.updateVersion(model.modelId, version, { description, now: this.clock.now() });
    if (!changed) throw this.versionNotFound(name, version);
    return this.versionView(model, changed.after);
  }

  async deleteModelVersion(name: string, version: number): Promise<void> {
    const model = await this.requireModel(name);
    const deleted = await this.table.deleteVersion(model.modelId, version);
    if (!deleted) throw this.versionNotFound(name, version);
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
    const stage = this.requireStage(stageInput);
    if (archiveExistingVersions && stage !== 'Staging' && stage !== 'Production') {
      throw invalidParameter(
        `Model version transition cannot archive existing model versions because '${stageInput}' is not an Active stage. Valid stages are ['Staging', 'Production']`,
      );
    }
    const model = await this.requireModel(name);
    const run = () => this.applyTransition(model, version, stage, archiveExistingVersions);
    return archiveExistingVersions ? this.withModelLease(model, 'stages', run) : run();
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
    if (!changed) throw this.versionNotFound(name, version);
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
    return this.versionView(model, changed.after);
  }

  /** Runs `work` holding a lease on the model; waits (bounded) while another holder has it. */
  private async withModelLease<T>(model: ModelRecord, purpose: string, work: () => Promise<T>): Promise<T> {
    const deadline = this.clock.now() + LEASE_WAIT_MS;
    let delay = 5;
    for (;;) {
      const token = await this.table.acquireModelLease(model.modelId, purpose, LEASE_TTL_MS, this.clock.now());
      if (token) {
        try {
          return await work();
        } finally {
          await this.table.releaseModelLease(model.modelId, purpose, token);
        }
      }
      if (!(await this.table.getModelById(model.modelId))) throw this.modelNotFound(model.name);
      if (this.clock.now() > deadline) {
        throw new MlflowError(
          'TEMPORARILY_UNAVAILABLE',
          `Another stage transition of '${model.name}' is in progress; try again.`,
        );
      }
      await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
      delay = Math.min(delay * 2, 200);
    }
  }

  async setModelVersionTag(name: string, version: number, key: string, value: string): Promise<void> {
    validateTag(key, value);
    const model = await this.requireModel(name);
    const changed = await this.table.updateVersion(model.modelId, version, {
      setTag: [key, value],
      now: this.clock.now(),
    });
    if (!changed) throw this.versionNotFound(name, version);
    await this.emit({ type: 'ModelVersionTagsChanged', modelName: name, version, key, deleted: false });
  }

  async deleteModelVersionTag(name: string, version: number, key: string): Promise<void> {
    validateTagKey(key);
    const model = await this.requireModel(name);
    const record = await this.table.getVersion(model.modelId, version);
    if (!record) throw this.versionNotFound(name, version);
    if (!(key in record.tags)) return;
    const changed = await this.table.updateVersion(model.modelId, version, { deleteTag: key, now: this.clock.now() });
    if (!changed) throw this.versionNotFound(name, version);
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

  // ---- serving state ------------------------------------------------------------------

  /**
   * What a model host needs: the model (aliases) and all its versions to route requests, and
   * the model's serving config, whose batching and workers the running task applies live.
   */
  async servingSnapshot(
    name: string,
  ): Promise<{ model: RegisteredModel; versions: ModelVersion[]; serving?: ServingConfig }> {
    const model = await this.requireModel(name);
    const versions = (await this.table.listVersions(model.modelId)).map((r) => this.versionView(model, r));
    const view = this.modelView(model);
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

  // ---- permissions ----------------------------------------------------------------------

  /** The model's access control list: principal -> permission level. */
  async getPermissions(name: string): Promise<Record<string, string>> {
    return { ...(await this.requireModel(name)).permissions };
  }

  /** Sets (or, with a null level, removes) principals' levels on a model; returns the new list. */
  async updatePermissions(
    name: string,
    changes: readonly { principal: string; level: string | null }[],
    validLevels: readonly string[],
  ): Promise<Record<string, string>> {
    for (const change of changes) {
      const problem =
        principalProblem(change.principal) ??
        (change.level === null ? undefined : permissionLevelProblem(change.level, validLevels));
      if (problem !== undefined) throw invalidParameter(problem);
    }
    const model = await this.requireModel(name);
    const next: Record<string, string> = { ...model.permissions };
    for (const change of changes) {
      if (change.level === null) delete next[change.principal];
      else next[change.principal] = change.level;
    }
    const updated = await this.table.setModelPermissions(model.modelId, next);
    if (!updated) throw this.modelNotFound(name);
    return { ...updated.permissions };
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
    if (!updated?.serving) throw this.modelNotFound(name);
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
    if (!updated?.serving) throw this.modelNotFound(name);
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
    return (await this.table.listModels()).filter((m) => m.serving !== undefined).map((m) => this.modelView(m));
  }

  /** Notes that `name` should converge again (see the deploy-model definition's run claim). */
  async requestConvergence(name: string): Promise<void> {
    const model = await this.requireModel(name);
    await this.table.addConvergenceRequest(model.modelId);
  }

  /** The name of the model with this registry id (serving resources are named by id). */
  async modelNameById(modelId: string): Promise<string | undefined> {
    return (await this.table.getModelById(modelId))?.name;
  }

  async recordHostReport(name: string, report: HostReport): Promise<void> {
    const model = await this.requireModel(name);
    await this.table.putHostReport(model.modelId, report);
  }

  async hostReport(name: string): Promise<HostReport | undefined> {
    const model = await this.requireModel(name);
    return this.table.getHostReport(model.modelId);
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
    const recorded = await this.table.getModelServingStatus(model.modelId);
    if (recorded && recorded.state !== 'STOPPED') {
      throw new MlflowError(
        'INVALID_STATE',
        `Cannot ${action} '${model.name}' while its serving task is still being torn down; try again shortly.`,
        400,
      );
    }
  }

  // ---- helpers -----------------------------------------------------------------------

  private requireStage(input: string): Stage {
    const stage = canonicalStage(input);
    if (!stage) throw invalidParameter(stageProblem(input) as string);
    return stage;
  }

  private async requireModel(name: string): Promise<ModelRecord> {
    validateModelName(name);
    const model = await this.table.findModel(name);
    if (!model) throw this.modelNotFound(name);
    return model;
  }

  private modelNotFound(name: string): MlflowError {
    return notFound(`Registered Model with name=${name} not found`);
  }

  private versionNotFound(name: string, version: number): MlflowError {
    return notFound(`Model Version (name=${name}, version=${version}) not found`);
  }

  private modelView({ modelId: _, servingWrites: __, ...model }: ModelRecord): RegisteredModel {
    return model;
  }

  private versionView(model: ModelRecord, { modelId: _, ...record }: VersionRecord): ModelVersion {
    const aliases = Object.entries(model.aliases)
      .filter(([, v]) => v === record.version)
      .map(([a]) => a)
      .sort();
    return { ...record, name: model.name, aliases };
  }

  /**
   * The highest version in each stage, stages in the order they first appear walking the
   * versions oldest first (the order MLflow's SQL store gives).
   */
  private latestPerStage(model: ModelRecord, versions: readonly VersionRecord[]): ModelVersion[] {
    const latest = new Map<Stage, VersionRecord>();
    for (const v of [...versions].sort((a, b) => a.version - b.version)) latest.set(v.currentStage, v);
    return [...latest.values()].map((v) => this.versionView(model, v));
  }

  private withLatestVersions(model: ModelRecord, versions: readonly VersionRecord[]): RegisteredModelView {
    return { ...this.modelView(model), latestVersions: this.latestPerStage(model, versions) };
  }

  private async emit(...events: NewDomainEvent[]): Promise<void> {
    if (events.length === 0) return;
    const now = this.clock.now();
    const built = events.map((e) => domainEvent(e, now));
    try {
      await this.deps.events.publish(built);
    } catch (error) {
      // The change is stored; the periodic reconcile converges anything that missed the event.
      this.deps.onPublishError?.(error, built);
    }
  }
}
