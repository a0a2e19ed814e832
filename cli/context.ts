/**
 * What every command shares: the global options turned into a client and an output, option
 * value parsers, polling, and the error for a command that ran but did not succeed.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { Client } from './client';
import { createOutput, type Output } from './output';

/** The global options (`--url`, `--token`, `--json`). */
export interface GlobalOptions {
  readonly url: string;
  readonly token?: string;
  readonly json?: boolean;
}

export interface Context {
  readonly client: Client;
  readonly out: Output;
}

/** A command that ran and failed (exit 1), with the message to print. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** The client and output for the command being run, from its own and its parents' options. */
export function contextOf(command: Command): Context {
  const options = command.optsWithGlobals<GlobalOptions>();
  return {
    client: new Client({ url: options.url, token: options.token }),
    out: createOutput(options.json === true),
  };
}

/** Reports a usage error (exit 2) from inside an action, as commander reports its own. */
export function usageError(command: Command, message: string): never {
  command.error(`error: ${message}`, { exitCode: 2, code: 'mlserve.usage' });
}

export interface Tag {
  readonly key: string;
  readonly value: string;
}

/** Parses repeated `--tag key=value` options into a list. */
export function collectTag(text: string, previous: Tag[] = []): Tag[] {
  const at = text.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`expected key=value, got '${text}'.`);
  return [...previous, { key: text.slice(0, at), value: text.slice(at + 1) }];
}

/** Parses repeated string options into a list. */
export function collect(text: string, previous: string[] = []): string[] {
  return [...previous, text];
}

/** Parses a whole number ≥ 1. */
export function positiveInt(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`expected a whole number of at least 1, got '${text}'.`);
  }
  return n;
}

/** Parses a version number (1, 2, …) as the registry's protocol carries it: a string. */
export function versionNumber(text: string): string {
  return String(positiveInt(text));
}

/** Milliseconds between two polls; MLSERVE_POLL_INTERVAL_MS overrides. */
export function pollInterval(fallbackMs: number): number {
  const n = Number(process.env.MLSERVE_POLL_INTERVAL_MS);
  return Number.isFinite(n) && n > 0 ? n : fallbackMs;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Seconds since `start`, as `12s`. */
export const elapsed = (start: number) => `${Math.round((Date.now() - start) / 1000)}s`;
