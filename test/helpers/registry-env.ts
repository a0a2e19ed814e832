import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { AccessControl } from '../../core/auth/access';
import { createControlPlane } from '../../core/control-plane';
import { VERSION_CREATED_RULE } from '../../core/deploy/event-rules';
import type { DomainEvent } from '../../core/events/domain-events';
import { InProcessBus } from '../../core/events/in-process-bus';
import type { ModelVersion } from '../../core/registry/model';
import type { ModelRegistry } from '../../core/registry/registry';
import type { ServingControl } from '../../core/serving/serving';
import { createRegistrationCheck } from '../../lambdas/registry/registration-check-app';
import { ensureRegistryTable, type LocalDynamo, startLocalDynamo } from '../../twin/local-dynamodb';
import { ArtifactRoot } from './artifacts';

/**
 * A registry (with serving and access control over the same table) on a real DynamoDB-API
 * server (dynalite, in memory), with an in-process bus whose rule runs the registration check
 * as the twin's does, and a temp artifact root.
 */
export interface RegistryEnv {
  readonly registry: ModelRegistry;
  readonly serving: ServingControl;
  readonly access: AccessControl;
  readonly bus: InProcessBus;
  readonly dynamo: LocalDynamo;
  readonly tableName: string;
  readonly artifacts: ArtifactRoot;
  /** Every domain event published so far. */
  readonly events: DomainEvent[];
  /** Waits until the version's registration check finished; returns the version then. */
  ready(name: string, version: number): Promise<ModelVersion>;
  close(): Promise<void>;
}

/** Puts the registration-check rule on the bus, in front of the Lambda's check (as the twin does). */
export function checkRegistrations(bus: InProcessBus, registry: ModelRegistry): void {
  bus.addRule(
    VERSION_CREATED_RULE.pattern,
    createRegistrationCheck({ registry, logger: new Logger({ logLevel: 'SILENT' }) }),
  );
}

export async function startRegistryEnv(options: { extraRoots?: string[] } = {}): Promise<RegistryEnv> {
  const dynamo = await startLocalDynamo();
  const tableName = `registry-${randomUUID()}`;
  await ensureRegistryTable(dynamo.clientConfig, tableName);
  const artifacts = await ArtifactRoot.create();
  const bus = new InProcessBus();
  const events: DomainEvent[] = [];
  const { registry, serving, access } = createControlPlane({
    tableName,
    sourceRoots: [artifacts.uri, ...(options.extraRoots ?? [])].join(','),
    events: bus,
    dynamodb: dynamo.clientConfig,
  });
  bus.subscribe((e) => {
    events.push(e);
  });
  checkRegistrations(bus, registry);
  return {
    registry,
    serving,
    access,
    bus,
    dynamo,
    tableName,
    artifacts,
    events,
    ready: async (name, version) => {
      await bus.drained();
      return registry.getModelVersion(name, version);
    },
    close: async () => {
      await bus.drained();
      await dynamo.close();
      await artifacts.remove();
    },
  };
}
