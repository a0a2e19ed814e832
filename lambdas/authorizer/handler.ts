/** Lambda entry: the REQUEST authorizer in front of every API Gateway route. */

import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { AccessControl } from '../../core/auth/access';
import { AccessTable } from '../../core/auth/access-store';
import { requiredEnv } from '../shared/config';
import { createAuthorizer } from './app';

const logger = new Logger({ serviceName: 'mlserve-authorizer' });
const ttl = process.env.AUTH_CACHE_TTL_SECONDS;
// Only the token and permission reads: the authorizer is on every request's path, so it stays small.
const access = new AccessControl(new AccessTable(new DynamoDBClient({}), requiredEnv('REGISTRY_TABLE')), {
  cacheTtlMs: ttl ? Number(ttl) * 1000 : undefined,
});
const authorize = createAuthorizer(access, logger);

export const handler = middy<APIGatewayRequestAuthorizerEvent, APIGatewayAuthorizerResult>().handler((event) =>
  authorize(event),
);
