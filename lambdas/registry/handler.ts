/** Lambda entry: the registry REST API behind API Gateway. */
import { accessFromEnv, registryFromEnv } from '../shared/registry-from-env';
import { createRegistryHandler } from './app';

export const handler = createRegistryHandler(registryFromEnv(), accessFromEnv());
