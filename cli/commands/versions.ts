/** `mlserve versions …`: model versions, and registering a local model directory. */
import { type Command, Option } from 'commander';
import { storeModel } from '../artifacts';
import { type Client, REGISTRY } from '../client';
import {
  CliError,
  collectTag,
  contextOf,
  elapsed,
  pollInterval,
  positiveInt,
  sleep,
  type Tag,
  usageError,
  versionNumber,
} from '../context';
import { cell, fields, type Output, table, tagText, time } from '../output';
import type { ModelVersionJson } from '../shapes';

/** The local twin's artifact folder, its default allowed source root. */
export const DEFAULT_ARTIFACT_ROOT = './.mlserve/artifacts';

/** A filter string literal: single quotes, doubled inside. */
export const quoted = (text: string) => `'${text.replaceAll("'", "''")}'`;

interface CreateOptions {
  name: string;
  source?: string;
  from?: string;
  artifactRoot: string;
  runId?: string;
  description?: string;
  tag?: Tag[];
  wait?: boolean;
  timeout: number;
}

export function versionFields(v: ModelVersionJson): string {
  return fields([
    ['name', v.name],
    ['version', v.version],
    ['stage', v.current_stage],
    ['status', v.status],
    ['status message', v.status_message || undefined],
    ['aliases', v.aliases?.join(', ') || undefined],
    ['source', v.source],
    ['run id', v.run_id || undefined],
    ['description', v.description || undefined],
    ['tags', tagText(v.tags) || undefined],
    ['created', time(v.creation_timestamp)],
    ['updated', time(v.last_updated_timestamp)],
  ]);
}

/** Polls a new version until its registration check is done; FAILED_REGISTRATION is an error. */
async function waitForRegistration(
  client: Client,
  out: Output,
  name: string,
  version: string,
  timeoutSeconds: number,
): Promise<{ model_version: ModelVersionJson }> {
  const start = Date.now();
  out.progress(`Waiting for version ${version} of ${name} to finish registration…`);
  for (;;) {
    const answer = await client.get<{ model_version: ModelVersionJson }>(`${REGISTRY}model-versions/get`, {
      name,
      version,
    });
    const v = answer.model_version;
    if (v.status === 'FAILED_REGISTRATION') {
      throw new CliError(`version ${version} of ${name} failed registration: ${v.status_message || 'no reason given'}`);
    }
    if (v.status !== 'PENDING_REGISTRATION') {
      out.progress(`[${elapsed(start)}] ${v.status}`);
      return answer;
    }
    if (Date.now() - start > timeoutSeconds * 1000) {
      throw new CliError(`version ${version} of ${name} is still PENDING_REGISTRATION after ${timeoutSeconds} s`);
    }
    await sleep(pollInterval(500));
  }
}

export function registerVersions(program: Command): void {
  const versions = program.command('versions').description('model versions');

  versions
    .command('list')
    .description('list the versions of a registered model')
    .argument('<name>', 'model name')
    .action(async (name: string, _options: object, command: Command) => {
      const { client, out } = contextOf(command);
      const all: ModelVersionJson[] = [];
      let pageToken: string | undefined;
      do {
        const page = await client.get<{ model_versions?: ModelVersionJson[]; next_page_token?: string }>(
          `${REGISTRY}model-versions/search`,
          { filter: `name=${quoted(name)}`, order_by: ['version_number ASC'], page_token: pageToken },
        );
        all.push(...(page.model_versions ?? []));
        pageToken = page.next_page_token || undefined;
      } while (pageToken !== undefined);
      // No versions: say so only if the model exists (an unknown model is an error).
      if (all.length === 0) await client.get(`${REGISTRY}registered-models/get`, { name });
      if (out.json) return out.printJson(all.length > 0 ? { model_versions: all } : {});
      if (all.length === 0) return out.line(`Registered model ${name} has no versions.`);
      out.line(
        table(
          ['VERSION', 'STAGE', 'STATUS', 'ALIASES', 'CREATED', 'SOURCE'],
          all.map((v) => [
            v.version,
            cell(v.current_stage),
            cell(v.status),
            cell(v.aliases?.join(', ')),
            time(v.creation_timestamp),
            cell(v.source),
          ]),
        ),
      );
    });

  versions
    .command('get')
    .description('show a model version')
    .argument('<name>', 'model name')
    .argument('<version>', 'version number', versionNumber)
    .action(async (name: string, version: string, _options: object, command: Command) => {
      const { client, out } = contextOf(command);
      const answer = await client.get<{ model_version: ModelVersionJson }>(`${REGISTRY}model-versions/get`, {
        name,
        version,
      });
      if (out.json) return out.printJson(answer);
      out.line(versionFields(answer.model_version));
    });

  versions
    .command('create')
    .description(
      'register a new version from a source URI, or from a local MLflow model directory copied into the artifact store',
    )
    .requiredOption('--name <name>', 'registered model name')
    .addOption(
      new Option('--source <uri>', 'artifact URI (s3://… or file://…) under an allowed root').conflicts('from'),
    )
    .addOption(
      new Option('--from <dir>', 'local MLflow model directory (with an MLmodel file) to copy and register').conflicts(
        'source',
      ),
    )
    .addOption(
      new Option('--artifact-root <root>', 'where --from copies the model: a folder, or s3://bucket/prefix')
        .env('MLSERVE_ARTIFACT_ROOT')
        .default(DEFAULT_ARTIFACT_ROOT),
    )
    .option('--run-id <id>', 'MLflow run id')
    .option('--description <text>', 'description')
    .option('--tag <key=value>', 'tag (repeatable)', collectTag)
    .option('--wait', 'wait until the registration check is done (default)')
    .option('--no-wait', 'return as soon as the version is created (PENDING_REGISTRATION)')
    .addOption(new Option('--timeout <seconds>', 'how long --wait waits').argParser(positiveInt).default(300))
    .action(async (options: CreateOptions, command: Command) => {
      if (options.source === undefined && options.from === undefined) {
        usageError(command, 'one of --source <uri> or --from <dir> is required');
      }
      const { client, out } = contextOf(command);
      let source = options.source as string;
      let remove: (() => Promise<void>) | undefined;
      if (options.from !== undefined) {
        const stored = await storeModel({
          dir: options.from,
          root: options.artifactRoot,
          modelName: options.name,
          onProgress: out.progress,
        });
        source = stored.source;
        remove = stored.remove;
      }
      let created: { model_version: ModelVersionJson };
      try {
        created = await client.post<{ model_version: ModelVersionJson }>(`${REGISTRY}model-versions/create`, {
          name: options.name,
          source,
          run_id: options.runId,
          description: options.description,
          tags: options.tag,
        });
      } catch (error) {
        // The registry refused the copy: remove it again.
        await remove?.().catch(() => undefined);
        throw error;
      }
      const version = created.model_version.version;
      const answer =
        options.wait === false
          ? created
          : await waitForRegistration(client, out, options.name, version, options.timeout);
      if (out.json) return out.printJson(answer);
      out.line(`Registered version ${version} of ${options.name} (${answer.model_version.status}).`);
      out.line(`  source: ${answer.model_version.source}`);
    });

  versions
    .command('delete')
    .description('delete a model version')
    .argument('<name>', 'model name')
    .argument('<version>', 'version number', versionNumber)
    .action(async (name: string, version: string, _options: object, command: Command) => {
      const { client, out } = contextOf(command);
      const answer = await client.delete(`${REGISTRY}model-versions/delete`, { name, version });
      if (out.json) return out.printJson(answer);
      out.line(`Deleted version ${version} of ${name}.`);
    });
}
