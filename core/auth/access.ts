/**
 * Who is calling and what they may do: tokens (secrets shown once, stored as hashes), principals
 * (admins have every permission), and permission levels on registered models. Decisions are
 * cached for `cacheTtlMs`, keyed by the token's hash — and, for model permissions, by the token
 * *and* the model — so a cached decision can never answer for another token or another model;
 * a revoked token or a changed permission takes effect within the TTL.
 */

import { isModelName, permissionLevelProblem, principalProblem, validateModelName } from '../registry/validation';
import { invalidParameter, MlflowError, notFound } from '../shared/errors';
import type { AccessTable, ModelAcl, TokenRecord } from './access-store';
import { includes, isPermissionLevel, PERMISSION_LEVELS, type PermissionLevel } from './levels';
import { hashTokenSecret, newTokenSecret, tokenFromAuthorization, tokenIdOf } from './secrets';

/** The authenticated caller. */
export interface Caller {
  readonly principal: string;
  readonly admin: boolean;
  /** The token's public id (for rate limits and logs; never the secret or its hash). */
  readonly tokenId: string;
}

/**
 * Per-token usage keys, where a platform counts requests by an API key (API Gateway usage
 * plans): made when a token is made, removed when it is revoked.
 */
export interface TokenKeys {
  created(tokenId: string): Promise<void>;
  revoked(tokenId: string): Promise<void>;
}

/** What a request needs: a valid token, an admin, or a level on one model. */
export type Requirement =
  | { readonly kind: 'authenticated' }
  | { readonly kind: 'admin' }
  | { readonly kind: 'model'; readonly model: string; readonly level: PermissionLevel };

export interface TokenInfo {
  readonly token_id: string;
  readonly principal: string;
  readonly description: string;
  readonly creation_time: number;
  readonly expiry_time?: number;
  readonly revoked_time?: number;
  readonly last_used_time?: number;
}

export const DEFAULT_CACHE_TTL_MS = 60_000;
/** The coarse last-used time is written at most this often per token. */
const LAST_USED_EVERY_MS = 15 * 60_000;
const MAX_LIFETIME_SECONDS = 10 * 365 * 24 * 3600;

export const unauthenticated = (message: string) => new MlflowError('UNAUTHENTICATED', message);
export const denied = (message: string) => new MlflowError('PERMISSION_DENIED', message);

interface Cached<T> {
  readonly value: T;
  readonly until: number;
}

export class AccessControl {
  private readonly callers = new Map<string, Cached<Caller | undefined>>();
  private readonly levels = new Map<string, Cached<PermissionLevel | undefined>>();
  private readonly now: () => number;
  readonly cacheTtlMs: number;

  private readonly keys?: TokenKeys;

  constructor(
    private readonly table: AccessTable,
    options: { cacheTtlMs?: number; now?: () => number; keys?: TokenKeys } = {},
  ) {
    this.cacheTtlMs = options.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS;
    this.now = options.now ?? (() => Date.now());
    this.keys = options.keys;
  }

  /** The caller an Authorization header names; 401 (UNAUTHENTICATED) when it names none. */
  async authenticate(authorization: string | undefined): Promise<Caller> {
    const credential = tokenFromAuthorization(authorization);
    if (!credential.ok) throw unauthenticated(`Authentication required: ${credential.reason}.`);
    const hash = hashTokenSecret(credential.secret);
    const now = this.now();
    const cached = this.callers.get(hash);
    let caller: Caller | undefined;
    if (cached && cached.until > now) {
      caller = cached.value;
    } else {
      const token = await this.table.getToken(hash);
      caller = token && this.live(token, now) ? await this.callerOf(token) : undefined;
      const until = Math.min(now + this.cacheTtlMs, token?.expiresAt ?? Number.POSITIVE_INFINITY);
      this.remember(this.callers, hash, { value: caller, until });
      if (caller) void this.table.touchToken(hash, now, LAST_USED_EVERY_MS).catch(() => undefined);
    }
    if (!caller) throw unauthenticated('Authentication failed: the token is unknown, expired or revoked.');
    return caller;
  }

  private live(token: TokenRecord, now: number): boolean {
    return token.revokedAt === undefined && (token.expiresAt === undefined || token.expiresAt > now);
  }

  private async callerOf(token: TokenRecord): Promise<Caller> {
    const principal = await this.table.getPrincipal(token.principal);
    return { principal: token.principal, admin: principal?.admin === true, tokenId: token.tokenId };
  }

  /** The caller's level on a model (admins: CAN_MANAGE); undefined when none or the model does not exist. */
  async levelOn(caller: Caller, model: string): Promise<PermissionLevel | undefined> {
    if (caller.admin) return 'CAN_MANAGE';
    // No model can have a name that breaks the naming rules; such a name never reaches the table.
    if (!isModelName(model)) return undefined;
    const key = `${caller.tokenId}\u0000${caller.principal}\u0000${model}`;
    const now = this.now();
    const cached = this.levels.get(key);
    if (cached && cached.until > now) return cached.value;
    const acl = await this.table.modelAcl(model);
    const held = acl?.permissions[caller.principal];
    const level = isPermissionLevel(held) ? held : undefined;
    this.remember(this.levels, key, { value: level, until: now + this.cacheTtlMs });
    return level;
  }

  /** Throws 403 (PERMISSION_DENIED) unless the caller meets the requirement. */
  async require(caller: Caller, need: Requirement): Promise<void> {
    if (need.kind === 'authenticated' || caller.admin) return;
    if (need.kind === 'admin') throw denied(`Only an admin may do this; '${caller.principal}' is not one.`);
    const level = await this.levelOn(caller, need.model);
    if (!includes(level, need.level)) {
      throw denied(
        `Principal '${caller.principal}' needs ${need.level} on registered model '${need.model}'${level ? ` (has ${level})` : ''}.`,
      );
    }
  }

  /** Whether a caller may read a model with these permissions (for filtering listings). */
  static canRead(caller: Caller, permissions: Readonly<Record<string, string>>): boolean {
    if (caller.admin) return true;
    const held = permissions[caller.principal];
    return isPermissionLevel(held) && includes(held, 'CAN_READ');
  }

  private remember<T>(cache: Map<string, Cached<T>>, key: string, entry: Cached<T>): void {
    if (cache.size > 10_000) cache.clear();
    cache.set(key, entry);
  }

  // ---- model permissions --------------------------------------------------------------

  /** The model's access control list: principal -> permission level. */
  async getPermissions(name: string): Promise<Record<string, string>> {
    return { ...(await this.requireAcl(name)).permissions };
  }

  /** Sets (or, with a null level, removes) principals' levels on a model; returns the new list. */
  async updatePermissions(
    name: string,
    changes: readonly { principal: string; level: string | null }[],
    validLevels: readonly string[],
  ): Promise<Record<string, string>> {
    for (const change of changes) {
      const problem =
        principalProblem(change.principal) ??
        (change.level === null ? undefined : permissionLevelProblem(change.level, validLevels));
      if (problem !== undefined) throw invalidParameter(problem);
    }
    const acl = await this.requireAcl(name);
    const next: Record<string, string> = { ...acl.permissions };
    for (const change of changes) {
      if (change.level === null) delete next[change.principal];
      else next[change.principal] = change.level;
    }
    const updated = await this.table.setModelPermissions(acl.modelId, next);
    if (!updated) throw modelNotFound(name);
    return { ...updated };
  }

  private async requireAcl(name: string): Promise<ModelAcl> {
    validateModelName(name);
    const acl = await this.table.modelAcl(name);
    if (!acl) throw modelNotFound(name);
    return acl;
  }

  // ---- tokens ---------------------------------------------------------------------------

  /** Creates a token for the caller (or, for an admin, for any principal); the secret is returned once. */
  async createToken(
    caller: Caller,
    input: { principal?: string; description?: string; lifetimeSeconds?: number },
  ): Promise<{ secret: string; info: TokenInfo }> {
    const principal = input.principal ?? caller.principal;
    if (principal !== caller.principal && !caller.admin)
      throw denied('Only an admin may create tokens for another principal.');
    return this.issue(principal, input.description ?? '', input.lifetimeSeconds);
  }

  private async issue(principal: string, description: string, lifetimeSeconds?: number) {
    checkPrincipal(principal);
    if (description.length > 1000)
      throw new MlflowError('INVALID_PARAMETER_VALUE', 'The description is longer than 1000 characters.');
    if (
      lifetimeSeconds !== undefined &&
      (!Number.isInteger(lifetimeSeconds) || lifetimeSeconds < 1 || lifetimeSeconds > MAX_LIFETIME_SECONDS)
    ) {
      throw new MlflowError(
        'INVALID_PARAMETER_VALUE',
        `lifetime_seconds must be a whole number from 1 to ${MAX_LIFETIME_SECONDS}.`,
      );
    }
    const secret = newTokenSecret();
    const hash = hashTokenSecret(secret);
    const now = this.now();
    const record: TokenRecord = {
      hash,
      tokenId: tokenIdOf(hash),
      principal,
      description,
      createdAt: now,
      expiresAt: lifetimeSeconds === undefined ? undefined : now + lifetimeSeconds * 1000,
    };
    // The key first: a token without its key would be refused where keys are required, while a
    // key without a token is never used (only the authorizer names a request's key).
    await this.keys?.created(record.tokenId);
    await this.table.putToken(record);
    return { secret, info: tokenInfo(record) };
  }

  /** The caller's tokens; an admin may list anyone's, or everyone's. */
  async listTokens(caller: Caller, principal?: string): Promise<TokenInfo[]> {
    if (!caller.admin && principal !== undefined && principal !== caller.principal) {
      throw denied("Only an admin may list another principal's tokens.");
    }
    if (principal !== undefined) checkPrincipal(principal);
    const who = caller.admin ? principal : caller.principal;
    return (await this.table.listTokens(who)).sort((a, b) => a.createdAt - b.createdAt).map(tokenInfo);
  }

  /** Revokes one of the caller's tokens (an admin: anyone's). */
  async revokeToken(caller: Caller, tokenId: string): Promise<void> {
    const candidates = await this.table.listTokens(caller.admin ? undefined : caller.principal);
    const token = candidates.find((t) => t.tokenId === tokenId);
    if (!token)
      throw notFound(`No token with id ${tokenId}${caller.admin ? '' : ` for principal '${caller.principal}'`}.`);
    await this.table.revokeToken(token.hash, this.now());
    this.callers.delete(token.hash);
    await this.keys?.revoked(token.tokenId);
  }

  /**
   * Makes sure an admin principal exists with a token. With `secret` (MLSERVE_ADMIN_TOKEN) that
   * token is the admin's; otherwise a new one is made only when the admin has none — the secret
   * is returned that once, to be shown to the operator.
   */
  async bootstrapAdmin(principal = 'admin', secret?: string): Promise<{ secret?: string }> {
    await this.table.putPrincipal(principal, true);
    if (secret !== undefined) {
      if (!tokenFromAuthorization(`Bearer ${secret}`).ok) {
        throw new Error('MLSERVE_ADMIN_TOKEN is not an mlserve token (mlsv_ followed by 43 base64url characters).');
      }
      const hash = hashTokenSecret(secret);
      const existing = await this.table.getToken(hash);
      if (!existing) {
        await this.keys?.created(tokenIdOf(hash));
        await this.table.putToken({
          hash,
          tokenId: tokenIdOf(hash),
          principal,
          description: 'bootstrap admin token (MLSERVE_ADMIN_TOKEN)',
          createdAt: this.now(),
        });
      }
      return {};
    }
    const live = (await this.table.listTokens(principal)).filter((t) => this.live(t, this.now()));
    if (live.length > 0) return {};
    const issued = await this.issue(principal, 'bootstrap admin token');
    return { secret: issued.secret };
  }

  /** Gives a principal (or takes away its) admin rights. */
  async setAdmin(principal: string, admin: boolean): Promise<void> {
    checkPrincipal(principal);
    await this.table.putPrincipal(principal, admin);
  }
}

function modelNotFound(name: string): MlflowError {
  return notFound(`Registered Model with name=${name} not found`);
}

function checkPrincipal(principal: string): void {
  const problem = principalProblem(principal);
  if (problem !== undefined) throw new MlflowError('INVALID_PARAMETER_VALUE', problem);
}

function tokenInfo(t: TokenRecord): TokenInfo {
  return {
    token_id: t.tokenId,
    principal: t.principal,
    description: t.description,
    creation_time: t.createdAt,
    ...(t.expiresAt === undefined ? {} : { expiry_time: t.expiresAt }),
    ...(t.revokedAt === undefined ? {} : { revoked_time: t.revokedAt }),
    ...(t.lastUsedAt === undefined ? {} : { last_used_time: t.lastUsedAt }),
  };
}

export { PERMISSION_LEVELS };
