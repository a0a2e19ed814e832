/** Lambda entry: starts deploy-model executions (EventBridge rules and the reconcile schedule invoke it). */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import { requiredEnv } from '../shared/config';
import { logger } from '../shared/logger';
import { servingFromEnv } from '../shared/registry-from-env';
import { createTrigger, type TriggerEvent } from './trigger-app';

const sfn = new SFNClient({});
const stateMachineArn = requiredEnv('DEPLOY_STATE_MACHINE_ARN');

const trigger = createTrigger({
  serving: servingFromEnv(),
  logger,
  starter: {
    start: async (name, input) => {
      await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
    },
  },
});

export const handler = middy<TriggerEvent, { started: string[] }>()
  .use(injectLambdaContext(logger))
  .handler((event) => trigger(event));
