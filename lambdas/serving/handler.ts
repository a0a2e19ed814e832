/** Lambda entry: the serving API behind API Gateway. */
import { requiredEnv } from '../shared/config';
import { accessFromEnv, registryFromEnv } from '../shared/registry-from-env';
import { createServingHandler } from './app';
import { CloudWatchObservability } from './observability';

export const handler = createServingHandler({
  registry: registryFromEnv(),
  access: accessFromEnv(),
  observability: new CloudWatchObservability(
    requiredEnv('SERVING_LOG_GROUP'),
    process.env.METRICS_NAMESPACE || 'mlserve',
  ),
});
