/**
 * A local DynamoDB-API server (dynalite) on a loopback port, in-process; data in memory
 * or, with `path`, on disk. The local twin and the integration tests both use it.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  ResourceNotFoundException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { REGISTRY_TABLE_SCHEMA } from '../core/table/layout';
import { LOCAL_AWS, listenOnLoopback } from './loopback';

export interface LocalDynamo {
  readonly endpoint: string;
  /** Client settings that reach this server (dummy credentials, a fixed region). */
  readonly clientConfig: DynamoDBClientConfig;
  close(): Promise<void>;
}

export async function startLocalDynamo(options: { path?: string; port?: number } = {}): Promise<LocalDynamo> {
  const server = dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const endpoint = await listenOnLoopback(server, options.port);
  return {
    endpoint,
    clientConfig: { endpoint, ...LOCAL_AWS, maxAttempts: 3 },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Creates the registry table from its shared schema, unless it exists already. */
export async function ensureRegistryTable(config: DynamoDBClientConfig, tableName: string): Promise<void> {
  const client = new DynamoDBClient(config);
  try {
    if (!(await tableExists(client, tableName))) await createRegistryTable(client, tableName);
    // A new table takes writes once ACTIVE; wait for it, as on DynamoDB itself.
    await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.2 }, { TableName: tableName });
  } finally {
    client.destroy();
  }
}

async function tableExists(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException || (error as Error).name === 'ResourceNotFoundException') {
      return false;
    }
    throw error;
  }
}

async function createRegistryTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const s = REGISTRY_TABLE_SCHEMA;
  const attributes = new Set<string>([s.partitionKey, s.sortKey]);
  for (const index of s.indexes) {
    attributes.add(index.partitionKey);
    attributes.add(index.sortKey);
  }
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [...attributes].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
      KeySchema: [
        { AttributeName: s.partitionKey, KeyType: 'HASH' },
        { AttributeName: s.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: s.indexes.map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    }),
  );
}
