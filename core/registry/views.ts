/**
 * How stored records read as the registry's answers: a model without its storage fields, a
 * version with its model's name and aliases, the latest version per stage; and the errors
 * for what is not there.
 */
import { invalidParameter, type MlflowError, notFound } from '../shared/errors';
import { canonicalStage, type ModelVersion, type RegisteredModel, type Stage } from './model';
import type { ModelRecord, VersionRecord } from './records';
import { stageProblem } from './validation';

export interface RegisteredModelView extends RegisteredModel {
  /** The latest version in each stage (None, Staging, Production, Archived) that has one. */
  readonly latestVersions: readonly ModelVersion[];
}

export function modelView({ modelId: _, servingWrites: __, ...model }: ModelRecord): RegisteredModel {
  return model;
}

export function versionView(model: ModelRecord, { modelId: _, ...record }: VersionRecord): ModelVersion {
  const aliases = Object.entries(model.aliases)
    .filter(([, v]) => v === record.version)
    .map(([a]) => a)
    .sort();
  return { ...record, name: model.name, aliases };
}

/**
 * The highest version in each stage, stages in the order they first appear walking the
 * versions oldest first (the order MLflow's SQL store gives).
 */
export function latestPerStage(model: ModelRecord, versions: readonly VersionRecord[]): ModelVersion[] {
  const latest = new Map<Stage, VersionRecord>();
  for (const v of [...versions].sort((a, b) => a.version - b.version)) latest.set(v.currentStage, v);
  return [...latest.values()].map((v) => versionView(model, v));
}

export function withLatestVersions(model: ModelRecord, versions: readonly VersionRecord[]): RegisteredModelView {
  return { ...modelView(model), latestVersions: latestPerStage(model, versions) };
}

/** Attaches model names and aliases; versions whose model is gone are dropped. */
export async function joinModels(
  table: { getModelsByIds(ids: readonly string[]): Promise<Map<string, ModelRecord>> },
  records: readonly VersionRecord[],
): Promise<ModelVersion[]> {
  const models = await table.getModelsByIds(records.map((r) => r.modelId));
  return records.flatMap((r) => {
    const model = models.get(r.modelId);
    return model ? [versionView(model, r)] : [];
  });
}

export function requireStage(input: string): Stage {
  const stage = canonicalStage(input);
  if (!stage) throw invalidParameter(stageProblem(input) as string);
  return stage;
}

export function modelNotFound(name: string): MlflowError {
  return notFound(`Registered Model with name=${name} not found`);
}

export function versionNotFound(name: string, version: number): MlflowError {
  return notFound(`Model Version (name=${name}, version=${version}) not found`);
}
