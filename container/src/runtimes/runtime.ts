/**
 * What serves one model version: loaded once, asked for predictions, unloaded. The Python
 * pyfunc worker and native ONNX implement it; the data plane knows nothing else about them.
 */
import type { ArtifactInfo } from '../../../core/registry/model';
import type { Json, ScoringInput } from '../scoring/input';
import type { JsonText } from '../scoring/json-text';

export interface LoadSpec {
  readonly modelName: string;
  readonly version: number;
  /** Local directory holding the version's MLflow model (MLmodel and its files). */
  readonly modelDir: string;
  /** What the registration check read from MLmodel. */
  readonly artifact: ArtifactInfo;
}

export interface Prediction {
  /** JSON-ready predictions: a list (one per row) or a dict of named outputs. */
  readonly predictions: Json;
  /** The same predictions as JSON text, when the runtime writes them as text (what is then sent). */
  readonly text?: JsonText;
}

export interface ModelRuntime {
  /** The flavor this runtime serves the version with (`python_function`, `onnx`). */
  readonly flavor: string;
  /**
   * Peak memory a request takes, in bytes per byte of its body (host and worker processes
   * together): what the host's memory admission reserves for it.
   */
  readonly memoryPerBodyByte: number;
  load(): Promise<void>;
  /** Predicts for one request; rejects with PredictionError or RuntimeUnavailableError (errors.ts). */
  predict(input: ScoringInput, params?: { readonly [key: string]: Json }): Promise<Prediction>;
  unload(): Promise<void>;
  ready(): boolean;
  /**
   * How many calls the runtime works on at once (a Python pool: its ready workers); the version's
   * queue keeps this many in flight and batches what waits behind them.
   */
  concurrency(): number;
  /** Process ids this runtime runs (for status and memory figures); empty when in-process. */
  pids(): number[];
}
