/** Lambda entry: the serving API behind API Gateway. */
import { requiredEnv } from '../shared/config';
import { registryFromEnv } from '../shared/registry-from-env';
import { createServingHandler } from './app';
import { CloudWatchObservability } from './observability';

export const handler = createServingHandler({
  registry: registryFromEnv(),
  observability: new CloudWatchObservability(
    requiredEnv('SERVING_LOG_GROUP'),
    process.env.METRICS_NAMESPACE || 'mlserve',
  ),
});
