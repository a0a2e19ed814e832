/** The model registry (MLflow's Model Registry REST API, under /api/2.0/mlflow/). */
import type { ModelVersionJson, RegisteredModelJson } from '../../../lambdas/registry/mlflow-json';
import type { InputExampleResponse, ModelInfoResponse, ScoringRequestJson } from '../../../lambdas/registry/responses';
import { call } from './client';

export type { ModelInfoJson, ParamSpecJson, SignatureSpecJson } from '../../../lambdas/registry/responses';
export type { ModelVersionJson, RegisteredModelJson, ScoringRequestJson };

const API = '/api/2.0/mlflow';

export interface Page<T> {
  readonly items: readonly T[];
  readonly nextPageToken?: string;
}

/** Escapes a value for a search filter's single-quoted string. */
const quoted = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** Models whose name contains `text` (the registry's `name LIKE`), a page at a time. */
export async function searchModels(
  text: string,
  pageToken?: string,
  maxResults = 20,
): Promise<Page<RegisteredModelJson>> {
  const filter = text.trim() ? `name LIKE ${quoted(`%${text.trim()}%`)}` : undefined;
  const answer = await call<{ registered_models?: RegisteredModelJson[]; next_page_token?: string }>(
    'GET',
    `${API}/registered-models/search`,
    { filter, max_results: maxResults, page_token: pageToken, order_by: ['name ASC'] },
  );
  return { items: answer.registered_models ?? [], nextPageToken: answer.next_page_token || undefined };
}

export async function getModel(name: string): Promise<RegisteredModelJson> {
  return (await call<{ registered_model: RegisteredModelJson }>('GET', `${API}/registered-models/get`, { name }))
    .registered_model;
}

export async function createModel(name: string, description?: string): Promise<RegisteredModelJson> {
  return (
    await call<{ registered_model: RegisteredModelJson }>('POST', `${API}/registered-models/create`, {
      name,
      description: description || undefined,
    })
  ).registered_model;
}

/** Every version of a model, newest first. */
export async function listVersions(name: string): Promise<ModelVersionJson[]> {
  const versions: ModelVersionJson[] = [];
  let pageToken: string | undefined;
  do {
    const answer = await call<{ model_versions?: ModelVersionJson[]; next_page_token?: string }>(
      'GET',
      `${API}/model-versions/search`,
      { filter: `name=${quoted(name)}`, max_results: 200, page_token: pageToken },
    );
    versions.push(...(answer.model_versions ?? []));
    pageToken = answer.next_page_token || undefined;
  } while (pageToken);
  return versions.sort((a, b) => Number(b.version) - Number(a.version));
}

export function transitionStage(name: string, version: string, stage: string, archiveExisting: boolean) {
  return call('POST', `${API}/model-versions/transition-stage`, {
    name,
    version,
    stage,
    archive_existing_versions: archiveExisting,
  });
}

export function setAlias(name: string, alias: string, version: string) {
  return call('POST', `${API}/registered-models/alias`, { name, alias, version });
}

export function deleteAlias(name: string, alias: string) {
  return call('DELETE', `${API}/registered-models/alias`, { name, alias });
}

export function updateVersionDescription(name: string, version: string, description: string) {
  return call('PATCH', `${API}/model-versions/update`, { name, version, description });
}

/** The highest version number among a model's latest versions (one per stage). */
export function latestVersion(model: RegisteredModelJson): string | undefined {
  const numbers = (model.latest_versions ?? []).map((v) => Number(v.version));
  return numbers.length > 0 ? String(Math.max(...numbers)) : undefined;
}

/** The version holding a stage now, from a model's latest versions. */
export function versionInStage(model: RegisteredModelJson, stage: 'Staging' | 'Production'): string | undefined {
  return model.latest_versions?.find((v) => v.current_stage === stage)?.version;
}

/** What the registry read from a version's MLmodel: flavors, signature, whether it has an input example. */
export async function getModelInfo(name: string, version: string): Promise<ModelInfoResponse['model_info']> {
  return (await call<ModelInfoResponse>('GET', `${API}/model-versions/get-model-info`, { name, version })).model_info;
}

/** The request body a version was logged with as its input example. */
export async function getInputExample(name: string, version: string): Promise<ScoringRequestJson> {
  return (await call<InputExampleResponse>('GET', `${API}/model-versions/get-input-example`, { name, version }))
    .input_example;
}
