/** `mlserve score …`: one scoring request to a served model. */
import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { CliError, contextOf, usageError } from '../context';

/** The scoring path of a model and a ref (version, stage or @alias). */
export function invocationsPath(name: string, ref: string): string {
  const segment = (text: string) => encodeURIComponent(text).replace(/^%40/, '@');
  return `/model/${segment(name)}/${segment(ref)}/invocations`;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function registerScore(program: Command): void {
  program
    .command('score')
    .description('send a scoring request to a served model and print the answer')
    .argument('<name>', 'registered model name')
    .argument('<ref>', 'version number, Staging, Production or @alias')
    .addOption(new Option('--data <body>', 'request body, e.g. \'{"dataframe_split": …}\'').conflicts('file'))
    .addOption(new Option('--file <path>', 'read the request body from a file').conflicts('data'))
    .option('--content-type <type>', 'Content-Type of the request', 'application/json')
    .addHelpText('after', '\nWithout --data or --file the request body is read from stdin.')
    .action(
      async (
        name: string,
        ref: string,
        options: { data?: string; file?: string; contentType: string },
        command: Command,
      ) => {
        let body: string | Buffer;
        if (options.data !== undefined) {
          body = options.data;
        } else if (options.file !== undefined) {
          const file = options.file;
          body = await readFile(file).catch((error: Error) => {
            throw new CliError(`cannot read ${file}: ${error.message}`);
          });
        } else if (process.stdin.isTTY) {
          usageError(command, 'give the request body with --data, --file or on stdin');
        } else {
          body = await readStdin();
        }
        const { client } = contextOf(command);
        const answer = await client.postRaw(invocationsPath(name, ref), body, options.contentType);
        process.stdout.write(answer.text.endsWith('\n') ? answer.text : `${answer.text}\n`);
      },
    );
}
