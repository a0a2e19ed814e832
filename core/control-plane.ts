/**
 * The control plane in one process (the local twin, tests): the registry, the serving control
 * plane and access control over one table. The Lambdas and the model host build only the
 * parts they use (`createRegistry`, `createServingControl`, `createAccessControl`).
 */
import type { AccessControl, TokenKeys } from './auth/access';
import { createAccessControl } from './auth/index';
import { createRegistry, type ModelRegistry, type RegistryConfig } from './registry/index';
import { createServingControl } from './serving/index';
import type { ServingControl } from './serving/serving';

export interface ControlPlane {
  readonly registry: ModelRegistry;
  readonly serving: ServingControl;
  readonly access: AccessControl;
}

export function createControlPlane(
  config: RegistryConfig & { readonly authCacheTtlMs?: number; readonly tokenKeys?: TokenKeys },
): ControlPlane {
  return {
    registry: createRegistry(config),
    serving: createServingControl(config),
    access: createAccessControl({
      tableName: config.tableName,
      dynamodb: config.dynamodb,
      cacheTtlMs: config.authCacheTtlMs,
      keys: config.tokenKeys,
    }),
  };
}
