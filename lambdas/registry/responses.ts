/**
 * Answers of mlserve's additions to the registry API (`/api/2.0/mlflow/model-versions/…`), as
 * JSON on the wire. The web console imports these types, so this file imports nothing: it must
 * type-check and bundle for the browser. (MLflow's own shapes are in mlflow-json.ts.)
 */

/** A column of a column-based signature. `type` is MLflow's (`double`, `string`, …), nested types spelled out (`array<string>`, `object<a: long, b?: string>`). */
export interface ColumnSpecJson {
  readonly name?: string;
  readonly type: string;
  readonly required: boolean;
}

/** A tensor of a tensor-based signature; -1 in `shape` is a dimension of any size. */
export interface TensorSpecJson {
  readonly name?: string;
  readonly type: 'tensor';
  readonly dtype: string;
  readonly shape: readonly number[];
}

/** An inference parameter (`params` of a scoring request). */
export interface ParamSpecJson {
  readonly name: string;
  readonly type: string;
  /** Absent when MLflow recorded none. */
  readonly default?: unknown;
  /** Absent for a scalar parameter. */
  readonly shape?: readonly number[];
}

export type SignatureSpecJson = ColumnSpecJson | TensorSpecJson;

/** The model's signature, read from MLmodel; a part MLflow did not record (or could not be read) is an empty list. */
export interface SignatureJson {
  readonly inputs: readonly SignatureSpecJson[];
  readonly outputs: readonly SignatureSpecJson[];
  readonly params: readonly ParamSpecJson[];
}

/** What the registration check recorded about a READY version's artifact. */
export interface ModelInfoJson {
  /** The flavors MLmodel names (for a Databricks feature store model: its raw model's). */
  readonly flavors: readonly string[];
  /** The MLflow version that logged the model. */
  readonly mlflow_version?: string;
  /** Absent when the model was logged without one. */
  readonly signature?: SignatureJson;
  /** Whether `get-input-example` has a request body for this version. */
  readonly has_input_example: boolean;
}

/** `GET model-versions/get-model-info?name=&version=`. */
export interface ModelInfoResponse {
  readonly model_info: ModelInfoJson;
}

/** A JSON body for `/model/<name>/<ref>/invocations` (`dataframe_split`, `dataframe_records`, `inputs`, … and `params`). */
export type ScoringRequestJson = { readonly [key: string]: unknown };

/** `GET model-versions/get-input-example?name=&version=`. */
export interface InputExampleResponse {
  readonly input_example: ScoringRequestJson;
}
