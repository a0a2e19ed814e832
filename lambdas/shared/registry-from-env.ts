import type { AccessControl, TokenKeys } from '../../core/auth/access';
import { createAccessControl } from '../../core/auth/index';
import { EventBridgePublisher } from '../../core/events/eventbridge-publisher';
import { createRegistry } from '../../core/registry';
import type { ModelRegistry } from '../../core/registry/registry';
import { createServingControl } from '../../core/serving/index';
import type { ServingControl } from '../../core/serving/serving';
import { requiredEnv } from './config';
import { logger } from './logger';

const onPublishError = (error: unknown, events: readonly { type: string }[]) =>
  logger.error('domain events not published', { error: error as Error, types: events.map((e) => e.type) });

/** The registry as a Lambda sees it: table, source roots and event bus from its environment. */
export function registryFromEnv(): ModelRegistry {
  return createRegistry({
    tableName: requiredEnv('REGISTRY_TABLE'),
    sourceRoots: requiredEnv('MLSERVE_SOURCE_ROOTS'),
    events: new EventBridgePublisher(requiredEnv('EVENT_BUS_NAME')),
    onPublishError,
  });
}

/** The serving control plane as a Lambda sees it: the registry table and event bus from its environment. */
export function servingFromEnv(): ServingControl {
  return createServingControl({
    tableName: requiredEnv('REGISTRY_TABLE'),
    events: new EventBridgePublisher(requiredEnv('EVENT_BUS_NAME')),
    onPublishError,
  });
}

/**
 * Tokens and permissions as a Lambda sees them: the registry table from its environment; `keys`
 * where the Lambda makes and revokes tokens (the tokens API, the admin bootstrap).
 */
export function accessFromEnv(keys?: TokenKeys): AccessControl {
  const ttl = process.env.AUTH_CACHE_TTL_SECONDS;
  return createAccessControl({
    tableName: requiredEnv('REGISTRY_TABLE'),
    cacheTtlMs: ttl ? Number(ttl) * 1000 : undefined,
    keys,
  });
}
