/**
 * What every store of the table shares: the document client, conditional writes (single-item
 * conditions only: no transactions, no streams, so the same code runs against AWS and a local
 * DynamoDB-API server), paged queries, and reading a model's item by id or by name.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { ATTR, modelKey, nameKey } from './layout';

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
