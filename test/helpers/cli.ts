/** The `mlserve` command line as a user runs it: `node cli/bin.js …` as a child process. */
import { type ChildProcess, spawn } from 'node:child_process';
import { REPO_ROOT } from './paths';

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `node cli/bin.js <args>` from the repository root with `env` over this process's
 * environment (an undefined value removes a variable), `input` on stdin, killed after
 * `timeoutMs`. `onStart` sees the child (for tests that stop every command they started).
 */
export function runCli(
  args: readonly string[],
  options: {
    readonly env?: Record<string, string | undefined>;
    readonly input?: string;
    readonly timeoutMs?: number;
    readonly onStart?: (child: ChildProcess) => void;
  } = {},
): Promise<CliRun> {
  const env = Object.fromEntries(
    Object.entries({ ...process.env, ...options.env }).filter((e): e is [string, string] => e[1] !== undefined),
  );
  const child = spawn(process.execPath, ['cli/bin.js', ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  options.onStart?.(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  if (options.input !== undefined) child.stdin?.end(options.input);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mlserve ${args.join(' ')} did not finish:\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      // 'exit' may come before the pipes are drained.
      setImmediate(() => resolve({ code, stdout, stderr }));
    });
  });
}
