/** `mlserve tokens …`: the caller's API tokens (an admin's: anyone's). */
import type { Command } from 'commander';
import type { CreateTokenResponse, ListTokensResponse, TokenInfoJson } from '../../lambdas/access/responses';
import { TOKENS } from '../client';
import { contextOf, positiveInt } from '../context';
import { cell, table, time } from '../output';

/** `live`, `revoked` or `expired`, as of now. */
function tokenState(t: TokenInfoJson, now = Date.now()): string {
  if (t.revoked_time !== undefined) return 'revoked';
  if (t.expiry_time !== undefined && t.expiry_time <= now) return 'expired';
  return 'live';
}

export function registerTokens(program: Command): void {
  const tokens = program.command('tokens').description('API tokens: create, list and revoke');

  tokens
    .command('create')
    .description('create a token; its secret is printed once, on stdout, and never shown again')
    .option('--description <text>', 'what the token is for')
    .option('--lifetime-seconds <n>', 'expire the token after this many seconds (default: never)', positiveInt)
    .option('--principal <principal>', "another principal's token (admins only)")
    .action(
      async (options: { description?: string; lifetimeSeconds?: number; principal?: string }, command: Command) => {
        const { client, out } = contextOf(command);
        const answer = await client.post<CreateTokenResponse>(`${TOKENS}create`, {
          description: options.description,
          lifetime_seconds: options.lifetimeSeconds,
          principal: options.principal,
        });
        const info = answer.token_info;
        // The secret alone on stdout (so `$(mlserve tokens create)` captures just it); the rest on stderr.
        if (out.json) out.printJson(answer);
        else {
          out.progress(
            `Created token ${info.token_id} for ${info.principal}, ${info.expiry_time === undefined ? 'never expiring' : `expiring ${time(info.expiry_time)}`}.`,
          );
          out.line(answer.token_value);
        }
        out.progress(
          'Warning: copy the token now. This is the only time it is shown: mlserve keeps only its hash. Keep it secret; revoke it with: mlserve tokens revoke ' +
            info.token_id,
        );
      },
    );

  tokens
    .command('list')
    .description('list your tokens (an admin: everyone’s, or one principal’s), without their secrets')
    .option('--principal <principal>', "only this principal's tokens (another's: admins only)")
    .action(async (options: { principal?: string }, command: Command) => {
      const { client, out } = contextOf(command);
      const answer = await client.get<ListTokensResponse>(`${TOKENS}list`, { principal: options.principal });
      if (out.json) return out.printJson(answer);
      const infos = answer.token_infos ?? [];
      if (infos.length === 0) return out.line('No tokens.');
      out.line(
        table(
          ['TOKEN ID', 'PRINCIPAL', 'STATE', 'CREATED', 'EXPIRES', 'LAST USED', 'DESCRIPTION'],
          infos.map((t) => [
            t.token_id,
            t.principal,
            tokenState(t),
            time(t.creation_time),
            time(t.expiry_time),
            time(t.last_used_time),
            cell(t.description),
          ]),
        ),
      );
    });

  tokens
    .command('revoke')
    .description('revoke a token at once (yours; an admin: anyone’s)')
    .argument('<token_id>', 'the token’s id (16 hex digits, from tokens list)')
    .action(async (tokenId: string, _options: object, command: Command) => {
      const { client, out } = contextOf(command);
      const answer = await client.post(`${TOKENS}revoke`, { token_id: tokenId });
      if (out.json) return out.printJson(answer);
      out.line(`Revoked token ${tokenId}.`);
    });
}
