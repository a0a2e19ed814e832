/**
 * Which runtime serves a version: its `onnx` flavor natively in the host, else its
 * `python_function` flavor in a pool of Python workers, in the environment the version declares.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { HostSettings } from '../settings';
import { OnnxRuntime } from './onnx-runtime';
import { PyfuncPool } from './pyfunc-pool';
import type { WorkerEvent } from './pyfunc-worker';
import { pythonFor } from './python-env';
import type { LoadSpec, ModelRuntime } from './runtime';

export interface RuntimeChoice {
  readonly python: HostSettings['python'];
  /** How many Python workers the version gets. */
  readonly workers: number;
  /** The version's logger: the workers' stderr lines go to it. */
  readonly logger: Logger;
  /** A worker started, exited, restarted or could not restart. */
  readonly onWorkerEvent: (event: WorkerEvent) => void;
}

export async function createRuntime(spec: LoadSpec, choice: RuntimeChoice): Promise<ModelRuntime> {
  const flavors = spec.artifact.flavors;
  if ('onnx' in flavors) return new OnnxRuntime(spec);
  if (!('python_function' in flavors)) {
    throw new Error(`no servable flavor in [${Object.keys(flavors).join(', ')}]`);
  }
  const py = choice.python;
  const python = await pythonFor(spec.modelDir, {
    mode: py.mode,
    python: py.interpreter,
    cacheDir: py.envCache,
    uv: py.uv,
    allowDefaultsChannel: py.allowDefaultsChannel,
  });
  return new PyfuncPool(spec, choice.workers, {
    python,
    loader: py.loader,
    workerScript: py.workerScript,
    logger: (line) => choice.logger.info('worker', { line }),
    onEvent: choice.onWorkerEvent,
  });
}
