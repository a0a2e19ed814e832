/**
 * The token API (`/api/2.0/tokens/…`: a principal manages its own tokens, an admin anyone's)
 * and the permissions API (`/api/2.0/permissions/registered-models/…`: a model's access list).
 */
import { z } from 'zod';
import type { AccessControl, Requirement } from '../../core/auth/access';
import { permissionLevel } from '../../core/auth/identifiers';
import { isPermissionLevel, PERMISSION_LEVELS } from '../../core/auth/levels';
import { modelName, principalName, tokenId } from '../../core/registry/identifiers';
import { routesOf, type TableRoute } from '../shared/routing';
import type { AccessControlEntryJson, PermissionResponses, PermissionsResponse, TokenResponses } from './responses';

export const TOKENS_PREFIX = '/api/2.0/tokens/';
export const PERMISSIONS_PREFIX = '/api/2.0/permissions/registered-models/';

export interface AccessDeps {
  readonly access: AccessControl;
}

type AccessRoute = TableRoute<AccessDeps>;
/** Routes whose `run` answers what `TokenResponses` and `PermissionResponses` (responses.ts) declare for their paths. */
const route = routesOf<AccessDeps, TokenResponses>();
const permissionRoute = routesOf<AccessDeps, PermissionResponses>();

const authenticated = (): Requirement => ({ kind: 'authenticated' });
const intLike = z.union([z.number().int(), z.string().regex(/^[0-9]+$/)]).transform(Number);

export const TOKEN_ROUTES: readonly AccessRoute[] = [
  route({
    method: 'POST',
    path: 'create',
    params: z.object({
      description: z.string().optional(),
      lifetime_seconds: intLike.optional(),
      principal: principalName().optional(),
    }),
    access: authenticated,
    run: async ({ access }, p, caller) => {
      const { secret, info } = await access.createToken(caller, {
        principal: p.principal,
        description: p.description,
        lifetimeSeconds: p.lifetime_seconds,
      });
      return { token_value: secret, token_info: info };
    },
  }),
  route({
    method: 'GET',
    path: 'list',
    params: z.object({ principal: principalName().optional() }),
    access: authenticated,
    run: async ({ access }, p, caller) => ({ token_infos: await access.listTokens(caller, p.principal) }),
  }),
  route({
    method: 'POST',
    path: 'revoke',
    params: z.object({ token_id: tokenId() }),
    access: authenticated,
    run: async ({ access }, p, caller) => {
      await access.revokeToken(caller, p.token_id);
      return {};
    },
  }),
  route({
    method: 'POST',
    path: 'set-admin',
    params: z.object({ principal: principalName(), admin: z.boolean() }),
    access: () => ({ kind: 'admin' }),
    run: async ({ access }, p) => {
      await access.setAdmin(p.principal, p.admin);
      return {};
    },
  }),
  route({
    method: 'GET',
    path: 'whoami',
    params: z.object({}),
    access: authenticated,
    run: async (_deps, _p, caller) => ({ principal: caller.principal, admin: caller.admin, token_id: caller.tokenId }),
  }),
];

const aclJson = (name: string, acl: Record<string, string>): PermissionsResponse => ({
  registered_model_name: name,
  access_control_list: Object.entries(acl)
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([principal, level]): AccessControlEntryJson[] =>
      // The registry stores only valid levels; the check lets the compiler know it.
      isPermissionLevel(level) ? [{ principal, permission_level: level }] : [],
    ),
});

export const PERMISSION_ROUTES: readonly AccessRoute[] = [
  permissionRoute({
    method: 'GET',
    path: 'get',
    params: z.object({ name: modelName() }),
    access: (p) => ({ kind: 'model', model: p.name, level: 'CAN_MANAGE' }),
    run: async ({ access }, p) => aclJson(p.name, await access.getPermissions(p.name)),
  }),
  permissionRoute({
    method: 'POST',
    path: 'update',
    params: z.object({
      name: modelName(),
      access_control_list: z.array(
        z.object({ principal: principalName(), permission_level: permissionLevel().nullable() }),
      ),
    }),
    access: (p) => ({ kind: 'model', model: p.name, level: 'CAN_MANAGE' }),
    run: async ({ access }, p) =>
      aclJson(
        p.name,
        await access.updatePermissions(
          p.name,
          p.access_control_list.map((e) => ({ principal: e.principal, level: e.permission_level })),
          PERMISSION_LEVELS,
        ),
      ),
  }),
  permissionRoute({
    method: 'GET',
    path: 'get-my-permission',
    params: z.object({ name: modelName() }),
    // Any caller may ask about its own level; the answer says no more than a 403 elsewhere would.
    access: authenticated,
    run: async ({ access }, p, caller) => {
      // An admin's level holds on every model; whether this one exists is told as other routes tell it.
      if (caller.admin) await access.getPermissions(p.name);
      return { permission_level: (await access.levelOn(caller, p.name)) ?? null };
    },
  }),
];
