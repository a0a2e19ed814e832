/** Lambda entry: the token and permissions APIs behind API Gateway. */
import { accessFromEnv, registryFromEnv } from '../shared/registry-from-env';
import { createAccessHandler } from './app';

export const handler = createAccessHandler({ registry: registryFromEnv(), access: accessFromEnv() });
