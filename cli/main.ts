/**
 * The `mlserve` command line: the registry, serving, token and permissions REST APIs of the local twin or of an
 * AWS deployment. Exit status: 0 done, 1 the server or the operation failed, 2 usage error.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { ApiError, NetworkError } from './client';
import { registerAlias } from './commands/alias';
import { registerModels } from './commands/models';
import { registerPermissions } from './commands/permissions';
import { registerScore } from './commands/score';
import { registerServing } from './commands/serving';
import { registerStage } from './commands/stage';
import { registerTokens } from './commands/tokens';
import { registerVersions } from './commands/versions';
import { CliError } from './context';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export function createProgram(): Command {
  const program = new Command()
    .name('mlserve')
    .description("mlserve's model registry and model serving, from the command line")
    // `-V` only: `--version` belongs to `serving events`, and program options are read after subcommands too.
    .version(version, '-V', 'output the version number')
    .addOption(
      new Option('--url <url>', 'API base URL (local twin or API Gateway)').env('MLSERVE_URL').default(DEFAULT_URL),
    )
    .addOption(new Option('--token <token>', 'API token, sent as a bearer token').env('MLSERVE_TOKEN'))
    .option('--json', 'print the JSON answers instead of text')
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(add --help for usage)')
    // Subcommands inherit this: commander throws instead of exiting, and run() picks the exit status.
    .exitOverride();
  registerModels(program);
  registerVersions(program);
  registerStage(program);
  registerAlias(program);
  registerServing(program);
  registerScore(program);
  registerTokens(program);
  registerPermissions(program);
  return program;
}

/** Prints what went wrong (commander has printed its own errors) and returns the exit status. */
export function report(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
  if (error instanceof ApiError) {
    process.stderr.write(`error: ${error.code}: ${error.message || '(no message)'} (HTTP ${error.status})\n`);
  } else if (error instanceof NetworkError || error instanceof CliError) {
    process.stderr.write(`error: ${error.message}\n`);
  } else {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  return 1;
}

/** Runs the command line and returns its exit status. */
export async function run(argv: readonly string[]): Promise<number> {
  try {
    await createProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    return report(error);
  }
}

process.exitCode = await run(process.argv);
