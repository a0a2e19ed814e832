/**
 * The local twin: the same registry code as on AWS, on one machine. A DynamoDB-API
 * server in-process (data under MLSERVE_HOME), an in-process event bus in place of
 * EventBridge, and a loopback gateway in front of the real Lambda handlers.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InProcessBus } from '../core/events/in-process-bus';
import { createRegistry } from '../core/registry';
import type { ModelRegistry } from '../core/registry/registry';
import { createRegistryHandler } from '../lambdas/registry/app';
import { logger } from '../lambdas/shared/logger';
import { type Gateway, startGateway } from './gateway';
import { ensureRegistryTable, type LocalDynamo, startLocalDynamo } from './local-dynamodb';

export interface TwinOptions {
  /** Folder for the twin's data (registry database, artifacts). */
  readonly home: string;
  /** Port for the gateway; 0 picks a free one. */
  readonly port: number;
  /** Allowed source roots; defaults to the twin's own artifact folder. */
  readonly sourceRoots?: string;
  /** Keep the registry in memory instead of under `home` (tests). */
  readonly inMemory?: boolean;
}

export interface Twin {
  readonly url: string;
  readonly home: string;
  readonly artifactDir: string;
  readonly registry: ModelRegistry;
  readonly bus: InProcessBus;
  readonly dynamo: LocalDynamo;
  close(): Promise<void>;
}

export const TWIN_TABLE = 'mlserve-registry';

export async function startTwin(options: TwinOptions): Promise<Twin> {
  const home = path.resolve(options.home);
  const artifactDir = path.join(home, 'artifacts');
  await mkdir(artifactDir, { recursive: true });
  const dbPath = path.join(home, 'dynamodb');
  if (!options.inMemory) await mkdir(dbPath, { recursive: true });

  const dynamo = await startLocalDynamo({ path: options.inMemory ? undefined : dbPath });
  let gateway: Gateway | undefined;
  try {
    await ensureRegistryTable(dynamo.clientConfig, TWIN_TABLE);
    const bus = new InProcessBus({
      onHandlerError: (error, event) =>
        logger.error('event handler failed', { error: error as Error, eventType: event.type }),
    });
    const registry = createRegistry({
      tableName: TWIN_TABLE,
      sourceRoots: options.sourceRoots ?? pathToFileURL(artifactDir).href,
      events: bus,
      dynamodb: dynamo.clientConfig,
    });
    // The registration check, as the EventBridge rule runs it on AWS.
    bus.subscribe(
      async (event) => {
        if (event.type === 'ModelVersionCreated') await registry.completeRegistration(event.modelName, event.version);
      },
      ['ModelVersionCreated'],
    );
    // Versions left pending by an earlier run that stopped mid-check.
    for (const v of await registry.pendingVersions()) await registry.completeRegistration(v.name, v.version);

    gateway = await startGateway(
      [{ prefix: '/api/2.0/mlflow/', functionName: 'mlserve-registry', handler: createRegistryHandler(registry) }],
      options.port,
    );
    const started = gateway;
    return {
      url: started.url,
      home,
      artifactDir,
      registry,
      bus,
      dynamo,
      close: async () => {
        await started.close();
        await bus.drained();
        await dynamo.close();
      },
    };
  } catch (error) {
    await gateway?.close();
    await dynamo.close();
    throw error;
  }
}
