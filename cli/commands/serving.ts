/** `mlserve serving …`: the serving endpoints API (enable, disable, status, events, logs, compute size, batching, workers). */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { COMPUTE_SIZES } from '../../core/registry/model';
import { type Client, SERVING } from '../client';
import {
  CliError,
  collect,
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
import { cell, type Output, table, tagText, time } from '../output';
import type { EndpointState, EndpointStatusJson, EndpointVersionJson, ServingEventJson } from '../shapes';

/** The compute presets the serving API accepts. */
const SIZES = Object.keys(COMPUTE_SIZES);

/** `--batching`: on, off, or back to the host's default. */
const BATCHING = { on: true, off: false, default: null } as const;

/**
 * Parses a whole number, or `word` (`default`, `auto`: the setting goes back to the host's
 * choice). Kept as the word here (commander turns a parser's null into ''); `sent` makes it null.
 */
const wholeOr =
  (word: string) =>
  (text: string): number | string => {
    if (text === word) return word;
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
      throw new InvalidArgumentError(`expected a whole number or '${word}', got '${text}'.`);
    }
    return Number(text);
  };

/** A parsed setting as the API takes it: a number, null for the host's choice, or undefined (not given). */
const sent = (value: number | string | undefined): number | null | undefined =>
  value === undefined ? undefined : typeof value === 'number' ? value : null;

/** What `serving status` prints of the settings the running task applies (unset: the host's choice). */
function liveSettingLines(status: EndpointStatusJson): string[] {
  const { batching, workers_per_version: workers } = status;
  const enabled = batching?.enabled;
  return [
    `batching: ${enabled === undefined ? 'default' : enabled ? 'on' : 'off'}`,
    `max batch rows: ${batching?.max_batch_rows ?? 'default'}`,
    `max wait ms: ${batching?.max_wait_ms ?? 'default'}`,
    `workers per version: ${workers ?? 'auto'}`,
  ];
}

type StatusAnswer = { endpoint_status: EndpointStatusJson };

/** Polls get-status until the endpoint reaches `target`; FAILED or the timeout is an error. */
async function waitForState(
  client: Client,
  out: Output,
  name: string,
  target: EndpointState,
  timeoutSeconds: number,
): Promise<StatusAnswer> {
  const start = Date.now();
  let last: string | undefined;
  for (;;) {
    const answer = await client.get<StatusAnswer>(`${SERVING}get-status`, { registered_model_name: name });
    const { state, message } = answer.endpoint_status;
    const shown = `${state}${message ? `: ${message}` : ''}`;
    if (shown !== last) {
      out.progress(`[${elapsed(start)}] ${shown}`);
      last = shown;
    }
    if (state === target) return answer;
    if (state === 'ENDPOINT_STATE_FAILED') {
      throw new CliError(`serving of ${name} failed: ${message || 'no reason given'}`);
    }
    if (Date.now() - start > timeoutSeconds * 1000) {
      throw new CliError(`serving of ${name} is still ${state} after ${timeoutSeconds} s (waiting for ${target})`);
    }
    await sleep(pollInterval(1000));
  }
}

/** `ENDPOINT_STATE_READY` → `READY`. */
const short = (state: string) => state.replace(/^(ENDPOINT|VERSION)_STATE_/, '');

function waitOptions(command: Command, defaultTimeout: number): Command {
  return command
    .option('--wait', 'wait for the endpoint to get there, showing each state change on stderr')
    .addOption(
      new Option('--timeout <seconds>', 'how long --wait waits').argParser(positiveInt).default(defaultTimeout),
    );
}

export function registerServing(program: Command): void {
  const serving = program
    .command('serving')
    .description('serving endpoints: one per registered model, serving all its live versions');

  waitOptions(
    serving
      .command('enable')
      .description('enable serving of a registered model')
      .argument('<name>', 'registered model name'),
    900,
  ).action(async (name: string, options: { wait?: boolean; timeout: number }, command: Command) => {
    const { client, out } = contextOf(command);
    const answer = await client.post(`${SERVING}enable`, { registered_model_name: name });
    if (!options.wait) {
      if (out.json) return out.printJson(answer);
      return out.line(`Enabling serving of ${name}; see: mlserve serving status ${name}`);
    }
    const status = await waitForState(client, out, name, 'ENDPOINT_STATE_READY', options.timeout);
    if (out.json) return out.printJson(status);
    out.line('READY');
  });

  waitOptions(
    serving
      .command('disable')
      .description('disable serving of a registered model')
      .argument('<name>', 'registered model name'),
    600,
  ).action(async (name: string, options: { wait?: boolean; timeout: number }, command: Command) => {
    const { client, out } = contextOf(command);
    const answer = await client.post(`${SERVING}disable`, { registered_model_name: name });
    if (!options.wait) {
      if (out.json) return out.printJson(answer);
      return out.line(`Disabling serving of ${name}; see: mlserve serving status ${name}`);
    }
    const status = await waitForState(client, out, name, 'ENDPOINT_STATE_STOPPED', options.timeout);
    if (out.json) return out.printJson(status);
    out.line('STOPPED');
  });

  serving
    .command('status')
    .description("show a model's endpoint state and each served version's state and scoring URIs")
    .argument('<name>', 'registered model name')
    .action(async (name: string, _options: object, command: Command) => {
      const { client, out } = contextOf(command);
      const query = { registered_model_name: name };
      const [status, versions] = await Promise.all([
        client.get<StatusAnswer>(`${SERVING}get-status`, query),
        client.get<{ endpoint_versions?: EndpointVersionJson[] }>(`${SERVING}list-versions`, query),
      ]);
      if (out.json) return out.printJson({ ...status, ...versions });
      const { state, message, compute_size: size, tags } = status.endpoint_status;
      out.line(`${name}: ${short(state)}${message ? ` (${message})` : ''}`);
      if (size !== undefined) out.line(`compute size: ${size}`);
      if (tags !== undefined && tags.length > 0) out.line(`tags: ${tagText(tags)}`);
      if (size !== undefined) for (const line of liveSettingLines(status.endpoint_status)) out.line(line);
      const rows = (versions.endpoint_versions ?? []).map((v) => [
        v.endpoint_version_name,
        short(v.state),
        cell(v.message),
        cell((v.scoring_uris ?? []).map((uri) => (uri.startsWith('/') ? client.url(uri) : uri)).join(' ')),
      ]);
      if (rows.length > 0) out.line(table(['VERSION', 'STATE', 'MESSAGE', 'SCORING URIS'], rows));
    });

  serving
    .command('list')
    .description('list serving endpoints')
    .action(async (_options: object, command: Command) => {
      const { client, out } = contextOf(command);
      const answer = await client.get<{ endpoints?: EndpointStatusJson[] }>(`${SERVING}list`);
      if (out.json) return out.printJson(answer);
      const endpoints = answer.endpoints ?? [];
      if (endpoints.length === 0) return out.line('No serving endpoints.');
      out.line(
        table(
          ['MODEL', 'STATE', 'MESSAGE'],
          endpoints.map((e) => [e.registered_model_name, short(e.state), cell(e.message)]),
        ),
      );
    });

  serving
    .command('events')
    .description("show a model's serving events, newest first")
    .argument('<name>', 'registered model name')
    .option('--version <version>', "only this version's events", versionNumber)
    .option('--limit <n>', 'at most this many events', positiveInt)
    .action(async (name: string, options: { version?: string; limit?: number }, command: Command) => {
      const { client, out } = contextOf(command);
      const answer = await client.get<{ events?: ServingEventJson[] }>(`${SERVING}get-event-history`, {
        registered_model_name: name,
        endpoint_version_name: options.version,
        max_results: options.limit,
      });
      let events = answer.events ?? [];
      // The server filters too; this keeps the output right for servers that ignore the parameters.
      if (options.version !== undefined) events = events.filter((e) => e.endpoint_version_name === options.version);
      if (options.limit !== undefined) events = events.slice(0, options.limit);
      if (out.json) return out.printJson(events.length > 0 ? { events } : {});
      if (events.length === 0) return out.line('No events.');
      out.line(
        table(
          ['TIME', 'EVENT', 'VERSION', 'MESSAGE'],
          events.map((e) => [time(e.timestamp), e.event_type, cell(e.endpoint_version_name), cell(e.message)]),
        ),
      );
    });

  serving
    .command('logs')
    .description("print a served version's logs")
    .argument('<name>', 'registered model name')
    .argument('<version>', 'version number', versionNumber)
    .option('--lines <n>', 'at most this many of the most recent lines (server default 200)', positiveInt)
    .action(async (name: string, version: string, options: { lines?: number }, command: Command) => {
      const { client, out } = contextOf(command);
      const answer = await client.get<{ logs?: string }>(`${SERVING}get-version-logs`, {
        registered_model_name: name,
        endpoint_version_name: version,
        max_lines: options.lines,
      });
      if (out.json) return out.printJson(answer);
      const logs = answer.logs ?? '';
      if (logs !== '') process.stdout.write(logs.endsWith('\n') ? logs : `${logs}\n`);
    });

  serving
    .command('config')
    .description(
      "change an endpoint's compute size and tags (a new task rolls in), or its batching and workers (the running task applies them)",
    )
    .argument('<name>', 'registered model name')
    .addOption(new Option('--size <size>', 'compute size').choices(SIZES))
    .option('--tag <key=value>', 'set a tag (repeatable)', collectTag)
    .option('--untag <key>', 'delete a tag (repeatable)', collect)
    .addOption(
      new Option(
        '--batching <on|off|default>',
        "coalesce concurrent requests to a version (default: the host's)",
      ).choices(Object.keys(BATCHING)),
    )
    .option('--max-batch-rows <n|default>', 'most rows in one coalesced call (1-10000)', wholeOr('default'))
    .option('--max-wait-ms <n|default>', 'how long a request waits for others to join (0-100 ms)', wholeOr('default'))
    .option('--workers <n|auto>', "worker processes per version (1-16); auto: from the task's vCPUs", wholeOr('auto'))
    .action(
      async (
        name: string,
        options: {
          size?: string;
          tag?: Tag[];
          untag?: string[];
          batching?: keyof typeof BATCHING;
          maxBatchRows?: number | string;
          maxWaitMs?: number | string;
          workers?: number | string;
        },
        command: Command,
      ) => {
        const batching = {
          enabled: options.batching === undefined ? undefined : BATCHING[options.batching],
          max_batch_rows: sent(options.maxBatchRows),
          max_wait_ms: sent(options.maxWaitMs),
        };
        const batchingGiven = Object.values(batching).some((v) => v !== undefined);
        if (
          options.size === undefined &&
          options.tag === undefined &&
          options.untag === undefined &&
          !batchingGiven &&
          options.workers === undefined
        ) {
          usageError(
            command,
            'nothing to change: give --size, --tag, --untag, --batching, --max-batch-rows, --max-wait-ms or --workers',
          );
        }
        const { client, out } = contextOf(command);
        const answer = await client.post(`${SERVING}update-cluster-config`, {
          registered_model_name: name,
          compute_size: options.size,
          tags_to_set: options.tag,
          tags_to_delete: options.untag,
          batching: batchingGiven ? batching : undefined,
          workers_per_version: sent(options.workers),
        });
        if (out.json) return out.printJson(answer);
        out.line(`Updated the serving configuration of ${name}.`);
      },
    );
}
