/** Lambda entry: the token and permissions APIs behind API Gateway. */
import { optionalEnv } from '../shared/config';
import { accessFromEnv, registryFromEnv } from '../shared/registry-from-env';
import { createAccessHandler } from './app';
import { UsagePlanKeys } from './usage-plan-keys';

const plan = optionalEnv('USAGE_PLAN_NAME');
export const handler = createAccessHandler({
  registry: registryFromEnv(),
  access: accessFromEnv(plan ? new UsagePlanKeys(plan) : undefined),
});
