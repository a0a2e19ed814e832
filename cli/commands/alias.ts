/** `mlserve alias …`: a registered model's aliases. */
import type { Command } from 'commander';
import { REGISTRY } from '../client';
import { contextOf, versionNumber } from '../context';

export function registerAlias(program: Command): void {
  const alias = program.command('alias').description("a registered model's aliases (scored as @alias)");

  alias
    .command('set')
    .description('point an alias at a version (moving it if it points elsewhere)')
    .argument('<name>', 'model name')
    .argument('<alias>', 'alias')
    .argument('<version>', 'version number', versionNumber)
    .action(async (name: string, aliasName: string, version: string, _options: object, command: Command) => {
      const { client, out } = contextOf(command);
      const answer = await client.post(`${REGISTRY}registered-models/alias`, { name, alias: aliasName, version });
      if (out.json) return out.printJson(answer);
      out.line(`Alias ${aliasName} of ${name} now points to version ${version}.`);
    });

  alias
    .command('delete')
    .description('delete an alias')
    .argument('<name>', 'model name')
    .argument('<alias>', 'alias')
    .action(async (name: string, aliasName: string, _options: object, command: Command) => {
      const { client, out } = contextOf(command);
      const answer = await client.delete(`${REGISTRY}registered-models/alias`, { name, alias: aliasName });
      if (out.json) return out.printJson(answer);
      out.line(`Deleted alias ${aliasName} of ${name}.`);
    });
}
