/** Builds access control (tokens, principals, model permissions) over the registry's table. */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { AccessControl, type TokenKeys } from './access';
import { AccessTable } from './access-store';

export function createAccessControl(config: {
  readonly tableName: string;
  readonly dynamodb?: DynamoDBClientConfig;
  readonly cacheTtlMs?: number;
  readonly keys?: TokenKeys;
}): AccessControl {
  return new AccessControl(new AccessTable(new DynamoDBClient(config.dynamodb ?? {}), config.tableName), {
    cacheTtlMs: config.cacheTtlMs,
    keys: config.keys,
  });
}

export { AccessControl, type Caller, type TokenKeys } from './access';
export { AccessTable } from './access-store';
