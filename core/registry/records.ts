/** The registry's items as stored, and how a stored item reads back as a record. */
import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import {
  type ArtifactInfo,
  type ComputeSize,
  DEFAULT_COMPUTE_SIZE,
  type ModelVersion,
  type ModelVersionStatus,
  type RegisteredModel,
  type ServingBatching,
  type Stage,
  type Tags,
} from './model';

/** A registered model as stored: the domain fields, keyed by an id that survives renames. */
export type ModelRecord = RegisteredModel & {
  readonly modelId: string;
  /**
   * Counts the writes of the serving settings: every change is conditional on it, so changes
   * that need no new serving revision (disable, batching, workers) cannot lose each other.
   */
  readonly servingWrites?: number;
};

/** A model version as stored: its model's name and aliases live on the model item. */
export type VersionRecord = Omit<ModelVersion, 'name' | 'aliases'> & { readonly modelId: string };

export type NewVersion = Omit<
  VersionRecord,
  'modelId' | 'version' | 'creationTimestamp' | 'lastUpdatedTimestamp' | 'currentStage' | 'status'
>;

export function toModel(item: Record<string, unknown>): ModelRecord {
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

export function toVersion(item: Record<string, unknown>): VersionRecord {
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

/**
 * A change to a version. `expectStage` / `expectStatus` make the write conditional on the
 * version's current stage / status.
 */
export interface VersionChange {
  readonly description?: string;
  readonly stage?: Stage;
  readonly status?: ModelVersionStatus;
  readonly statusMessage?: string;
  readonly artifact?: ArtifactInfo;
  readonly setTag?: [string, string];
  readonly deleteTag?: string;
  readonly expectStage?: Stage;
  readonly expectStatus?: ModelVersionStatus;
  readonly now: number;
}

/** The update and condition expressions that write `change` to a version item that exists. */
export function versionUpdate(
  change: VersionChange,
): Pick<
  UpdateCommandInput,
  'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
> {
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
  return {
    UpdateExpression: expression,
    ConditionExpression: conditions.join(' AND '),
    ExpressionAttributeNames: Object.keys(names).length > 0 ? names : undefined,
    ExpressionAttributeValues: values,
  };
}

/** The version after `change`, from the version before it. */
export function changedVersion(before: VersionRecord, change: VersionChange): VersionRecord {
  const tags = { ...before.tags };
  if (change.setTag) tags[change.setTag[0]] = change.setTag[1];
  if (change.deleteTag !== undefined) delete tags[change.deleteTag];
  return {
    ...before,
    description: change.description ?? before.description,
    currentStage: change.stage ?? before.currentStage,
    status: change.status ?? before.status,
    statusMessage: change.statusMessage ?? before.statusMessage,
    artifact: change.artifact ?? before.artifact,
    tags,
    lastUpdatedTimestamp: change.now,
  };
}
