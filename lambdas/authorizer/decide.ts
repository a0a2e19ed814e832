/**
 * The authorizer's decision, the same on AWS and in the local twin: who is calling (401 when
 * nobody valid), and — for scoring, where the model is in the path — whether they may read that
 * model (403 otherwise; 400 for a name no model can have, which is never looked up). For the
 * APIs, where the model is in the body (which a REQUEST authorizer never sees), the handler
 * makes the per-model decision with the same levels.
 */
import type { AccessControl, Caller } from '../../core/auth/access';
import { modelNameProblem } from '../../core/registry/validation';
import { invalidParameter, MlflowError } from '../../core/shared/errors';

export interface AuthorizationRequest {
  readonly path: string;
  readonly authorization?: string;
}

export interface Authorization {
  readonly caller: Caller;
  /** The model a scoring path names; the decision covers only that model. */
  readonly model?: string;
}

const SCORING = /^\/model\/([^/]+)(?:\/|$)/;

export async function authorizeRequest(access: AccessControl, request: AuthorizationRequest): Promise<Authorization> {
  const caller = await access.authenticate(request.authorization);
  const m = SCORING.exec(request.path);
  if (!m) return { caller };
  let model: string;
  try {
    model = decodeURIComponent(m[1] as string);
  } catch {
    throw new MlflowError('BAD_REQUEST', `Malformed model name in ${request.path.slice(0, 300)}`);
  }
  // A name that breaks the naming rules names no model: refused as such, never looked up.
  const problem = modelNameProblem(model);
  if (problem !== undefined) throw invalidParameter(problem);
  await access.require(caller, { kind: 'model', model, level: 'CAN_READ' });
  return { caller, model };
}

/** Header lookup that ignores case, as HTTP does. */
export function headerOf(
  headers: Record<string, string | undefined> | null | undefined,
  name: string,
): string | undefined {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}
