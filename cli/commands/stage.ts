/** `mlserve stage …`: moving a model version to a stage. */
import type { Command } from 'commander';
import { REGISTRY } from '../client';
import { contextOf, versionNumber } from '../context';
import type { ModelVersionJson } from '../shapes';

export function registerStage(program: Command): void {
  program
    .command('stage')
    .description('move a model version to a stage')
    .argument('<name>', 'model name')
    .argument('<version>', 'version number', versionNumber)
    .argument('<stage>', 'None, Staging, Production or Archived (any case)')
    .option('--archive-existing', 'archive the versions now in that stage')
    .action(
      async (
        name: string,
        version: string,
        stage: string,
        options: { archiveExisting?: boolean },
        command: Command,
      ) => {
        const { client, out } = contextOf(command);
        const answer = await client.post<{ model_version: ModelVersionJson }>(
          `${REGISTRY}model-versions/transition-stage`,
          { name, version, stage, archive_existing_versions: options.archiveExisting === true },
        );
        if (out.json) return out.printJson(answer);
        out.line(`Version ${version} of ${name} is now in stage ${answer.model_version.current_stage ?? stage}.`);
      },
    );
}
