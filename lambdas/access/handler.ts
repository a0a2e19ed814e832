/** Lambda entry: the token and permissions APIs behind API Gateway. */
import { accessFromEnv } from '../shared/registry-from-env';
import { createAccessHandler } from './app';
import { tokenKeysFromEnv } from './usage-plan-keys';

export const handler = createAccessHandler({ access: accessFromEnv(tokenKeysFromEnv()) });
