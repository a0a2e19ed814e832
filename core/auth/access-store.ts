/**
 * Access control's storage, in the registry's table (`core/table/layout.ts`): tokens (keyed by
 * their secret's hash), principals, and each registered model's access control list, which
 * lives on the model's item.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { conditional, documentClient, findModelItem, isConditionFailure, queryAll } from '../table/dynamo';
import { ATTR, BY_KIND, KIND, modelKey, principalKey, tokenIndexSk, tokenKey } from '../table/layout';

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

/** A model's access control list (principal -> level), with the id its item is keyed by. */
export interface ModelAcl {
  readonly modelId: string;
  readonly permissions: Readonly<Record<string, string>>;
}

export class AccessTable {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.doc = documentClient(client);
  }

  // ---- tokens and principals -----------------------------------------------------------

  async putToken(record: TokenRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...tokenKey(record.hash),
          kind: KIND.token,
          GSI1PK: KIND.token,
          GSI1SK: tokenIndexSk(record.principal, record.tokenId),
          ...record,
        },
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
  }

  async getToken(hash: string): Promise<TokenRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: tokenKey(hash), ConsistentRead: true }),
    );
    return out.Item ? toToken(out.Item) : undefined;
  }

  /** Tokens of one principal, or of everyone. */
  async listTokens(principal?: string): Promise<TokenRecord[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      IndexName: BY_KIND.name,
      KeyConditionExpression: principal ? 'GSI1PK = :k AND begins_with(GSI1SK, :p)' : 'GSI1PK = :k',
      ExpressionAttributeValues: principal
        ? { ':k': KIND.token, ':p': tokenIndexSk(principal, '') }
        : { ':k': KIND.token },
    });
    return items.map(toToken);
  }

  /** Marks a token revoked; false if it was already revoked or does not exist. */
  async revokeToken(hash: string, now: number): Promise<boolean> {
    return conditional(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: tokenKey(hash),
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
          Key: tokenKey(hash),
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
        Key: principalKey(name),
        ConsistentRead: true,
      }),
    );
    return out.Item ? { name, admin: out.Item.admin === true } : undefined;
  }

  async putPrincipal(name: string, admin: boolean): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...principalKey(name), kind: KIND.principal, name, admin },
      }),
    );
  }

  // ---- model permissions --------------------------------------------------------------

  /** The access control list of the model named `name`; undefined when there is no such model. */
  async modelAcl(name: string): Promise<ModelAcl | undefined> {
    const item = await findModelItem(this.doc, this.tableName, name);
    if (!item) return undefined;
    return {
      modelId: item[ATTR.modelId] as string,
      permissions: (item[ATTR.permissions] as Record<string, string> | undefined) ?? {},
    };
  }

  /** Replaces a model's access control list; returns the new list, or undefined if the model is gone. */
  async setModelPermissions(
    modelId: string,
    permissions: Record<string, string>,
  ): Promise<Record<string, string> | undefined> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: modelKey(modelId),
          UpdateExpression: 'SET #acl = :acl',
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeNames: { '#acl': ATTR.permissions },
          ExpressionAttributeValues: { ':acl': permissions },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return (out.Attributes?.[ATTR.permissions] as Record<string, string> | undefined) ?? {};
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }
}
