/** Builds the registry from its configuration; the one way every part gets a registry. */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DomainEvent, EventPublisher } from '../events/domain-events';
import { SourceArtifactReader } from './artifacts';
import { RegistryTable } from './dynamo-store';
import { type Clock, ModelRegistry } from './registry';
import { parseSourceRoots, SourcePolicy } from './sources';

export interface RegistryConfig {
  readonly tableName: string;
  /** Comma-separated allowed source roots (`file:///…`, `s3://bucket/prefix`). */
  readonly sourceRoots: string;
  readonly events: EventPublisher;
  readonly dynamodb?: DynamoDBClientConfig;
  readonly s3?: () => S3Client;
  readonly clock?: Clock;
  readonly onPublishError?: (error: unknown, events: readonly DomainEvent[]) => void;
}

export function createRegistry(config: RegistryConfig): ModelRegistry {
  return new ModelRegistry({
    table: new RegistryTable(new DynamoDBClient(config.dynamodb ?? {}), config.tableName),
    events: config.events,
    sources: new SourcePolicy(parseSourceRoots(config.sourceRoots)),
    artifacts: new SourceArtifactReader(config.s3),
    clock: config.clock,
    onPublishError: config.onPublishError,
  });
}

export { ArtifactError, localArtifactDir, SERVABLE_FLAVORS } from './artifacts';
export * from './model';
export type { Clock, RegisteredModelView, SearchRequest } from './registry';
export { ModelRegistry } from './registry';
export { parseSourceRoots, SourcePolicy } from './sources';
