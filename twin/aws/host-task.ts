/**
 * One serving task in the local twin: the model host program as a child process, its output
 * appended to a log file, its address read from its first log line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { heapLimitOption } from '../../container/src/settings';

export interface HostTaskOptions {
  readonly repoRoot: string;
  readonly logFile: string;
  readonly env: Readonly<Record<string, string>>;
  /** Called when the process exits without being asked to stop. */
  readonly onUnexpectedExit: (task: HostTask, reason: string) => void;
}

export class HostTask {
  private child?: ChildProcess;
  private log?: WriteStream;
  private stopping = false;
  url?: string;

  constructor(
    readonly id: string,
    readonly taskDefinitionArn: string,
    private readonly options: HostTaskOptions,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The process ended (exited, or killed by a signal). */
  get exited(): boolean {
    return !!this.child && (this.child.exitCode !== null || this.child.signalCode !== null);
  }

  /** Starts the host; resolves with its URL once it listens. */
  async start(timeoutMs = 60_000): Promise<string> {
    await mkdir(path.dirname(this.options.logFile), { recursive: true });
    this.log = createWriteStream(this.options.logFile, { flags: 'a' });
    const env: Record<string, string | undefined> = { ...process.env, ...this.options.env };
    // Fargate limits the task's memory and Node sizes its heap from that limit; a child process has no
    // such limit, so it is given the heap a task of its size would have.
    const memoryMiB = Number(env.MLSERVE_MEMORY_MIB);
    if (memoryMiB > 0) env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} ${heapLimitOption(memoryMiB)}`.trim();
    const child = spawn(path.join(this.options.repoRoot, 'node_modules/.bin/tsx'), ['container/src/main.ts'], {
      cwd: this.options.repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let buffered = '';
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`model host ${this.id} did not start within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onOutput = (chunk: Buffer) => {
        this.log?.write(chunk);
        if (this.url) return;
        buffered += chunk.toString();
        const m = /"message":"model host listening".*?"url":"(http:\/\/[^"]+)"/.exec(buffered);
        if (m) {
          this.url = m[1] as string;
          buffered = '';
          clearTimeout(timer);
          resolve(this.url);
        }
      };
      child.stdout?.on('data', onOutput);
      child.stderr?.on('data', onOutput);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        this.log?.end();
        const reason = signal ? `killed by ${signal}` : `exited with code ${code}`;
        if (!this.url) reject(new Error(`model host ${this.id} ${reason} before listening`));
        else if (!this.stopping) this.options.onUnexpectedExit(this, reason);
      });
    });
  }

  /** Polls /health until 200 or the deadline. */
  async healthy(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      // Gone (exited, or killed by a signal, when exitCode stays null) or being stopped: never healthy.
      if (this.stopping || !this.child || this.child.exitCode !== null || this.child.signalCode !== null) return false;
      const res = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      if (res?.status === 200) return true;
      await new Promise((r) => setTimeout(r, 200));
    }
    return false;
  }

  /** SIGTERM (the host drains), then SIGKILL after `graceMs`. */
  async stop(graceMs = 30_000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
