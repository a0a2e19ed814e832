/**
 * Running the commands that find interpreters and build environments: output kept to a tail for
 * error messages, and package index URLs and credentials masked in everything shown.
 */
import { spawn } from 'node:child_process';

/** How much of a failing command's output an error message carries. */
const OUTPUT_TAIL_BYTES = 2048;
/** Most of a command's standard output kept for its caller. */
const STDOUT_BYTES = 64 * 1024;
/** Longest a command may run before it is stopped. */
export const COMMAND_TIMEOUT_MS = 20 * 60 * 1000;

export interface CommandOptions {
  readonly cwd?: string;
  /** Variables added to the host's environment (index URLs go here, never on the command line). */
  readonly env?: Readonly<Record<string, string>>;
  /** Strings never shown in an error message (the index URL). */
  readonly secrets?: readonly string[];
  readonly timeoutMs?: number;
}

/**
 * `text` with each secret replaced by `<hidden>`, and the credentials of any URL
 * (`https://user:token@host`) by `***`.
 */
export function maskSecrets(text: string, secrets: readonly string[] = []): string {
  let masked = text;
  for (const secret of secrets) {
    if (secret) masked = masked.split(secret).join('<hidden>');
  }
  return masked.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, '$1***@');
}

/** Runs a command; resolves with its standard output, rejects with its exit status and the tail of its output. */
export function runCommand(command: string, args: readonly string[], options: CommandOptions = {}): Promise<string> {
  const mask = (text: string) => maskSecrets(text, options.secrets);
  const shown = mask([command, ...args].join(' '));
  return new Promise((resolve, reject) => {
    const output: Buffer[] = [];
    let size = 0;
    const stdout: Buffer[] = [];
    let stdoutSize = 0;
    const keep = (chunk: Buffer) => {
      output.push(chunk);
      size += chunk.length;
      while (size - (output[0]?.length ?? 0) >= OUTPUT_TAIL_BYTES) size -= output.shift()?.length ?? 0;
    };
    const tail = () => {
      const text = mask(Buffer.concat(output).toString('utf8'));
      return text.length > OUTPUT_TAIL_BYTES ? `…${text.slice(-OUTPUT_TAIL_BYTES)}` : text;
    };
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? COMMAND_TIMEOUT_MS,
    });
    child.stdout.on('data', (chunk: Buffer) => {
      keep(chunk);
      if (stdoutSize < STDOUT_BYTES) {
        stdout.push(chunk);
        stdoutSize += chunk.length;
      }
    });
    child.stderr.on('data', keep);
    child.once('error', (error) => {
      const out = tail().trim();
      reject(new Error(`\`${shown}\` could not run: ${mask(error.message)}${out ? `\n${out}` : ''}`));
    });
    child.once('close', (code, signal) => {
      if (code === 0) return resolve(Buffer.concat(stdout).toString('utf8'));
      const status = signal ? `was stopped by ${signal}` : `exited with code ${code}`;
      const out = tail().trim();
      reject(new Error(`\`${shown}\` ${status}${out ? `:\n${out}` : ''}`));
    });
  });
}
