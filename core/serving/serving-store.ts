/**
 * The serving control plane's storage, in the registry's table (`core/table/layout.ts`): the
 * serving settings on the model item, each version's serving state as its host reports it,
 * serving events, the host report, and the deploy workflow's `SERVING#MODEL` record.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  COMPUTE_SIZES,
  type ComputeSize,
  type HostReport,
  type ModelServingStatus,
  type RegisteredModel,
  type ServingBatching,
  type ServingEvent,
  type Tags,
  type VersionServingStatus,
} from '../registry/model';
import { type ModelRecord, toModel } from '../registry/records';
import { conditional, documentClient, getModelItem, isConditionFailure, queryAll } from '../table/dynamo';
import {
  eventKey,
  hostReportKey,
  KIND,
  modelKey,
  modelPk,
  PREFIX,
  PRIORITY_COUNTER_KEY,
  servingModelKey,
  servingVersionKey,
} from '../table/layout';

/** Serving settings as a change writes them; `bump` asks for a new serving revision (a new task). */
export interface ServingUpdate {
  readonly enabled: boolean;
  readonly computeSize: ComputeSize;
  readonly tags: Tags;
  readonly batching?: ServingBatching;
  readonly workersPerVersion?: number;
  readonly bump: boolean;
}

export class ServingTable {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.doc = documentClient(client);
  }

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
            ...servingVersionKey(modelId, status.version),
            kind: KIND.servingStatus,
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
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :s)',
      ExpressionAttributeValues: { ':pk': modelPk(modelId), ':s': PREFIX.servingVersion },
      ConsistentRead: true,
    });
    return items.map((item) => {
      const { PK: _pk, SK: _sk, kind: _kind, modelId: _id, ...status } = item;
      return status as unknown as Omit<VersionServingStatus, 'name'>;
    });
  }

  async addServingEvent(modelId: string, event: Omit<ServingEvent, 'name'>): Promise<void> {
    const at = new Date(event.time).toISOString();
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...eventKey(modelId, at, randomUUID()), kind: KIND.event, at, ...event },
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
          ExpressionAttributeValues: { ':pk': modelPk(modelId), ':e': PREFIX.event },
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
        Key: PRIORITY_COUNTER_KEY,
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
        Key: servingModelKey(modelId),
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
        Key: servingModelKey(modelId),
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
          Item: { ...hostReportKey(modelId), kind: KIND.hostReport, ...report },
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
        Key: hostReportKey(modelId),
        ConsistentRead: true,
      }),
    );
    if (!out.Item) return undefined;
    const { PK: _pk, SK: _sk, kind: _kind, ...report } = out.Item;
    return report as HostReport;
  }

  private async getModelById(modelId: string): Promise<ModelRecord | undefined> {
    const item = await getModelItem(this.doc, this.tableName, modelId);
    return item ? toModel(item) : undefined;
  }
}
