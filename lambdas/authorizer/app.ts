/**
 * The API Gateway REQUEST authorizer. Its answers are cached by API Gateway under the identity
 * sources, so a cached answer must be right for every request with the same sources:
 * - scoring (`/model/{name}/…`) uses an authorizer whose identity sources are the Authorization
 *   header *and* the `name` path parameter, and its policy allows only `/model/<name>/*`: a
 *   cached "may read A" can neither be found for, nor match, a request for model B;
 * - the APIs use the Authorization header alone; the policy allows the API paths, and each
 *   handler checks the per-model level itself.
 * A token that is unknown, expired or revoked is refused (401); one without permission on the
 * model gets a Deny policy (403), and so does a valid token with a scoring path that names no
 * possible model (a malformed or over-long name, which the twin answers 400): an authorizer
 * can only allow, deny or refuse.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import type { AccessControl } from '../../core/auth/access';
import { MlflowError } from '../../core/shared/errors';
import { authorizeRequest, headerOf } from './decide';

/** `arn:aws:execute-api:region:account:api/stage` of the method being called. */
function stageArn(methodArn: string): string {
  const [api = '', stage = ''] = methodArn.split('/');
  return `${api}/${stage}`;
}

/** The API key value API Gateway usage plans count this token's requests under. */
export function usageKeyOf(tokenId: string): string {
  return `mlserve-token-${tokenId}`;
}

export function createAuthorizer(access: AccessControl, logger: Logger) {
  return async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const path = event.path ?? '';
    let decision: Awaited<ReturnType<typeof authorizeRequest>>;
    try {
      decision = await authorizeRequest(access, { path, authorization: headerOf(event.headers, 'authorization') });
    } catch (error) {
      if (error instanceof MlflowError && error.status < 500 && error.errorCode !== 'UNAUTHENTICATED') {
        logger.info('denied', { path: path.slice(0, 300), status: 403, reason: error.errorCode });
        return {
          principalId: 'denied',
          policyDocument: {
            Version: '2012-10-17',
            Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: event.methodArn }],
          },
        };
      }
      if (error instanceof MlflowError && error.errorCode === 'UNAUTHENTICATED') {
        logger.info('unauthenticated', { path: path.slice(0, 300), status: 401 });
        // API Gateway turns exactly this into its UNAUTHORIZED (401) gateway response.
        throw new Error('Unauthorized');
      }
      throw error;
    }
    const base = stageArn(event.methodArn);
    const resources = decision.model
      ? [`${base}/*/model/${encodeURIComponent(decision.model)}/*`]
      : [`${base}/*/api/*`];
    logger.info('allowed', { path, principal: decision.caller.principal, tokenId: decision.caller.tokenId });
    return {
      principalId: decision.caller.principal,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: resources }],
      },
      context: { admin: String(decision.caller.admin), tokenId: decision.caller.tokenId },
      usageIdentifierKey: usageKeyOf(decision.caller.tokenId),
    };
  };
}
