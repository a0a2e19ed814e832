/**
 * The registry's storage on DynamoDB: registered models, their names, versions, aliases and
 * leases, in the one table laid out in `core/table/layout.ts`, with single-item conditional
 * writes only. The table design is documented in docs/design.md ("Registry table").
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  conditional,
  deleteItems,
  documentClient,
  findModelItem,
  getItems,
  getModelItem,
  isConditionFailure,
  queryAll,
} from '../table/dynamo';
import {
  BY_KIND,
  BY_RUN,
  type Key,
  KIND,
  modelKey,
  modelPk,
  nameKey,
  PREFIX,
  SORT_KEY,
  servingModelKey,
  versionIndexSk,
  versionKey,
} from '../table/layout';
import type { Tags } from './model';
import {
  changedVersion,
  type ModelRecord,
  type NewVersion,
  toModel,
  toVersion,
  type VersionChange,
  type VersionRecord,
  versionUpdate,
} from './records';

export type { ModelRecord, NewVersion, VersionRecord } from './records';

export class RegistryTable {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.doc = documentClient(client);
  }

  // ---- registered models -------------------------------------------------------------

  /** Looks a model up by name; a name pointer is trusted only if its model still carries that name. */
  async findModel(name: string): Promise<ModelRecord | undefined> {
    const item = await findModelItem(this.doc, this.tableName, name);
    return item ? toModel(item) : undefined;
  }

  async getModelById(modelId: string): Promise<ModelRecord | undefined> {
    const item = await getModelItem(this.doc, this.tableName, modelId);
    return item ? toModel(item) : undefined;
  }

  /**
   * Claims `name` for `modelId`. Succeeds when the name is free, or when its pointer is
   * stale (left by an interrupted rename or delete: its model is gone or renamed).
   */
  private async claimName(name: string, modelId: string): Promise<boolean> {
    const put = (condition: string, values?: Record<string, unknown>) =>
      conditional(() =>
        this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...nameKey(name), kind: KIND.name, name, modelId },
            ConditionExpression: condition,
            ExpressionAttributeValues: values,
          }),
        ),
      );
    if (await put('attribute_not_exists(PK)')) return true;
    const current = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: nameKey(name), ConsistentRead: true }),
    );
    const holder = current.Item?.modelId as string | undefined;
    if (!holder) return put('attribute_not_exists(PK)');
    const model = await this.getModelById(holder);
    if (model && model.name === name) return false;
    return put('modelId = :stale', { ':stale': holder });
  }

  private async releaseName(name: string, modelId: string): Promise<void> {
    await conditional(() =>
      this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: nameKey(name),
          ConditionExpression: 'modelId = :id',
          ExpressionAttributeValues: { ':id': modelId },
        }),
      ),
    );
  }

  /** Creates a model; returns undefined when the name is taken. */
  async createModel(input: {
    name: string;
    description: string;
    tags: Tags;
    now: number;
    permissions?: Record<string, string>;
  }): Promise<ModelRecord | undefined> {
    const modelId = randomUUID();
    if (!(await this.claimName(input.name, modelId))) return undefined;
    const record: ModelRecord = {
      modelId,
      name: input.name,
      description: input.description,
      creationTimestamp: input.now,
      lastUpdatedTimestamp: input.now,
      tags: input.tags,
      aliases: {},
      latestVersionNumber: 0,
      permissions: input.permissions ?? {},
    };
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...modelKey(modelId), kind: KIND.model, GSI1PK: KIND.model, GSI1SK: input.name, ...record },
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
    return record;
  }

  /**
   * Renames a model: claim the new name, move the model record to it (only if it still has
   * the old name), then release the old name. Returns 'taken' if the new name is in use and
   * 'gone' if the model vanished or was renamed meanwhile.
   */
  async renameModel(model: ModelRecord, newName: string, now: number): Promise<'ok' | 'taken' | 'gone'> {
    if (!(await this.claimName(newName, model.modelId))) return 'taken';
    const moved = await conditional(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: modelKey(model.modelId),
          UpdateExpression: 'SET #name = :new, GSI1SK = :new, lastUpdatedTimestamp = :now',
          ConditionExpression: 'attribute_exists(PK) AND #name = :old',
          ExpressionAttributeNames: { '#name': 'name' },
          ExpressionAttributeValues: { ':new': newName, ':old': model.name, ':now': now },
        }),
      ),
    );
    if (!moved) {
      await this.releaseName(newName, model.modelId);
      return 'gone';
    }
    await this.releaseName(model.name, model.modelId);
    return 'ok';
  }

  /** Updates model-level fields; returns the new record, or undefined if the model is gone. */
  async updateModel(
    modelId: string,
    change: { description?: string; setTag?: [string, string]; deleteTag?: string; now?: number },
  ): Promise<ModelRecord | undefined> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    if (change.now !== undefined) {
      sets.push('lastUpdatedTimestamp = :now');
      values[':now'] = change.now;
    }
    const removes: string[] = [];
    if (change.description !== undefined) {
      sets.push('description = :d');
      values[':d'] = change.description;
    }
    if (change.setTag) {
      names['#k'] = change.setTag[0];
      values[':v'] = change.setTag[1];
      sets.push('tags.#k = :v');
    }
    if (change.deleteTag !== undefined) {
      names['#k'] = change.deleteTag;
      removes.push('tags.#k');
    }
    return this.updateModelItem(modelId, sets, removes, names, values);
  }

  async setAlias(modelId: string, alias: string, version: number, now: number): Promise<ModelRecord | undefined> {
    return this.updateModelItem(
      modelId,
      ['aliases.#a = :n', 'lastUpdatedTimestamp = :now'],
      [],
      { '#a': alias },
      { ':n': version, ':now': now },
    );
  }

  /**
   * Removes an alias. With `onlyIfVersion`, removes it only while it still points at that
   * version (so a concurrent move of the alias is never undone).
   */
  async deleteAlias(modelId: string, alias: string, now: number, onlyIfVersion?: number): Promise<boolean> {
    return conditional(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: modelKey(modelId),
          UpdateExpression: 'REMOVE aliases.#a SET lastUpdatedTimestamp = :now',
          ConditionExpression: onlyIfVersion === undefined ? 'attribute_exists(aliases.#a)' : 'aliases.#a = :n',
          ExpressionAttributeNames: { '#a': alias },
          ExpressionAttributeValues: {
            ':now': now,
            ...(onlyIfVersion === undefined ? {} : { ':n': onlyIfVersion }),
          },
        }),
      ),
    );
  }

  /**
   * Takes a named lease on a model (a lock that expires, so a crashed holder cannot block
   * others for longer than `ttlMs`). Returns the lease token, or undefined if another
   * holder has it or the model is gone.
   */
  async acquireModelLease(modelId: string, purpose: string, ttlMs: number, now: number): Promise<string | undefined> {
    const token = randomUUID();
    const acquired = await conditional(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: modelKey(modelId),
          UpdateExpression: 'SET #lease = :token, #expires = :expires',
          ConditionExpression: 'attribute_exists(PK) AND (attribute_not_exists(#lease) OR #expires < :now)',
          ExpressionAttributeNames: { '#lease': `lease_${purpose}`, '#expires': `leaseExpires_${purpose}` },
          ExpressionAttributeValues: { ':token': token, ':expires': now + ttlMs, ':now': now },
        }),
      ),
    );
    return acquired ? token : undefined;
  }

  async releaseModelLease(modelId: string, purpose: string, token: string): Promise<void> {
    await conditional(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: modelKey(modelId),
          UpdateExpression: 'REMOVE #lease, #expires',
          ConditionExpression: '#lease = :token',
          ExpressionAttributeNames: { '#lease': `lease_${purpose}`, '#expires': `leaseExpires_${purpose}` },
          ExpressionAttributeValues: { ':token': token },
        }),
      ),
    );
  }

  /** Marks the model touched (MLflow bumps a model's last update when its versions change). */
  async touchModel(modelId: string, now: number): Promise<void> {
    await this.updateModelItem(modelId, ['lastUpdatedTimestamp = :now'], [], {}, { ':now': now });
  }

  private async updateModelItem(
    modelId: string,
    sets: string[],
    removes: string[],
    names: Record<string, string>,
    values: Record<string, unknown>,
  ): Promise<ModelRecord | undefined> {
    const expression = [
      sets.length > 0 ? `SET ${sets.join(', ')}` : '',
      removes.length > 0 ? `REMOVE ${removes.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: modelKey(modelId),
          UpdateExpression: expression,
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeNames: Object.keys(names).length > 0 ? names : undefined,
          ExpressionAttributeValues: Object.keys(values).length > 0 ? values : undefined,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ? toModel(out.Attributes) : undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Deletes a model with everything stored under it (versions, serving state, events), then its name. */
  async deleteModel(model: ModelRecord): Promise<void> {
    await this.deleteModelChildren(model.modelId);
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: modelKey(model.modelId) }));
    await this.releaseName(model.name, model.modelId);
    // A version create that passed its check before the model item went may land afterwards.
    await this.deleteModelChildren(model.modelId);
  }

  private async deleteModelChildren(modelId: string): Promise<void> {
    const keys = (
      await queryAll(this.doc, {
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': modelPk(modelId) },
        ProjectionExpression: 'PK, SK',
        ConsistentRead: true,
      })
    ).filter((item) => item.SK !== SORT_KEY.model);
    await deleteItems(this.doc, this.tableName, keys as Key[]);
  }

  /** Every model, in name order (the ByKind index), optionally only names starting with `prefix`. */
  async listModels(prefix?: string): Promise<ModelRecord[]> {
    const input: QueryCommandInput = {
      TableName: this.tableName,
      IndexName: BY_KIND.name,
      KeyConditionExpression: prefix ? 'GSI1PK = :k AND begins_with(GSI1SK, :p)' : 'GSI1PK = :k',
      ExpressionAttributeValues: prefix ? { ':k': KIND.model, ':p': prefix } : { ':k': KIND.model },
    };
    return (await queryAll(this.doc, input)).map(toModel);
  }

  async getModelsByIds(modelIds: readonly string[]): Promise<Map<string, ModelRecord>> {
    const items = await getItems(this.doc, this.tableName, [...new Set(modelIds)].map(modelKey));
    return new Map(items.map((item) => [item.modelId as string, toModel(item)]));
  }

  // ---- model versions ----------------------------------------------------------------

  /**
   * Creates the next version of a model: one atomic counter increment on the model item
   * hands out the number (so concurrent creates never share or skip one), then the
   * version item is written under it. Returns undefined if the model is gone.
   */
  async createVersion(modelId: string, input: NewVersion, now: number): Promise<VersionRecord | undefined> {
    let version: number;
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: modelKey(modelId),
          UpdateExpression: 'SET latestVersionNumber = latestVersionNumber + :one, lastUpdatedTimestamp = :now',
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeValues: { ':one': 1, ':now': now },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      version = out.Attributes?.latestVersionNumber as number;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
    const record: VersionRecord = {
      ...input,
      modelId,
      version,
      creationTimestamp: now,
      lastUpdatedTimestamp: now,
      currentStage: 'None',
      status: 'PENDING_REGISTRATION',
    };
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...versionKey(modelId, version),
          kind: KIND.version,
          GSI1PK: KIND.version,
          GSI1SK: versionIndexSk(modelId, version),
          ...(input.runId ? { GSI2PK: input.runId, GSI2SK: versionIndexSk(modelId, version) } : {}),
          ...record,
        },
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
    return record;
  }

  async getVersion(modelId: string, version: number): Promise<VersionRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: versionKey(modelId, version), ConsistentRead: true }),
    );
    return out.Item ? toVersion(out.Item) : undefined;
  }

  /** All versions of one model, oldest first. */
  async listVersions(modelId: string): Promise<VersionRecord[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :v)',
      ExpressionAttributeValues: { ':pk': modelPk(modelId), ':v': PREFIX.version },
      ConsistentRead: true,
    });
    return items.map(toVersion);
  }

  /** Every version in the registry (the ByKind index). */
  async listAllVersions(): Promise<VersionRecord[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      IndexName: BY_KIND.name,
      KeyConditionExpression: 'GSI1PK = :k',
      ExpressionAttributeValues: { ':k': KIND.version },
    });
    return items.map(toVersion);
  }

  /** Versions created from one run (the ByRun index). */
  async listVersionsByRun(runId: string): Promise<VersionRecord[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      IndexName: BY_RUN.name,
      KeyConditionExpression: 'GSI2PK = :r',
      ExpressionAttributeValues: { ':r': runId },
    });
    return items.map(toVersion);
  }

  /**
   * Updates a version. `expectStage` / `expectStatus` make the write conditional on the
   * version's current stage / status. Returns the old and new records, or undefined
   * when the version is gone or an expectation did not hold.
   */
  async updateVersion(
    modelId: string,
    version: number,
    change: VersionChange,
  ): Promise<{ before: VersionRecord; after: VersionRecord } | undefined> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: versionKey(modelId, version),
          ...versionUpdate(change),
          ReturnValues: 'ALL_OLD',
        }),
      );
      const before = toVersion(out.Attributes ?? {});
      return { before, after: changedVersion(before, change) };
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  async deleteVersion(modelId: string, version: number): Promise<VersionRecord | undefined> {
    const out = await this.doc.send(
      new DeleteCommand({ TableName: this.tableName, Key: versionKey(modelId, version), ReturnValues: 'ALL_OLD' }),
    );
    return out.Attributes ? toVersion(out.Attributes) : undefined;
  }

  /**
   * The state the deploy workflow recorded for the model's serving (its `SERVING#MODEL` item),
   * which a delete or rename waits on until the serving task is torn down.
   */
  async recordedServingState(modelId: string): Promise<string | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: servingModelKey(modelId), ConsistentRead: true }),
    );
    return out.Item?.state as string | undefined;
  }
}
