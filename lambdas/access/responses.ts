/**
 * The token and permissions APIs' answers (`/api/2.0/tokens/…`,
 * `/api/2.0/permissions/registered-models/…`), as JSON on the wire. The web console imports
 * these types, so this file imports types only, and only from modules that import nothing
 * themselves: it must type-check and bundle for the browser. `TOKEN_ROUTES` and
 * `PERMISSION_ROUTES` (routes.ts) return each route's type from the maps below.
 */
import type { PermissionLevel } from '../../core/auth/levels';

export type { PermissionLevel };

/** The answer of a route that only does something (revoke, set-admin). */
export type EmptyResponse = Record<string, never>;

/** A token, without its secret. Times are milliseconds since the epoch. */
export interface TokenInfoJson {
  /** The token's public id (16 hex digits): what `revoke` takes. */
  readonly token_id: string;
  readonly principal: string;
  readonly description: string;
  readonly creation_time: number;
  /** Absent: the token never expires. */
  readonly expiry_time?: number;
  readonly revoked_time?: number;
  /** Coarse: written at most every 15 minutes. */
  readonly last_used_time?: number;
}

/** `tokens/create`: the only answer that carries the secret. */
export interface CreateTokenResponse {
  readonly token_value: string;
  readonly token_info: TokenInfoJson;
}

/** `tokens/list`, oldest first (revoked and expired tokens included). */
export interface ListTokensResponse {
  readonly token_infos: readonly TokenInfoJson[];
}

/** `tokens/whoami`: the caller the request's token names. */
export interface WhoAmIResponse {
  readonly principal: string;
  readonly admin: boolean;
  readonly token_id: string;
}

export interface AccessControlEntryJson {
  readonly principal: string;
  readonly permission_level: PermissionLevel;
}

/** `permissions/registered-models/get` and `update`: the model's whole list, by principal. */
export interface PermissionsResponse {
  readonly registered_model_name: string;
  readonly access_control_list: readonly AccessControlEntryJson[];
}

/**
 * `permissions/registered-models/get-my-permission`: the caller's level on the model (an
 * admin's is CAN_MANAGE on every model); null when the caller has none — also for a model that
 * does not exist, unless the caller is an admin (404 then), as other routes answer 403 there.
 */
export interface MyPermissionResponse {
  readonly permission_level: PermissionLevel | null;
}

/** Each token route's answer, by its path under `/api/2.0/tokens/`. */
export interface TokenResponses {
  readonly create: CreateTokenResponse;
  readonly list: ListTokensResponse;
  readonly revoke: EmptyResponse;
  readonly 'set-admin': EmptyResponse;
  readonly whoami: WhoAmIResponse;
}

/** Each permissions route's answer, by its path under `/api/2.0/permissions/registered-models/`. */
export interface PermissionResponses {
  readonly get: PermissionsResponse;
  readonly update: PermissionsResponse;
  readonly 'get-my-permission': MyPermissionResponse;
}
