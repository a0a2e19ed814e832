/** Who the caller is, the caller's tokens, and a model's permissions. */
import type { PermissionLevel } from '../../../core/auth/levels';
import type {
  CreateTokenResponse,
  ListTokensResponse,
  MyPermissionResponse,
  PermissionsResponse,
  TokenInfoJson,
  WhoAmIResponse,
} from '../../../lambdas/access/responses';
import { call } from './client';

/** Who is signed in. */
export type Identity = WhoAmIResponse;

/** The signed-in caller; with `token`, whoever that token belongs to (for signing in). */
export function whoAmI(token?: string): Promise<Identity> {
  return call<Identity>('GET', '/api/2.0/tokens/whoami', undefined, { token });
}

/** The caller's effective level on a model (null: none). */
export async function myPermission(name: string): Promise<PermissionLevel | null> {
  return (await call<MyPermissionResponse>('GET', '/api/2.0/permissions/registered-models/get-my-permission', { name }))
    .permission_level;
}

// ---- tokens

export type { CreateTokenResponse, PermissionsResponse, TokenInfoJson };

/** The caller's tokens, oldest first, revoked and expired ones included; an admin may name another principal. */
export async function listTokens(principal?: string): Promise<readonly TokenInfoJson[]> {
  return (await call<ListTokensResponse>('GET', '/api/2.0/tokens/list', { principal })).token_infos ?? [];
}

/** A new token for the caller; its secret (`token_value`) is answered this once and never again. */
export function createToken(description: string, lifetimeSeconds?: number): Promise<CreateTokenResponse> {
  return call<CreateTokenResponse>('POST', '/api/2.0/tokens/create', {
    description,
    lifetime_seconds: lifetimeSeconds,
  });
}

export async function revokeToken(tokenId: string): Promise<void> {
  await call('POST', '/api/2.0/tokens/revoke', { token_id: tokenId });
}

// ---- a model's permissions (the API needs CAN_MANAGE on the model)

export function getPermissions(name: string): Promise<PermissionsResponse> {
  return call<PermissionsResponse>('GET', '/api/2.0/permissions/registered-models/get', { name });
}

/** Sets each named principal's level (null removes the principal); principals not named keep theirs. */
export function updatePermissions(
  name: string,
  changes: readonly { readonly principal: string; readonly permission_level: PermissionLevel | null }[],
): Promise<PermissionsResponse> {
  return call<PermissionsResponse>('POST', '/api/2.0/permissions/registered-models/update', {
    name,
    access_control_list: changes,
  });
}
