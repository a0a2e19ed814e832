/** The console's static files as a Lambda handler (the Lambda entry and the local twin both use it). */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { accessLog, mlflowErrors } from '../shared/http';
import { logger } from '../shared/logger';
import type { SiteAnswer, StaticSite } from './static-site';

/** The API Gateway proxy result for an answer: text as it is, bytes base64-encoded. */
export function toProxyResult(answer: SiteAnswer): APIGatewayProxyResult {
  return {
    statusCode: answer.status,
    headers: { ...answer.headers },
    body: answer.body.toString(answer.binary ? 'base64' : 'utf8'),
    isBase64Encoded: answer.binary,
  };
}

function headerOf(headers: APIGatewayProxyEvent['headers'] | null, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers ?? {})) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

export function createConsoleHandler(site: StaticSite) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(injectLambdaContext(logger))
    .use(accessLog())
    .use(mlflowErrors())
    .handler(async (event) =>
      toProxyResult(
        site.answer({
          method: event.httpMethod,
          path: event.path,
          ifNoneMatch: headerOf(event.headers, 'if-none-match'),
        }),
      ),
    );
}
