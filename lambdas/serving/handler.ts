/** Lambda entry: the serving API behind API Gateway. */
import { requiredEnv } from '../shared/config';
import { logger } from '../shared/logger';
import { accessFromEnv, registryFromEnv, servingFromEnv } from '../shared/registry-from-env';
import { createServingHandler } from './app';
import { CloudWatchObservability } from './observability';
import type { NetworkProfileName } from './responses';

/** MLSERVE_NETWORK_PROFILE (the app's network profile, set by the CDK app): it prices served models. */
function networkProfile(value: string | undefined): NetworkProfileName {
  if (value === 'lean' || value === 'hardened') return value;
  if (value) logger.warn('MLSERVE_NETWORK_PROFILE is neither lean nor hardened; pricing the lean profile', { value });
  return 'lean';
}

export const handler = createServingHandler({
  registry: registryFromEnv(),
  serving: servingFromEnv(),
  access: accessFromEnv(),
  observability: new CloudWatchObservability(
    requiredEnv('SERVING_LOG_GROUP'),
    process.env.METRICS_NAMESPACE || 'mlserve',
  ),
  networkProfile: networkProfile(process.env.MLSERVE_NETWORK_PROFILE),
});
