/**
 * A version's input example as a request body MLflow 2.x's scoring server accepts, read from the
 * version's artifact: `serving_input_example.json` as MLflow (2.16 and later) wrote it, or else
 * `input_example.json` converted as its `saved_input_example_info` in `MLmodel` describes it —
 * a pandas DataFrame (split orient → `dataframe_split`, records → `dataframe_records`), a tensor
 * or list (`inputs`), a JSON object — with the example's `params`.
 */
import { parse as parseYaml } from 'yaml';
import { MlflowError, notFound } from '../shared/errors';
import { DEFAULT_MAX_JSON_DEPTH, jsonTooDeep } from '../shared/json-limits';
import { type ArtifactReader, ArtifactTooLarge } from './artifacts';
import type { ArtifactInfo } from './model';
import type { ResolvedSource } from './sources';

/** The largest example file the registry API reads and returns. */
export const MAX_INPUT_EXAMPLE_BYTES = 1024 * 1024;

/** A JSON request body for `/invocations`. */
export type ScoringRequestBody = { readonly [key: string]: unknown };

/** Example types MLflow saves that its scoring server takes no request for. */
const NOT_SERVABLE_TYPES = new Set(['sparse_matrix_csc', 'sparse_matrix_csr']);

/** Top-level keys of the unified LLM inputs MLflow's scoring server takes as they are (chat, completions, embeddings). */
const LLM_INPUT_KEYS = ['messages', 'prompt', 'input'];

/** Whether a version's recorded artifact has an input example a scoring request can carry. */
export function hasInputExample(artifact: ArtifactInfo | undefined): boolean {
  if (!artifact) return false;
  if (artifact.servingInputExamplePath !== undefined) return true;
  return artifact.inputExamplePath !== undefined && !NOT_SERVABLE_TYPES.has(artifact.inputExampleType ?? '');
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Which version an error is about, as messages name it. */
export interface VersionLabel {
  readonly name: string;
  readonly version: number;
}

const about = (v: VersionLabel) => `version ${v.version} of model '${v.name}'`;

function withoutExample(v: VersionLabel, why?: string): MlflowError {
  return notFound(
    why
      ? `Version ${v.version} of model '${v.name}' has no input example a scoring request can carry: ${why}.`
      : `Version ${v.version} of model '${v.name}' was logged without an input example.`,
  );
}

/** The artifact's file as JSON, within the size limit; undefined when it does not exist. */
async function readJson(
  reader: ArtifactReader,
  source: ResolvedSource,
  relativePath: string,
  v: VersionLabel,
): Promise<{ value: unknown } | undefined> {
  let bytes: Buffer | undefined;
  try {
    bytes = await reader.read(source, relativePath, { maxBytes: MAX_INPUT_EXAMPLE_BYTES });
  } catch (error) {
    if (error instanceof ArtifactTooLarge) {
      throw new MlflowError(
        'INVALID_STATE',
        `The input example of ${about(v)} (${relativePath}, ${error.bytes} bytes) is larger than the ` +
          `${MAX_INPUT_EXAMPLE_BYTES / 1024 / 1024} MiB this API returns; read it from the version's artifact (model-versions/get-download-uri).`,
      );
    }
    throw error;
  }
  if (bytes === undefined) return undefined;
  const problem = (why: string) =>
    new MlflowError('INVALID_STATE', `The input example of ${about(v)} (${relativePath}) ${why}.`);
  if (jsonTooDeep(bytes, DEFAULT_MAX_JSON_DEPTH)) throw problem(`nests deeper than ${DEFAULT_MAX_JSON_DEPTH} levels`);
  try {
    return { value: JSON.parse(bytes.toString('utf8')) };
  } catch (error) {
    throw problem(`is not valid JSON: ${(error as Error).message}`);
  }
}

/** `saved_input_example_info` of the artifact's MLmodel (already checked at registration). */
async function exampleInfo(reader: ArtifactReader, source: ResolvedSource): Promise<Record<string, unknown>> {
  const raw = await reader.read(source, 'MLmodel');
  if (!raw) return {};
  try {
    const doc = parseYaml(raw.toString('utf8')) as unknown;
    return isRecord(doc) && isRecord(doc.saved_input_example_info) ? doc.saved_input_example_info : {};
  } catch {
    return {};
  }
}

/**
 * Converts `input_example.json` (`data`) to a scoring request as MLflow's `_Example` would have
 * written `serving_input_example.json`, or says why no request can carry it.
 */
export function servingBodyFromExample(
  data: unknown,
  info: Readonly<Record<string, unknown>>,
): { body: ScoringRequestBody } | { unsupported: string } {
  let inputs = data;
  let params: unknown;
  // An example saved with params is {"inputs": <example>, "params": {…}}, and says so in its info.
  if ((info.params === true || info.params === 'true') && isRecord(data) && 'inputs' in data) {
    inputs = data.inputs;
    params = data.params;
  }
  const type = typeof info.type === 'string' ? info.type : 'dataframe';
  let body: Record<string, unknown>;
  if (type === 'dataframe') {
    const orient = typeof info.pandas_orient === 'string' ? info.pandas_orient : 'split';
    if (orient === 'split' || orient === 'values') body = { dataframe_split: inputs };
    else if (orient === 'records') body = { dataframe_records: inputs };
    else return { unsupported: `it is a DataFrame in pandas orient '${orient}'` };
  } else if (type === 'ndarray') {
    // The tf-serving format: already {"inputs": …} (or {"instances": …}).
    body = isRecord(inputs) && ('inputs' in inputs || 'instances' in inputs) ? { ...inputs } : { inputs };
  } else if (type === 'json_object') {
    if (isRecord(inputs) && LLM_INPUT_KEYS.some((k) => k in inputs)) {
      // A unified LLM input goes as it is, its params beside it (as MLflow writes it).
      return { body: isRecord(params) ? { ...inputs, ...params } : { ...inputs } };
    }
    body = { inputs };
  } else if (NOT_SERVABLE_TYPES.has(type)) {
    return { unsupported: `it is a ${type.replace('sparse_matrix_', '').toUpperCase()} sparse matrix` };
  } else {
    return { unsupported: `MLflow saved it as '${type}', which mlserve does not know` };
  }
  if (params !== undefined && params !== null) body.params = params;
  return { body };
}

/**
 * The version's input example as a scoring request body. Throws RESOURCE_DOES_NOT_EXIST when the
 * version has none (or none a request can carry), INVALID_STATE when the file is over
 * MAX_INPUT_EXAMPLE_BYTES or not JSON.
 */
export async function readInputExample(
  reader: ArtifactReader,
  source: ResolvedSource,
  artifact: ArtifactInfo,
  v: VersionLabel,
): Promise<ScoringRequestBody> {
  if (artifact.servingInputExamplePath !== undefined) {
    const serving = await readJson(reader, source, artifact.servingInputExamplePath, v);
    if (serving && isRecord(serving.value)) return serving.value;
  }
  if (artifact.inputExamplePath === undefined && artifact.servingInputExamplePath === undefined) {
    throw withoutExample(v);
  }
  const info = await exampleInfo(reader, source);
  const path = typeof info.artifact_path === 'string' ? info.artifact_path : artifact.inputExamplePath;
  if (path === undefined) throw withoutExample(v);
  const example = await readJson(reader, source, path, v);
  if (!example) throw withoutExample(v, `${path}, which MLmodel names, is not in the artifact`);
  const converted = servingBodyFromExample(example.value, info);
  if ('unsupported' in converted) throw withoutExample(v, converted.unsupported);
  return converted.body;
}
