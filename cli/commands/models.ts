/** `mlserve models …`: registered models. */
import type { Command } from 'commander';
import { REGISTRY } from '../client';
import { collectTag, contextOf, type Tag } from '../context';
import { aliasText, cell, fields, table, tagText, time } from '../output';
import type { ModelVersionJson, RegisteredModelJson } from '../shapes';

/** `1 (Production), 3 (None)`: a model's latest version per stage. */
export function latestText(versions: readonly ModelVersionJson[] | undefined): string {
  return (versions ?? []).map((v) => `${v.version} (${v.current_stage ?? 'None'})`).join(', ');
}

export function registerModels(program: Command): void {
  const models = program.command('models').description('registered models');

  models
    .command('list')
    .description('list registered models (every page)')
    .option('--filter <filter>', "MLflow search filter, e.g. \"name LIKE 'iris%' AND tags.team = 'a'\"")
    .action(async (options: { filter?: string }, command: Command) => {
      const { client, out } = contextOf(command);
      const all: RegisteredModelJson[] = [];
      let pageToken: string | undefined;
      do {
        const page = await client.get<{ registered_models?: RegisteredModelJson[]; next_page_token?: string }>(
          `${REGISTRY}registered-models/search`,
          { filter: options.filter, max_results: 1000, page_token: pageToken },
        );
        all.push(...(page.registered_models ?? []));
        pageToken = page.next_page_token || undefined;
      } while (pageToken !== undefined);
      if (out.json) return out.printJson(all.length > 0 ? { registered_models: all } : {});
      if (all.length === 0) return out.line('No registered models.');
      out.line(
        table(
          ['NAME', 'LATEST VERSIONS', 'ALIASES', 'UPDATED', 'DESCRIPTION'],
          all.map((m) => [
            m.name,
            cell(latestText(m.latest_versions)),
            cell(aliasText(m.aliases)),
            time(m.last_updated_timestamp),
            cell(m.description),
          ]),
        ),
      );
    });

  models
    .command('create')
    .description('create a registered model')
    .argument('<name>', 'model name')
    .option('--description <text>', 'description')
    .option('--tag <key=value>', 'tag (repeatable)', collectTag)
    .action(async (name: string, options: { description?: string; tag?: Tag[] }, command: Command) => {
      const { client, out } = contextOf(command);
      const answer = await client.post(`${REGISTRY}registered-models/create`, {
        name,
        description: options.description,
        tags: options.tag,
      });
      if (out.json) return out.printJson(answer);
      out.line(`Created registered model ${name}.`);
    });

  models
    .command('get')
    .description('show a registered model')
    .argument('<name>', 'model name')
    .action(async (name: string, _options: object, command: Command) => {
      const { client, out } = contextOf(command);
      const answer = await client.get<{ registered_model: RegisteredModelJson }>(`${REGISTRY}registered-models/get`, {
        name,
      });
      if (out.json) return out.printJson(answer);
      const m = answer.registered_model;
      out.line(
        fields([
          ['name', m.name],
          ['description', m.description || undefined],
          ['created', time(m.creation_timestamp)],
          ['updated', time(m.last_updated_timestamp)],
          ['tags', tagText(m.tags) || undefined],
          ['aliases', aliasText(m.aliases) || undefined],
          ['latest versions', latestText(m.latest_versions) || undefined],
        ]),
      );
    });

  models
    .command('delete')
    .description('delete a registered model and all its versions')
    .argument('<name>', 'model name')
    .action(async (name: string, _options: object, command: Command) => {
      const { client, out } = contextOf(command);
      const answer = await client.delete(`${REGISTRY}registered-models/delete`, { name });
      if (out.json) return out.printJson(answer);
      out.line(`Deleted registered model ${name}.`);
    });

  models
    .command('rename')
    .description('rename a registered model')
    .argument('<name>', 'current name')
    .argument('<new-name>', 'new name')
    .action(async (name: string, newName: string, _options: object, command: Command) => {
      const { client, out } = contextOf(command);
      const answer = await client.post(`${REGISTRY}registered-models/rename`, { name, new_name: newName });
      if (out.json) return out.printJson(answer);
      out.line(`Renamed registered model ${name} to ${newName}.`);
    });
}
