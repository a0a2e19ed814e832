/**
 * Serves a version's `python_function` flavor through a Python worker process
 * (container/python/mlserve_worker.py) spoken to in frames over its stdin/stdout. A worker
 * that dies is restarted with exponential backoff; requests in flight fail retry-safe.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelPredictionError, PredictionError, RuntimeUnavailableError } from '../errors';
import type { Json, ScoringInput } from '../scoring/input';
import type { LoadSpec, ModelRuntime, Prediction } from './runtime';
import {
  encodeFrame,
  FrameDecoder,
  fixedWidthStringBytes,
  MAX_FIXED_WIDTH_BYTES,
  type PredictReply,
  type ReadyEvent,
  readWorkerMessage,
  type WorkerMessage,
} from './worker-protocol';

export type WorkerEventType = 'WORKER_STARTED' | 'WORKER_EXITED' | 'WORKER_RESTARTED' | 'WORKER_FAILED';

/** Something that happened to the worker process, for the host's events and status. */
export interface WorkerEvent {
  readonly type: WorkerEventType;
  readonly message: string;
  readonly pid?: number;
}

export interface PyfuncRuntimeOptions {
  /** Interpreter that runs the worker (from pythonFor); default `/usr/bin/python3`. */
  readonly python?: string;
  /** `auto`: MLflow when the interpreter has it, else the sklearn flavor; `sklearn`: always the sklearn flavor. */
  readonly loader?: 'auto' | 'sklearn';
  /** Path of mlserve_worker.py; default: container/python/mlserve_worker.py beside this source tree. */
  readonly workerScript?: string;
  readonly onEvent?: (event: WorkerEvent) => void;
  /** Restart delays after a crash: doubling from `initial` up to `max` (default 200 ms to 10 s). */
  readonly restartBackoffMs?: { readonly initial: number; readonly max: number };
  /** Receives the worker's stderr, line by line. */
  readonly logger?: (line: string) => void;
  /** Extra environment variables for the worker process. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Peak memory of a request to a Python version per byte of its body. Measured: a 15 MiB numeric
 * body peaks at about 33 times its size — about 10 in the host (decoded rows, the worker frame)
 * and 23 in the worker (Python lists, the DataFrame).
 */
export const PYTHON_MEMORY_PER_BODY_BYTE = 36;

export const DEFAULT_WORKER_SCRIPT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../python/mlserve_worker.py',
);

const DEFAULT_PYTHON = '/usr/bin/python3';
const DEFAULT_BACKOFF = { initial: 200, max: 10_000 };
/** A worker that stayed up this long resets the restart backoff. */
const STABLE_AFTER_MS = 30_000;
/** How long a worker may take to exit after SIGTERM before it is killed. */
const STOP_GRACE_MS = 5_000;
/** Lines of stderr kept to explain a worker that dies while loading. */
const STDERR_TAIL_LINES = 20;
/** Longest stderr line passed on whole. */
const MAX_LOG_LINE = 16 * 1024;

interface Pending {
  resolve(prediction: Prediction): void;
  reject(error: Error): void;
}

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One worker process: its pipes, frames and exit. */
class WorkerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly startedAt = Date.now();
  /** Resolves once the process has exited and its stdout has been read to the end. */
  readonly exited: Promise<Exit>;
  exit?: Exit;
  onMessage: (message: WorkerMessage) => void = () => {};
  private readonly decoder = new FrameDecoder();
  private readonly stderrTail: string[] = [];
  private stderrPartial = '';
  /** Why the process could not be started at all (the interpreter is missing, not executable, ...). */
  spawnError?: Error;
  /** Why the worker was killed for writing something that is not a frame. */
  private protocolError?: string;

  constructor(python: string, script: string, env: NodeJS.ProcessEnv, logger: (line: string) => void) {
    this.child = spawn(python, ['-u', script], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const logLine = (line: string) => {
      const trimmed = line.length > MAX_LOG_LINE ? `${line.slice(0, MAX_LOG_LINE)}…` : line;
      this.stderrTail.push(trimmed);
      if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
      logger(trimmed);
    };
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (text: string) => {
      const lines = (this.stderrPartial + text).split('\n');
      this.stderrPartial = lines.pop() ?? '';
      for (const line of lines) logLine(line.replace(/\r$/, ''));
    });
    this.child.stderr.on('end', () => {
      if (this.stderrPartial) logLine(this.stderrPartial);
      this.stderrPartial = '';
    });
    this.child.stdin.on('error', () => {
      // EPIPE when the worker died; its exit is handled below.
    });
    this.child.stdout.on('data', (chunk: Buffer) => {
      let frames: unknown[];
      try {
        frames = this.decoder.push(chunk);
      } catch (error) {
        this.protocolError = (error as Error).message;
        logger(`mlserve: unreadable output from the worker, stopping it: ${this.protocolError}`);
        this.child.kill('SIGKILL');
        return;
      }
      for (const frame of frames) {
        let message: WorkerMessage;
        try {
          message = readWorkerMessage(frame);
        } catch (error) {
          logger(`mlserve: ${(error as Error).message}`);
          continue;
        }
        this.onMessage(message);
      }
    });
    this.exited = new Promise<Exit>((resolve) => {
      let exit: Exit | undefined;
      let stdoutDone = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        if (!exit) return;
        if (timer) clearTimeout(timer);
        this.exit = exit;
        resolve(exit);
      };
      this.child.stdout.once('close', () => {
        stdoutDone = true;
        finish();
      });
      this.child.once('error', (error) => {
        this.spawnError = error;
        if (this.child.pid === undefined) {
          exit = { code: null, signal: null };
          finish();
        }
      });
      this.child.once('exit', (code, signal) => {
        exit = { code, signal };
        if (stdoutDone) finish();
        else timer = setTimeout(finish, 1000);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.child.pid !== undefined && this.exit === undefined && this.child.exitCode === null;
  }

  send(frame: Buffer): void {
    this.child.stdin.write(frame);
  }

  /** How the process ended, in words ("signal SIGKILL", "exit code 1"). */
  describeExit(): string {
    if (this.spawnError && this.child.pid === undefined) return `could not start: ${this.spawnError.message}`;
    const exit = this.exit;
    if (!exit) return 'running';
    const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
    return this.protocolError ? `${how}, stopped for unreadable output: ${this.protocolError}` : how;
  }

  /** The last stderr lines, for a failure message. */
  stderrSummary(): string {
    const lines = this.stderrTail.filter((l) => l.trim() !== '');
    return lines.length > 0 ? `; its last output:\n${lines.join('\n')}` : '';
  }

  /** Stops the process: SIGTERM, then SIGKILL after the grace period; resolves when it has exited. */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    if (this.exit || this.child.pid === undefined) {
      await this.exited;
      return;
    }
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Resolves with the ready event; rejects with the worker's own message or how it died. */
  waitReady(): Promise<ReadyEvent> {
    return new Promise<ReadyEvent>((resolve, reject) => {
      let settled = false;
      this.onMessage = (message) => {
        if (settled) return;
        if ('event' in message && message.event === 'ready') {
          settled = true;
          resolve(message);
        } else if ('event' in message && message.event === 'failed') {
          settled = true;
          reject(new Error(message.message));
        }
      };
      void this.exited.then(() => {
        if (settled) return;
        settled = true;
        reject(new Error(`the worker ended before it was ready (${this.describeExit()})${this.stderrSummary()}`));
      });
    });
  }
}

/** A `python_function` version served by a Python worker process. */
export class PyfuncRuntime implements ModelRuntime {
  readonly flavor = 'python_function';
  readonly memoryPerBodyByte = PYTHON_MEMORY_PER_BODY_BYTE;
  private readonly python: string;
  private readonly script: string;
  private readonly backoff: { readonly initial: number; readonly max: number };
  private readonly logger: (line: string) => void;
  private worker?: WorkerProcess;
  private isReady = false;
  private stopped = false;
  private restarting = false;
  private restartTimer?: NodeJS.Timeout;
  private consecutiveRestarts = 0;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private loader?: ReadyEvent['loader'];

  constructor(
    private readonly spec: LoadSpec,
    private readonly options: PyfuncRuntimeOptions = {},
  ) {
    this.python = options.python ?? DEFAULT_PYTHON;
    this.script = options.workerScript ?? DEFAULT_WORKER_SCRIPT;
    this.backoff = options.restartBackoffMs ?? DEFAULT_BACKOFF;
    this.logger = options.logger ?? (() => {});
  }

  /** Which loader the worker used (`mlflow` or `sklearn`), once it is loaded. */
  get loadedWith(): ReadyEvent['loader'] | undefined {
    return this.loader;
  }

  async load(): Promise<void> {
    if (this.isReady) return;
    this.stopped = false;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.restarting = false;
    const worker = await this.start();
    this.attach(worker);
    this.emit('WORKER_STARTED', `${this.describe()} ready (loader ${this.loader}, pid ${worker.pid})`, worker.pid);
  }

  predict(input: ScoringInput, params?: { readonly [key: string]: Json }): Promise<Prediction> {
    const worker = this.worker;
    if (!this.isReady || !worker) {
      const why = this.restarting ? 'is restarting' : 'is not running';
      return Promise.reject(new RuntimeUnavailableError(`${this.describe()} ${why}; retry the request`));
    }
    const fixedWidth = fixedWidthStringBytes(input);
    if (fixedWidth > MAX_FIXED_WIDTH_BYTES) {
      return Promise.reject(
        new PredictionError(
          'BAD_REQUEST',
          `Invalid input. A tensor input holding strings becomes a NumPy fixed-width string array, each value as wide as ` +
            `the longest string: this one would take ${Math.ceil(fixedWidth / 1024 / 1024)} MiB, over the limit of ` +
            `${MAX_FIXED_WIDTH_BYTES / 1024 / 1024} MiB. Send long strings as a table (dataframe_split or ` +
            `dataframe_records), where they stay Python objects.`,
        ),
      );
    }
    const id = ++this.nextId;
    let frame: Buffer;
    try {
      frame = encodeFrame({ id, op: 'predict', input, params: params ?? null });
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<Prediction>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.send(frame);
    });
  }

  async unload(): Promise<void> {
    this.stopped = true;
    this.isReady = false;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.failPending(new RuntimeUnavailableError(`${this.describe()} was unloaded; retry the request`));
    const worker = this.worker;
    this.worker = undefined;
    await worker?.stop();
  }

  ready(): boolean {
    return this.isReady;
  }

  /** One worker process answers one call at a time. */
  concurrency(): number {
    return this.isReady ? 1 : 0;
  }

  /** Calls sent to the worker and not yet answered. */
  get outstanding(): number {
    return this.pending.size;
  }

  pids(): number[] {
    const pid = this.worker?.alive ? this.worker.pid : undefined;
    return pid === undefined ? [] : [pid];
  }

  private describe(): string {
    return `worker for ${this.spec.modelName} version ${this.spec.version}`;
  }

  /** Spawns a worker and waits for it to load; the worker is this.worker meanwhile, so unload() can stop it. */
  private async start(): Promise<WorkerProcess> {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...this.options.env,
      MLSERVE_MODEL_DIR: this.spec.modelDir,
      MLSERVE_WORKER_LOADER: this.options.loader ?? 'auto',
      PYTHONUNBUFFERED: '1',
    };
    const loadSpec = JSON.stringify({
      flavors: this.spec.artifact.flavors,
      signature: this.spec.artifact.signature
        ? {
            inputs: this.spec.artifact.signature.inputs ?? null,
            outputs: this.spec.artifact.signature.outputs ?? null,
            params: this.spec.artifact.signature.params ?? null,
          }
        : null,
      mlflow_version: this.spec.artifact.mlflowVersion ?? null,
    });
    // Linux caps one environment string at 128 KiB; a bigger spec is read from MLmodel by the worker.
    if (Buffer.byteLength(loadSpec) < 120 * 1024) env.MLSERVE_LOAD_SPEC = loadSpec;
    else delete env.MLSERVE_LOAD_SPEC;
    const worker = new WorkerProcess(this.python, this.script, env, this.logger);
    this.worker = worker;
    try {
      const ready = await worker.waitReady();
      if (this.stopped || this.worker !== worker) throw new Error(`${this.describe()} was unloaded while loading`);
      this.loader = ready.loader;
      return worker;
    } catch (error) {
      if (this.worker === worker) this.worker = undefined;
      await worker.stop();
      const reason = error instanceof Error ? error.message : String(error);
      if (worker.pid === undefined && worker.spawnError) {
        throw new Error(`cannot start the Python worker with ${this.python}: ${worker.spawnError.message}`);
      }
      throw new Error(reason);
    }
  }

  /** Makes a loaded worker the one requests go to, and watches it for an unexpected exit. */
  private attach(worker: WorkerProcess): void {
    this.worker = worker;
    this.isReady = true;
    worker.onMessage = (message) => {
      if ('event' in message) return;
      this.settle(message);
    };
    void worker.exited.then(() => this.onExit(worker));
  }

  private settle(reply: PredictReply): void {
    const pending = reply.id === null ? undefined : this.pending.get(reply.id);
    if (!pending || reply.id === null) {
      this.logger(`mlserve: reply for unknown request ${reply.id} from the worker`);
      return;
    }
    this.pending.delete(reply.id);
    if (reply.ok) {
      pending.resolve({ predictions: reply.predictions });
    } else if (reply.error_code === 'INTERNAL_ERROR') {
      pending.reject(new Error(reply.message));
    } else if (reply.stack_trace) {
      pending.reject(new ModelPredictionError(reply.error_code, reply.message, reply.stack_trace));
    } else {
      pending.reject(new PredictionError(reply.error_code, reply.message));
    }
  }

  private failPending(error: Error): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(error);
  }

  private onExit(worker: WorkerProcess): void {
    if (this.worker !== worker || this.stopped) return;
    this.worker = undefined;
    this.isReady = false;
    const message = `${this.describe()} exited (${worker.describeExit()}); retry the request`;
    this.failPending(new RuntimeUnavailableError(message));
    this.emit('WORKER_EXITED', message, worker.pid);
    if (Date.now() - worker.startedAt >= STABLE_AFTER_MS) this.consecutiveRestarts = 0;
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (this.stopped) return;
    this.restarting = true;
    const delay = Math.min(this.backoff.max, this.backoff.initial * 2 ** this.consecutiveRestarts);
    this.consecutiveRestarts++;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void this.restart();
    }, delay);
  }

  private async restart(): Promise<void> {
    if (this.stopped) return;
    try {
      const worker = await this.start();
      if (this.stopped) {
        await worker.stop();
        return;
      }
      this.restarting = false;
      this.attach(worker);
      this.emit('WORKER_RESTARTED', `${this.describe()} restarted (pid ${worker.pid})`, worker.pid);
    } catch (error) {
      if (this.stopped) return;
      this.emit('WORKER_FAILED', `${this.describe()} could not restart: ${(error as Error).message}`);
      this.scheduleRestart();
    }
  }

  private emit(type: WorkerEventType, message: string, pid?: number): void {
    try {
      this.options.onEvent?.(pid === undefined ? { type, message } : { type, message, pid });
    } catch (error) {
      this.logger(`mlserve: onEvent handler failed: ${(error as Error).message}`);
    }
  }
}
