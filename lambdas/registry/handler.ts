/** Lambda entry: the registry REST API behind API Gateway. */
import { registryFromEnv } from '../shared/registry-from-env';
import { createRegistryHandler } from './app';

const registry = registryFromEnv();

export const handler = createRegistryHandler(registry);
