/** `mlserve permissions …`: a registered model's access control list (CAN_MANAGE on the model). */
import { type Command, InvalidArgumentError } from 'commander';
import { isPermissionLevel, PERMISSION_LEVELS, type PermissionLevel } from '../../core/auth/levels';
import type { PermissionsResponse } from '../../lambdas/access/responses';
import { PERMISSIONS } from '../client';
import { contextOf } from '../context';
import type { Output } from '../output';
import { table } from '../output';

/** A permission level in any case (`can_read` → `CAN_READ`). */
function level(text: string): PermissionLevel {
  const upper = text.trim().toUpperCase();
  if (!isPermissionLevel(upper)) {
    throw new InvalidArgumentError(`expected one of ${PERMISSION_LEVELS.join(', ')}, got '${text}'.`);
  }
  return upper;
}

function printList(out: Output, answer: PermissionsResponse): void {
  const entries = answer.access_control_list ?? [];
  if (out.json) out.printJson(answer);
  else if (entries.length === 0) out.line(`No one has a permission on ${answer.registered_model_name}.`);
  else
    out.line(
      table(
        ['PRINCIPAL', 'LEVEL'],
        entries.map((e) => [e.principal, e.permission_level]),
      ),
    );
}

export function registerPermissions(program: Command): void {
  const permissions = program
    .command('permissions')
    .description(`who may do what with a registered model (${PERMISSION_LEVELS.join(' < ')}; admins: everything)`);

  permissions
    .command('get')
    .description("show a model's permissions")
    .argument('<model>', 'registered model name')
    .action(async (model: string, _options: object, command: Command) => {
      const { client, out } = contextOf(command);
      printList(out, await client.get<PermissionsResponse>(`${PERMISSIONS}get`, { name: model }));
    });

  permissions
    .command('set')
    .description('give a principal a level on a model (replacing the one it had)')
    .argument('<model>', 'registered model name')
    .argument('<principal>', 'principal')
    .argument('<level>', PERMISSION_LEVELS.join(' | '), level)
    .action(
      async (model: string, principal: string, levelName: PermissionLevel, _options: object, command: Command) => {
        const { client, out } = contextOf(command);
        const answer = await client.post<PermissionsResponse>(`${PERMISSIONS}update`, {
          name: model,
          access_control_list: [{ principal, permission_level: levelName }],
        });
        if (out.json) return out.printJson(answer);
        out.line(`${principal} now has ${levelName} on ${model}.`);
      },
    );

  permissions
    .command('delete')
    .description("remove a principal's permission on a model")
    .argument('<model>', 'registered model name')
    .argument('<principal>', 'principal')
    .action(async (model: string, principal: string, _options: object, command: Command) => {
      const { client, out } = contextOf(command);
      const answer = await client.post<PermissionsResponse>(`${PERMISSIONS}update`, {
        name: model,
        access_control_list: [{ principal, permission_level: null }],
      });
      if (out.json) return out.printJson(answer);
      out.line(`${principal} has no permission on ${model} now.`);
    });
}
