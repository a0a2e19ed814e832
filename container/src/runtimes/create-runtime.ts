/**
 * Which runtime serves a version: its `onnx` flavor natively in the host, else its
 * `python_function` flavor in a pool of Python workers, in the environment the version declares
 * (the loader setting chooses how the worker loads it). The host knows runtimes only through
 * this module and the ModelRuntime interface.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { HostSettings } from '../settings';
import { type EnvironmentStore, PROCESS_OWNER } from './env-archive';
import { OnnxRuntime } from './onnx-runtime';
import { PyfuncPool } from './pyfunc-pool';
import type { WorkerEvent } from './pyfunc-worker';
import { type EnvironmentEvent, pythonFor } from './python-env';
import type { LoadSpec, ModelRuntime } from './runtime';

export interface RuntimeChoice {
  readonly python: HostSettings['python'];
  /** How many Python workers the version gets. */
  readonly workers: number;
  /** The version's logger: its environment's notes and the workers' stderr lines go to it. */
  readonly logger: Logger;
  /** A worker started, exited, restarted or could not restart. */
  readonly onWorkerEvent: (event: WorkerEvent) => void;
  /** The version's environment was built or restored, or could not be (its ENV_* serving events). */
  readonly onEnvironmentEvent?: (event: EnvironmentEvent) => void;
  /** Where built environments are shared between tasks (MLSERVE_ENV_ARCHIVE); none: each builds its own. */
  readonly environments?: EnvironmentStore;
}

export async function createRuntime(spec: LoadSpec, choice: RuntimeChoice): Promise<ModelRuntime> {
  const flavors = spec.artifact.flavors;
  if ('onnx' in flavors) return new OnnxRuntime(spec);
  if (!('python_function' in flavors)) {
    throw new Error(`no servable flavor in [${Object.keys(flavors).join(', ')}]`);
  }
  const py = choice.python;
  const { python, notes } = await pythonFor(spec.modelDir, {
    mode: py.mode,
    python: py.interpreter,
    cacheDir: py.envCache,
    uv: py.uv,
    installer: py.installer,
    pythonDownloads: py.pythonDownloads,
    systemPackages: py.systemPackages,
    allowDefaultsChannel: py.allowDefaultsChannel,
    index: py.index,
    archive: choice.environments && {
      store: choice.environments,
      owner: PROCESS_OWNER,
      log: (message, fields) => choice.logger.info(message, fields),
    },
    onEnvironment: choice.onEnvironmentEvent,
  });
  for (const note of notes) choice.logger.info('environment', { note });
  return new PyfuncPool(spec, choice.workers, {
    python,
    loader: py.loader,
    workerScript: py.workerScript,
    logger: (line) => choice.logger.info('worker', { line }),
    onEvent: choice.onWorkerEvent,
  });
}

/** A version's pool of Python workers, which follows the model's worker setting live. */
export interface WorkerPool {
  readonly workerCount: number;
  resize(workers: number): Promise<void>;
}

/** The runtime's worker pool; undefined for a runtime without workers (ONNX). */
export function workerPoolOf(runtime: ModelRuntime | undefined): WorkerPool | undefined {
  return runtime instanceof PyfuncPool ? runtime : undefined;
}
