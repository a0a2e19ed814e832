/** Builds the serving control plane over the registry's table. */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { DomainEvent, EventPublisher } from '../events/domain-events';
import { RegistryTable } from '../registry/dynamo-store';
import type { Clock } from '../registry/registry';
import { ServingControl } from './serving';
import { ServingTable } from './serving-store';

export interface ServingControlConfig {
  readonly tableName: string;
  readonly events: EventPublisher;
  readonly dynamodb?: DynamoDBClientConfig;
  readonly clock?: Clock;
  readonly onPublishError?: (error: unknown, events: readonly DomainEvent[]) => void;
}

export function createServingControl(config: ServingControlConfig): ServingControl {
  const client = new DynamoDBClient(config.dynamodb ?? {});
  return new ServingControl({
    models: new RegistryTable(client, config.tableName),
    table: new ServingTable(client, config.tableName),
    events: config.events,
    clock: config.clock,
    onPublishError: config.onPublishError,
  });
}

export { type ModelReader, ServingControl } from './serving';
