/**
 * The registry's storage on DynamoDB: one table, single-item conditional writes only
 * (no transactions, no streams), so the same code runs against AWS and a local
 * DynamoDB-API server. The table design is documented in the README ("Registry table").
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type ArtifactInfo,
  COMPUTE_SIZES,
  type ComputeSize,
  DEFAULT_COMPUTE_SIZE,
  type HostReport,
  type ModelServingStatus,
  type ModelVersion,
  type ModelVersionStatus,
  type RegisteredModel,
  type ServingBatching,
  type ServingEvent,
  type Stage,
  type Tags,
  type VersionServingStatus,
} from './model';
import { REGISTRY_TABLE_SCHEMA } from './table-schema';

const [BY_KIND, BY_RUN] = REGISTRY_TABLE_SCHEMA.indexes;
const GSI_BY_KIND = BY_KIND.name;
const GSI_BY_RUN = BY_RUN.name;

/** A registered model as stored: the domain fields, keyed by an id that survives renames. */
export type ModelRecord = RegisteredModel & {
  readonly modelId: string;
  /**
   * Counts the writes of the serving settings: every change is conditional on it, so changes
   * that need no new serving revision (disable, batching, workers) cannot lose each other.
   */
  readonly servingWrites?: number;
};

/** Serving settings as a change writes them; `bump` asks for a new serving revision (a new task). */
export interface ServingUpdate {
  readonly enabled: boolean;
  readonly computeSize: ComputeSize;
  readonly tags: Tags;
  readonly batching?: ServingBatching;
  readonly workersPerVersion?: number;
  readonly bump: boolean;
}

/** A model version as stored: its model's name and aliases live on the model item. */
export type VersionRecord = Omit<ModelVersion, 'name' | 'aliases'> & { readonly modelId: string };

export type NewVersion = Omit<
  VersionRecord,
  'modelId' | 'version' | 'creationTimestamp' | 'lastUpdatedTimestamp' | 'currentStage' | 'status'
>;

const nameKey = (name: string) => ({ PK: `NAME#${name}`, SK: 'NAME' });
const modelKey = (modelId: string) => ({ PK: `MODEL#${modelId}`, SK: 'MODEL' });
const versionSk = (version: number) => `VERSION#${String(version).padStart(10, '0')}`;
const versionKey = (modelId: string, version: number) => ({ PK: `MODEL#${modelId}`, SK: versionSk(version) });

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error instanceof Error && error.name === 'ConditionalCheckFailedException')
  );
}

/** Runs a conditional write; returns false instead of throwing when the condition did not hold. */
async function conditional(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

function toModel(item: Record<string, unknown>): ModelRecord {
  return {
    modelId: item.modelId as string,
    name: item.name as string,
    description: (item.description as string | undefined) ?? '',
    creationTimestamp: item.creationTimestamp as number,
    lastUpdatedTimestamp: item.lastUpdatedTimestamp as number,
    tags: (item.tags as Tags | undefined) ?? {},
    aliases: (item.aliases as Record<string, number> | undefined) ?? {},
    latestVersionNumber: (item.latestVersionNumber as number | undefined) ?? 0,
    permissions: (item.permissions as Record<string, string> | undefined) ?? {},
    serving:
      item.servingRevision === undefined
        ? undefined
        : {
            enabled: item.servingEnabled === true,
            computeSize: (item.servingCompute as ComputeSize | undefined) ?? DEFAULT_COMPUTE_SIZE,
            tags: (item.servingTags as Tags | undefined) ?? {},
            revision: item.servingRevision as number,
            priority: item.servingPriority as number | undefined,
            ...(item.servingBatching === undefined ? {} : { batching: toBatching(item.servingBatching) }),
            ...(item.servingWorkersPerVersion === undefined
              ? {}
              : { workersPerVersion: item.servingWorkersPerVersion as number }),
          },
    servingWrites: item.servingWrites as number | undefined,
  };
}

/** The stored batching map, with only the fields it holds. */
function toBatching(stored: unknown): ServingBatching {
  const { enabled, maxBatchRows, maxWaitMs } = stored as Record<string, unknown>;
  return {
    ...(typeof enabled === 'boolean' ? { enabled } : {}),
    ...(typeof maxBatchRows === 'number' ? { maxBatchRows } : {}),
    ...(typeof maxWaitMs === 'number' ? { maxWaitMs } : {}),
  };
}

/** A token as stored: its secret's hash (the key), never the secret. */
export interface TokenRecord {
  readonly hash: string;
  readonly tokenId: string;
  readonly principal: string;
  readonly description: string;
  readonly createdAt: number;
  readonly expiresAt?: number;
  readonly revokedAt?: number;
  readonly lastUsedAt?: number;
}

function toToken(item: Record<string, unknown>): TokenRecord {
  return {
    hash: item.hash as string,
    tokenId: item.tokenId as string,
    principal: item.principal as string,
    description: (item.description as string | undefined) ?? '',
    createdAt: item.createdAt as number,
    expiresAt: item.expiresAt as number | undefined,
    revokedAt: item.revokedAt as number | undefined,
    lastUsedAt: item.lastUsedAt as number | undefined,
  };
}

function toVersion(item: Record<string, unknown>): VersionRecord {
  return {
    modelId: item.modelId as string,
    version: item.version as number,
    creationTimestamp: item.creationTimestamp as number,
    lastUpdatedTimestamp: item.lastUpdatedTimestamp as number,
    userId: item.userId as string | undefined,
    currentStage: item.currentStage as Stage,
    description: (item.description as string | undefined) ?? '',
    source: item.source as string,
    runId: (item.runId as string | undefined) ?? '',
    runLink: item.runLink as string | undefined,
    status: item.status as ModelVersionStatus,
    statusMessage: item.statusMessage as string | undefined,
    tags: (item.tags as Tags | undefined) ?? {},
    artifact: item.artifact as ArtifactInfo | undefined,
  };
}

export class RegistryTable {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  // ---- registered models -------------------------------------------------------------

  /** Looks a model up by name; a name pointer is trusted only if its model still carries that name. */
  async findModel(name: string): Promise<ModelRecord | undefined> {
    const pointer = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: nameKey(name), ConsistentRead: true }),
    );
    const modelId = pointer.Item?.modelId as string | undefined;
    if (!modelId) return undefined;
    const model = await this.getModelById(modelId);
    return model && model.name === name ? model : undefined;
  }

  async getModelById(modelId: string): Promise<ModelRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: modelKey(modelId), ConsistentRead: true }),
    );
    return out.Item ? toModel(out.Item) : undefined;
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
            Item: { ...nameKey(name), kind: 'NAME', name, modelId },
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
        Item: { ...modelKey(modelId), kind: 'MODEL', GSI1PK: 'MODEL', GSI1SK: input.name, ...record },
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
      await this.queryAll({
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': `MODEL#${modelId}` },
        ProjectionExpression: 'PK, SK',
        ConsistentRead: true,
      })
    ).filter((item) => item.SK !== 'MODEL');
    for (let i = 0; i < keys.length; i += 25) {
      let pending = keys.slice(i, i + 25).map((item) => ({ DeleteRequest: { Key: { PK: item.PK, SK: item.SK } } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
        const out = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
        pending = (out.UnprocessedItems?.[this.tableName] as typeof pending | undefined) ?? [];
        if (attempt > 8 && pending.length > 0) throw new Error('DynamoDB left deletes unprocessed');
      }
    }
  }

  /** Every model, in name order (the ByKind index), optionally only names starting with `prefix`. */
  async listModels(prefix?: string): Promise<ModelRecord[]> {
    const input: QueryCommandInput = {
      TableName: this.tableName,
      IndexName: GSI_BY_KIND,
      KeyConditionExpression: prefix ? 'GSI1PK = :k AND begins_with(GSI1SK, :p)' : 'GSI1PK = :k',
      ExpressionAttributeValues: prefix ? { ':k': 'MODEL', ':p': prefix } : { ':k': 'MODEL' },
    };
    return (await this.queryAll(input)).map(toModel);
  }

  async getModelsByIds(modelIds: readonly string[]): Promise<Map<string, ModelRecord>> {
    const found = new Map<string, ModelRecord>();
    const unique = [...new Set(modelIds)];
    for (let i = 0; i < unique.length; i += 100) {
      let keys: Record<string, unknown>[] = unique.slice(i, i + 100).map(modelKey);
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
        const out = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of out.Responses?.[this.tableName] ?? []) found.set(item.modelId as string, toModel(item));
        keys = out.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
        if (attempt > 8 && keys.length > 0) throw new Error('DynamoDB left model reads unprocessed');
      }
    }
    return found;
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
    const padded = String(version).padStart(10, '0');
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...versionKey(modelId, version),
          kind: 'VERSION',
          GSI1PK: 'VERSION',
          GSI1SK: `${modelId}#${padded}`,
          ...(input.runId ? { GSI2PK: input.runId, GSI2SK: `${modelId}#${padded}` } : {}),
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
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :v)',
      ExpressionAttributeValues: { ':pk': `MODEL#${modelId}`, ':v': 'VERSION#' },
      ConsistentRead: true,
    });
    return items.map(toVersion);
  }

  /** Every version in the registry (the ByKind index). */
  async listAllVersions(): Promise<VersionRecord[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      IndexName: GSI_BY_KIND,
      KeyConditionExpression: 'GSI1PK = :k',
      ExpressionAttributeValues: { ':k': 'VERSION' },
    });
    return items.map(toVersion);
  }

  /** Versions created from one run (the ByRun index). */
  async listVersionsByRun(runId: string): Promise<VersionRecord[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      IndexName: GSI_BY_RUN,
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
    change: {
      description?: string;
      stage?: Stage;
      status?: ModelVersionStatus;
      statusMessage?: string;
      artifact?: ArtifactInfo;
      setTag?: [string, string];
      deleteTag?: string;
      expectStage?: Stage;
      expectStatus?: ModelVersionStatus;
      now: number;
    },
  ): Promise<{ before: VersionRecord; after: VersionRecord } | undefined> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':now': change.now };
    const sets = ['lastUpdatedTimestamp = :now'];
    const removes: string[] = [];
    const conditions = ['attribute_exists(PK)'];
    const assign = (attr: string, value: unknown) => {
      sets.push(`#${attr} = :${attr}`);
      names[`#${attr}`] = attr;
      values[`:${attr}`] = value;
    };
    if (change.description !== undefined) assign('description', change.description);
    if (change.stage !== undefined) assign('currentStage', change.stage);
    if (change.status !== undefined) assign('status', change.status);
    if (change.statusMessage !== undefined) assign('statusMessage', change.statusMessage);
    if (change.artifact !== undefined) assign('artifact', change.artifact);
    if (change.setTag) {
      names['#k'] = change.setTag[0];
      values[':tv'] = change.setTag[1];
      sets.push('tags.#k = :tv');
    }
    if (change.deleteTag !== undefined) {
      names['#k'] = change.deleteTag;
      removes.push('tags.#k');
    }
    if (change.expectStage !== undefined) {
      names['#stage'] = 'currentStage';
      values[':expectStage'] = change.expectStage;
      conditions.push('#stage = :expectStage');
    }
    if (change.expectStatus !== undefined) {
      names['#status'] = 'status';
      values[':expectStatus'] = change.expectStatus;
      conditions.push('#status = :expectStatus');
    }
    let expression = `SET ${sets.join(', ')}`;
    if (removes.length > 0) expression += ` REMOVE ${removes.join(', ')}`;
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: versionKey(modelId, version),
          UpdateExpression: expression,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: Object.keys(names).length > 0 ? names : undefined,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_OLD',
        }),
      );
      const before = toVersion(out.Attributes ?? {});
      const tags = { ...before.tags };
      if (change.setTag) tags[change.setTag[0]] = change.setTag[1];
      if (change.deleteTag !== undefined) delete tags[change.deleteTag];
      const after: VersionRecord = {
        ...before,
        description: change.description ?? before.description,
        currentStage: change.stage ?? before.currentStage,
        status: change.status ?? before.status,
        statusMessage: change.statusMessage ?? before.statusMessage,
        artifact: change.artifact ?? before.artifact,
        tags,
        lastUpdatedTimestamp: change.now,
      };
      return { before, after };
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

  // ---- serving state and events -------------------------------------------------------

  /**
   * Writes the serving state of one version (whole item: the latest report wins), unless the
   * recorded report is from a newer serving revision or, with `onlyOwnReport`, from another
   * host. Answers whether it was written.
   */
  async putServingStatus(
    modelId: string,
    status: Omit<VersionServingStatus, 'name'>,
    options: { readonly onlyOwnReport?: boolean } = {},
  ): Promise<boolean> {
    const condition: Pick<
      PutCommandInput,
      'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    > = options.onlyOwnReport
      ? {
          ConditionExpression: '#host = :host',
          ExpressionAttributeNames: { '#host': 'host' },
          ExpressionAttributeValues: { ':host': status.host ?? '' },
        }
      : status.revision !== undefined
        ? {
            ConditionExpression: 'attribute_not_exists(#revision) OR #revision <= :revision',
            ExpressionAttributeNames: { '#revision': 'revision' },
            ExpressionAttributeValues: { ':revision': status.revision },
          }
        : {};
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            PK: `MODEL#${modelId}`,
            SK: `SERVING#VERSION#${String(status.version).padStart(10, '0')}`,
            kind: 'SERVING',
            modelId,
            ...status,
          },
          ...condition,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async listServingStatuses(modelId: string): Promise<Omit<VersionServingStatus, 'name'>[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :s)',
      ExpressionAttributeValues: { ':pk': `MODEL#${modelId}`, ':s': 'SERVING#VERSION#' },
      ConsistentRead: true,
    });
    return items.map((item) => {
      const { PK: _pk, SK: _sk, kind: _kind, modelId: _id, ...status } = item;
      return status as unknown as Omit<VersionServingStatus, 'name'>;
    });
  }

  async addServingEvent(modelId: string, event: Omit<ServingEvent, 'name'>): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          PK: `MODEL#${modelId}`,
          SK: `EVENT#${new Date(event.time).toISOString()}#${randomUUID()}`,
          kind: 'EVENT',
          at: new Date(event.time).toISOString(),
          ...event,
        },
      }),
    );
  }

  /** Serving events, newest first; only one version's when `version` is given. */
  async listServingEvents(
    modelId: string,
    options: { limit: number; version?: number },
  ): Promise<Omit<ServingEvent, 'name'>[]> {
    const events: Omit<ServingEvent, 'name'>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :e)',
          ExpressionAttributeValues: { ':pk': `MODEL#${modelId}`, ':e': 'EVENT#' },
          ScanIndexForward: false,
          ExclusiveStartKey: startKey,
          Limit: Math.max(options.limit, 25),
        }),
      );
      for (const item of out.Items ?? []) {
        if (options.version !== undefined && item.version !== options.version) continue;
        events.push({
          time: (item.time as number | undefined) ?? Date.parse(item.at as string),
          type: item.type as ServingEvent['type'],
          message: (item.message as string | undefined) ?? '',
          ...(item.version === undefined ? {} : { version: item.version as number }),
        });
        if (events.length >= options.limit) return events;
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return events;
  }

  /**
   * Changes a model's serving settings with optimistic concurrency on its serving revision and
   * its count of serving writes. `change` gets the current settings and returns the new ones
   * (or undefined for no change); it runs again on a fresh read when another write came first.
   * Batching and workers absent from the new settings are removed (the host's defaults).
   */
  async updateServing(
    modelId: string,
    change: (current: RegisteredModel['serving']) => ServingUpdate | undefined,
  ): Promise<ModelRecord | undefined> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const model = await this.getModelById(modelId);
      if (!model) return undefined;
      const next = change(model.serving);
      if (!next) return model;
      const revision = (model.serving?.revision ?? 0) + (next.bump ? 1 : 0);
      const batching = next.batching && Object.keys(next.batching).length > 0 ? next.batching : undefined;
      const set = [
        'servingEnabled = :e, servingCompute = :c, servingTags = :t, servingRevision = :r',
        'servingCpu = :cpu, servingMemory = :mem, servingTaskTags = :taskTags, servingWrites = :writes',
        ...(batching ? ['servingBatching = :batching'] : []),
        ...(next.workersPerVersion !== undefined ? ['servingWorkersPerVersion = :workers'] : []),
      ];
      const remove = [
        ...(batching ? [] : ['servingBatching']),
        ...(next.workersPerVersion !== undefined ? [] : ['servingWorkersPerVersion']),
      ];
      const ok = await conditional(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: modelKey(modelId),
            UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
            ConditionExpression:
              model.serving === undefined
                ? 'attribute_exists(PK) AND attribute_not_exists(servingRevision)'
                : `attribute_exists(PK) AND servingRevision = :old AND ${
                    model.servingWrites === undefined
                      ? 'attribute_not_exists(servingWrites)'
                      : 'servingWrites = :oldWrites'
                  }`,
            ExpressionAttributeValues: {
              ':e': next.enabled,
              ':c': next.computeSize,
              ':t': next.tags,
              ':r': revision,
              // What the deploy workflow passes to ECS as they are (it cannot reshape typed items).
              ':cpu': String(COMPUTE_SIZES[next.computeSize].cpu),
              ':mem': String(COMPUTE_SIZES[next.computeSize].memoryMiB),
              ':taskTags': JSON.stringify([
                { Key: 'mlserve:model', Value: model.name },
                ...Object.entries(next.tags).map(([Key, Value]) => ({ Key, Value })),
              ]),
              ':writes': (model.servingWrites ?? 0) + 1,
              ...(batching ? { ':batching': batching } : {}),
              ...(next.workersPerVersion !== undefined ? { ':workers': next.workersPerVersion } : {}),
              ...(model.serving === undefined ? {} : { ':old': model.serving.revision }),
              ...(model.servingWrites === undefined ? {} : { ':oldWrites': model.servingWrites }),
            },
          }),
        ),
      );
      if (ok) return this.getModelById(modelId);
    }
    throw new Error('serving settings kept changing under this update; try again');
  }

  /** Gives the model a listener-rule priority, unique across models, once. */
  async assignServingPriority(modelId: string): Promise<void> {
    const out = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { PK: 'SERVING#PRIORITIES', SK: 'COUNTER' },
        UpdateExpression: 'ADD nextPriority :one',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const priority = out.Attributes?.nextPriority as number;
    await conditional(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: modelKey(modelId),
          UpdateExpression: 'SET servingPriority = :p',
          ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(servingPriority)',
          ExpressionAttributeValues: { ':p': priority },
        }),
      ),
    );
  }

  /** The deploy workflow's record of the model's serving state (the `SERVING#MODEL` item). */
  async getModelServingStatus(modelId: string): Promise<Omit<ModelServingStatus, 'name'> | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { PK: `MODEL#${modelId}`, SK: 'SERVING#MODEL' },
        ConsistentRead: true,
      }),
    );
    if (!out.Item?.state) return undefined;
    return {
      state: out.Item.state as ModelServingStatus['state'],
      message: (out.Item.message as string | undefined) ?? '',
      updatedAt: out.Item.updatedAt as string | undefined,
      deployedRevision: out.Item.deployedRevision as number | undefined,
    };
  }

  /** Counts a convergence request, so the deploy run in progress converges once more before it ends. */
  async addConvergenceRequest(modelId: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { PK: `MODEL#${modelId}`, SK: 'SERVING#MODEL' },
        UpdateExpression: 'ADD pendingRequests :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
  }

  /** Writes the host report unless the recorded one is from a newer serving revision. */
  async putHostReport(modelId: string, report: HostReport): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { PK: `MODEL#${modelId}`, SK: 'SERVING#HOST', kind: 'HOST_REPORT', ...report },
          ConditionExpression: 'attribute_not_exists(#revision) OR #revision <= :revision',
          ExpressionAttributeNames: { '#revision': 'revision' },
          ExpressionAttributeValues: { ':revision': report.revision },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async getHostReport(modelId: string): Promise<HostReport | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { PK: `MODEL#${modelId}`, SK: 'SERVING#HOST' },
        ConsistentRead: true,
      }),
    );
    if (!out.Item) return undefined;
    const { PK: _pk, SK: _sk, kind: _kind, ...report } = out.Item;
    return report as HostReport;
  }

  // ---- tokens, principals, permissions ---------------------------------------------------

  async putToken(record: TokenRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          PK: `TOKEN#${record.hash}`,
          SK: 'TOKEN',
          kind: 'TOKEN',
          GSI1PK: 'TOKEN',
          GSI1SK: `${record.principal}#${record.tokenId}`,
          ...record,
        },
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
  }

  async getToken(hash: string): Promise<TokenRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { PK: `TOKEN#${hash}`, SK: 'TOKEN' }, ConsistentRead: true }),
    );
    return out.Item ? toToken(out.Item) : undefined;
  }

  /** Tokens of one principal, or of everyone. */
  async listTokens(principal?: string): Promise<TokenRecord[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      IndexName: GSI_BY_KIND,
      KeyConditionExpression: principal ? 'GSI1PK = :k AND begins_with(GSI1SK, :p)' : 'GSI1PK = :k',
      ExpressionAttributeValues: principal ? { ':k': 'TOKEN', ':p': `${principal}#` } : { ':k': 'TOKEN' },
    });
    return items.map(toToken);
  }

  /** Marks a token revoked; false if it was already revoked or does not exist. */
  async revokeToken(hash: string, now: number): Promise<boolean> {
    return conditional(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { PK: `TOKEN#${hash}`, SK: 'TOKEN' },
          UpdateExpression: 'SET revokedAt = :now',
          ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(revokedAt)',
          ExpressionAttributeValues: { ':now': now },
        }),
      ),
    );
  }

  /** Records a use, at most once per `everyMs` (a coarse last-used time costs few writes). */
  async touchToken(hash: string, now: number, everyMs: number): Promise<void> {
    await conditional(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { PK: `TOKEN#${hash}`, SK: 'TOKEN' },
          UpdateExpression: 'SET lastUsedAt = :now',
          ConditionExpression: 'attribute_exists(PK) AND (attribute_not_exists(lastUsedAt) OR lastUsedAt < :cutoff)',
          ExpressionAttributeValues: { ':now': now, ':cutoff': now - everyMs },
        }),
      ),
    );
  }

  async getPrincipal(name: string): Promise<{ name: string; admin: boolean } | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { PK: `PRINCIPAL#${name}`, SK: 'PRINCIPAL' },
        ConsistentRead: true,
      }),
    );
    return out.Item ? { name, admin: out.Item.admin === true } : undefined;
  }

  async putPrincipal(name: string, admin: boolean): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { PK: `PRINCIPAL#${name}`, SK: 'PRINCIPAL', kind: 'PRINCIPAL', name, admin },
      }),
    );
  }

  /** Replaces a model's access control list (principal -> level). */
  async setModelPermissions(modelId: string, permissions: Record<string, string>): Promise<ModelRecord | undefined> {
    return this.updateModelItem(modelId, ['#acl = :acl'], [], { '#acl': 'permissions' }, { ':acl': permissions });
  }

  private async queryAll(input: QueryCommandInput): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
      items.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}
