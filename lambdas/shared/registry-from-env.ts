import type { AccessControl, TokenKeys } from '../../core/auth/access';
import { EventBridgePublisher } from '../../core/events/eventbridge-publisher';
import { createAccessControl, createRegistry } from '../../core/registry';
import type { ModelRegistry } from '../../core/registry/registry';
import { requiredEnv } from './config';
import { logger } from './logger';

/** The registry as a Lambda sees it: table, source roots and event bus from its environment. */
export function registryFromEnv(): ModelRegistry {
  return createRegistry({
    tableName: requiredEnv('REGISTRY_TABLE'),
    sourceRoots: requiredEnv('MLSERVE_SOURCE_ROOTS'),
    events: new EventBridgePublisher(requiredEnv('EVENT_BUS_NAME')),
    onPublishError: (error, events) =>
      logger.error('domain events not published', { error: error as Error, types: events.map((e) => e.type) }),
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
