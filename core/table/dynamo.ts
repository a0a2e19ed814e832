/**
 * What every store of the table shares: the document client, conditional writes (single-item
 * conditions only: no transactions, no streams, so the same code runs against AWS and a local
 * DynamoDB-API server), paged queries, and reading a model's item by id or by name.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ATTR, type Key, modelKey, nameKey } from './layout';

export type Item = Record<string, unknown>;

export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error instanceof Error && error.name === 'ConditionalCheckFailedException')
  );
}

/** Runs a conditional write; returns false instead of throwing when the condition did not hold. */
export async function conditional(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** Every item a query finds, across pages. */
export async function queryAll(doc: DynamoDBDocumentClient, input: QueryCommandInput): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Item | undefined;
  do {
    const out = await doc.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
    items.push(...(out.Items ?? []));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** Waits before retrying what DynamoDB left unprocessed: growing, at most a second. */
const backOff = (attempt: number) =>
  attempt > 0 ? new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt))) : Promise.resolve();

/** Reads items by key (consistently), in batches, retrying what DynamoDB left unprocessed; absent items are left out. */
export async function getItems(doc: DynamoDBDocumentClient, tableName: string, keys: readonly Key[]): Promise<Item[]> {
  const found: Item[] = [];
  for (let i = 0; i < keys.length; i += 100) {
    let pending: Item[] = keys.slice(i, i + 100).map((k) => ({ ...k }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      await backOff(attempt);
      const out = await doc.send(
        new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }),
      );
      found.push(...(out.Responses?.[tableName] ?? []));
      pending = out.UnprocessedKeys?.[tableName]?.Keys ?? [];
      if (attempt > 8 && pending.length > 0) throw new Error('DynamoDB left reads unprocessed');
    }
  }
  return found;
}

/** Deletes items by key, in batches, retrying what DynamoDB left unprocessed. */
export async function deleteItems(doc: DynamoDBDocumentClient, tableName: string, keys: readonly Key[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 25) {
    let pending = keys.slice(i, i + 25).map(({ PK, SK }) => ({ DeleteRequest: { Key: { PK, SK } } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      await backOff(attempt);
      const out = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      pending = (out.UnprocessedItems?.[tableName] as typeof pending | undefined) ?? [];
      if (attempt > 8 && pending.length > 0) throw new Error('DynamoDB left deletes unprocessed');
    }
  }
}

/** A model's item by its id (which survives renames). */
export async function getModelItem(
  doc: DynamoDBDocumentClient,
  tableName: string,
  modelId: string,
): Promise<Item | undefined> {
  const out = await doc.send(new GetCommand({ TableName: tableName, Key: modelKey(modelId), ConsistentRead: true }));
  return out.Item;
}

/** A model's item by name; a name pointer is trusted only if its model still carries that name. */
export async function findModelItem(
  doc: DynamoDBDocumentClient,
  tableName: string,
  name: string,
): Promise<Item | undefined> {
  const pointer = await doc.send(new GetCommand({ TableName: tableName, Key: nameKey(name), ConsistentRead: true }));
  const modelId = pointer.Item?.[ATTR.modelId] as string | undefined;
  if (!modelId) return undefined;
  const model = await getModelItem(doc, tableName, modelId);
  return model && model[ATTR.name] === name ? model : undefined;
}
