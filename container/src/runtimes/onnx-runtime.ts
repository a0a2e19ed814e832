/**
 * The native ONNX runtime: serves a version's `onnx` flavor in-process with onnxruntime-node,
 * following MLflow's ONNX pyfunc wrapper (`mlflow.onnx._OnnxModelWrapper.predict`).
 */
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { InferenceSession, type Tensor } from 'onnxruntime-node';
import { PredictionError, RuntimeUnavailableError } from '../errors';
import type { Json, ScoringInput } from '../scoring/input';
import type { JsonText } from '../scoring/json-text';
import { list, outputsText, recordsText, tensorFromJson, type ValueInfo, valueInfo } from './onnx-tensors';
import type { LoadSpec, ModelRuntime, Prediction } from './runtime';

const DEFAULT_MODEL_FILE = 'model.onnx';

/** MLflow's `graph_optimization_level` numbers (onnxruntime.GraphOptimizationLevel) by name. */
const OPTIMIZATION_LEVELS: Record<number, 'disabled' | 'basic' | 'extended' | 'all'> = {
  0: 'disabled',
  1: 'basic',
  2: 'extended',
  99: 'all',
};

/**
 * Serves one version's `onnx` flavor. Requests map to the session's inputs as MLflow's wrapper
 * maps them: a table feeds its single input as a [rows, columns] tensor (or each input from the
 * column of that name) and is answered with one record per row; a tensor or a dict of named
 * tensors is answered with a dict of output name -> nested list. Outputs that are not tensors
 * (sequences, maps) are left out; onnxruntime-node cannot return them.
 */
export class OnnxRuntime implements ModelRuntime {
  readonly flavor = 'onnx';
  /** Measured: a 15 MiB numeric body peaks at about 19 times its size (decoded rows, tensors, answer). */
  readonly memoryPerBodyByte = 20;
  private session: InferenceSession | undefined;
  private loading: Promise<void> | undefined;
  private inputs: readonly ValueInfo[] = [];
  private outputs: readonly ValueInfo[] = [];
  /** The names of `outputs`: what each run fetches. */
  private outputNames: string[] = [];
  private readonly runs = new Set<Promise<unknown>>();
  /** Column names of a column-based input signature, in signature order. */
  private readonly signatureColumns: readonly string[] | undefined;

  constructor(private readonly spec: LoadSpec) {
    this.signatureColumns = columnSignature(spec.artifact.signature?.inputs);
  }

  load(): Promise<void> {
    if (this.session) return Promise.resolve();
    this.loading ??= this.open().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  async unload(): Promise<void> {
    if (this.loading) await this.loading.catch(() => undefined);
    const session = this.session;
    if (!session) return;
    this.session = undefined;
    await Promise.allSettled([...this.runs]);
    await session.release();
  }

  ready(): boolean {
    return this.session !== undefined;
  }

  /**
   * One call at a time: onnxruntime-node runs a session on the event loop itself (its `run` only
   * defers the call with setImmediate), so a second call in flight would only split what could be
   * one batch. Measured with `npm run bench` (1-row requests, 16 connections): batches of 6 rows
   * instead of 3.6, and 15 % more requests a second, than with two.
   */
  concurrency(): number {
    return 1;
  }

  pids(): number[] {
    return [];
  }

  async predict(input: ScoringInput, _params?: { readonly [key: string]: Json }): Promise<Prediction> {
    const session = this.session;
    if (!session) {
      throw new RuntimeUnavailableError(`ONNX model ${this.spec.modelName} v${this.spec.version} is not loaded`);
    }
    if (input.kind === 'dataframe') return this.predictTable(session, input.rows, input.columns);
    if (input.kind === 'tensor') {
      const only = this.singleInput();
      const outputs = await this.runTensors(session, { [only.name]: tensorFromJson(only, input.data as Json[]) });
      return textPrediction(outputsText(outputs));
    }
    const names = Object.keys(input.data);
    const missing = this.inputs.filter((i) => !names.includes(i.name)).map((i) => i.name);
    if (missing.length > 0 && this.inputs.length === 1 && this.signatureColumns?.every((c) => names.includes(c))) {
      const table = columnsToRows(input.data);
      return this.predictTable(session, table.rows, table.columns);
    }
    if (missing.length > 0) {
      throw new PredictionError(
        'INVALID_PARAMETER_VALUE',
        `Model is missing inputs ${list(missing)}: the request names ${list(names)}; the model's inputs are ${list(this.inputs.map((i) => i.name))}`,
      );
    }
    const unknown = names.filter((n) => !this.inputs.some((i) => i.name === n));
    if (unknown.length > 0) {
      throw new PredictionError(
        'INVALID_PARAMETER_VALUE',
        `Model has no inputs named ${list(unknown)}; its inputs are ${list(this.inputs.map((i) => i.name))}`,
      );
    }
    const feeds: Record<string, Tensor> = {};
    for (const info of this.inputs) feeds[info.name] = tensorFromJson(info, input.data[info.name] as Json);
    return textPrediction(outputsText(await this.runTensors(session, feeds)));
  }

  private async open(): Promise<void> {
    const file = await this.modelFile();
    const relative = path.relative(this.spec.modelDir, file);
    let session: InferenceSession;
    try {
      session = await InferenceSession.create(file, this.sessionOptions());
    } catch (error) {
      throw new Error(`cannot load ONNX model ${relative}: ${oneLine(error)}`);
    }
    try {
      this.inputs = session.inputMetadata.map((m) => valueInfo(m, 'input'));
      this.outputs = session.outputMetadata.flatMap((m) => (m.isTensor ? [valueInfo(m, 'output')] : []));
      this.outputNames = this.outputs.map((o) => o.name);
      if (this.inputs.length === 0) throw new Error('the model declares no inputs');
      if (this.outputs.length === 0) throw new Error('the model has no tensor outputs');
    } catch (error) {
      await session.release();
      throw new Error(`cannot serve ONNX model ${relative}: ${(error as Error).message}`);
    }
    this.session = session;
  }

  /** The onnx flavor's `data` file, resolved inside the model directory. */
  private async modelFile(): Promise<string> {
    const flavor = asRecord(this.spec.artifact.flavors.onnx);
    const data = flavor?.data ?? DEFAULT_MODEL_FILE;
    if (typeof data !== 'string' || data.length === 0) {
      throw new Error(`onnx flavor 'data' must be a relative file path, got ${JSON.stringify(data)}`);
    }
    const dir = await realpath(this.spec.modelDir).catch(() => {
      throw new Error(`model directory ${this.spec.modelDir} does not exist`);
    });
    const outside = (p: string) => {
      const rel = path.relative(dir, p);
      return rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);
    };
    if (path.isAbsolute(data) || outside(path.resolve(dir, data))) {
      throw new Error(`onnx flavor 'data' path ${data} leaves the model directory`);
    }
    const file = await realpath(path.resolve(dir, data)).catch(() => {
      throw new Error(`ONNX model file ${data} (onnx flavor 'data') not found in ${this.spec.modelDir}`);
    });
    if (outside(file)) throw new Error(`ONNX model file ${data} links outside the model directory`);
    if (!(await stat(file)).isFile()) throw new Error(`ONNX model file ${data} is not a file`);
    return file;
  }

  /** CPU session options, with MLflow's `onnx_session_options` from the flavor where set. */
  private sessionOptions(): InferenceSession.SessionOptions {
    const given = asRecord(asRecord(this.spec.artifact.flavors.onnx)?.onnx_session_options) ?? {};
    const options: { -readonly [K in keyof InferenceSession.SessionOptions]: InferenceSession.SessionOptions[K] } = {
      executionProviders: ['cpu'],
    };
    const threads = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v > 0;
    if (threads(given.intra_op_num_threads)) options.intraOpNumThreads = given.intra_op_num_threads as number;
    if (threads(given.inter_op_num_threads)) options.interOpNumThreads = given.inter_op_num_threads as number;
    const mode = typeof given.execution_mode === 'string' ? given.execution_mode.toLowerCase() : undefined;
    if (mode === 'sequential' || mode === 'parallel') options.executionMode = mode;
    const level = typeof given.graph_optimization_level === 'number' ? given.graph_optimization_level : undefined;
    if (level !== undefined && OPTIMIZATION_LEVELS[level]) options.graphOptimizationLevel = OPTIMIZATION_LEVELS[level];
    return options;
  }

  private singleInput(): ValueInfo {
    const only = this.inputs[0];
    if (!only || this.inputs.length > 1) {
      throw new PredictionError(
        'INVALID_PARAMETER_VALUE',
        `Unable to map a single tensor to the model's inputs: this model requires ${this.inputs.length} inputs. ` +
          `Pass a dict of named tensors or a table with the columns ${list(this.inputs.map((i) => i.name))}`,
      );
    }
    return only;
  }

  /** Runs a table through the model and answers one record per row. */
  private async predictTable(
    session: InferenceSession,
    rows: readonly (readonly Json[])[],
    given: readonly string[] | undefined,
  ): Promise<Prediction> {
    const width = given?.length ?? rows[0]?.length ?? 0;
    const columns = given ?? Array.from({ length: width }, (_, i) => String(i));
    rows.forEach((row, i) => {
      if (row.length !== width) {
        throw new PredictionError('BAD_REQUEST', `row ${i} has ${row.length} values; the table has ${width} columns`);
      }
    });
    if (rows.length === 0) return { predictions: [] };
    const feeds: Record<string, Tensor> = {};
    if (this.inputs.length === 1) {
      const only = this.singleInput();
      const order =
        given && this.signatureColumns ? pickColumns(columns, this.signatureColumns) : columns.map((_, i) => i);
      const [first] = order;
      feeds[only.name] =
        order.length === 1 && first !== undefined && rows.some((row) => Array.isArray(row[first]))
          ? tensorFromJson(only, columnOf(rows, first), (r) => `row ${r}, column '${columns[first]}'`)
          : tensorFromJson(
              only,
              // Columns already in the model's order (the usual case) are fed as they came.
              order.length === width && order.every((c, i) => c === i)
                ? (rows as Json[][])
                : rows.map((row) => order.map((i) => row[i] ?? null)),
              (r, c) => `row ${r}, column '${columns[order[c] ?? 0]}'`,
            );
    } else {
      const indexes = pickColumns(
        columns,
        this.inputs.map((i) => i.name),
      );
      this.inputs.forEach((info, n) => {
        const index = indexes[n] ?? 0;
        feeds[info.name] = tensorFromJson(info, columnOf(rows, index), (r) => `row ${r}, column '${info.name}'`);
      });
    }
    const outputs = await this.runTensors(session, feeds);
    return textPrediction(recordsText(outputs, rows.length));
  }

  /** Runs the session: its tensor outputs by name, in the model's order. */
  private async runTensors(session: InferenceSession, feeds: Record<string, Tensor>): Promise<[string, Tensor][]> {
    const names = this.outputNames;
    const running = session.run(feeds, names);
    this.runs.add(running);
    let results: InferenceSession.OnnxValueMapType;
    try {
      results = await running;
    } catch (error) {
      throw new PredictionError('BAD_REQUEST', `The model could not be evaluated on this input: ${oneLine(error)}`);
    } finally {
      this.runs.delete(running);
    }
    const outputs: [string, Tensor][] = [];
    for (const name of names) {
      const value = results[name];
      if (value) outputs.push([name, value as Tensor]);
    }
    return outputs;
  }
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
}

/** The column names of a column-based MLflow input signature; undefined for tensor-based or none. */
function columnSignature(inputs: string | undefined): string[] | undefined {
  if (!inputs) return undefined;
  try {
    const specs: unknown = JSON.parse(inputs);
    if (!Array.isArray(specs) || specs.length === 0) return undefined;
    const names = specs.map((s) => {
      const spec = asRecord(s);
      return spec && spec.type !== 'tensor' && typeof spec.name === 'string' ? spec.name : undefined;
    });
    return names.every((n) => n !== undefined) ? (names as string[]) : undefined;
  } catch {
    return undefined;
  }
}

/** The indexes of `names` among the request's `columns`; refuses names it does not have. */
function pickColumns(columns: readonly string[], names: readonly string[]): number[] {
  const missing = names.filter((n) => !columns.includes(n));
  if (missing.length > 0) {
    throw new PredictionError(
      'INVALID_PARAMETER_VALUE',
      `Model is missing inputs ${list(missing)}; the request has columns ${list(columns)}`,
    );
  }
  return names.map((n) => columns.indexOf(n));
}

function columnOf(rows: readonly (readonly Json[])[], index: number): Json[] {
  return rows.map((row) => row[index] ?? null);
}

/** A columnar dict (`{col: [values]}`, or scalars for one row) as rows and columns. */
function columnsToRows(data: { readonly [name: string]: Json }): { rows: Json[][]; columns: string[] } {
  const columns = Object.keys(data);
  const values = columns.map((c) => data[c] ?? null);
  const allScalars = values.every((v) => !Array.isArray(v));
  const length = allScalars ? 1 : Math.max(...values.map((v) => (Array.isArray(v) ? v.length : 1)));
  values.forEach((v, i) => {
    if (!allScalars && (!Array.isArray(v) || v.length !== length)) {
      throw new PredictionError('BAD_REQUEST', `column '${columns[i]}' does not have ${length} values like the others`);
    }
  });
  const rows = Array.from({ length }, (_, r) => values.map((v) => (Array.isArray(v) ? (v[r] ?? null) : v)));
  return { rows, columns };
}

/** A prediction answered as text; its value is read from the text only when asked for. */
function textPrediction(text: JsonText): Prediction {
  return {
    text,
    get predictions() {
      return text.parse();
    },
  };
}
