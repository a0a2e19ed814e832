/**
 * Domain objects as MLflow's REST API writes them: snake_case fields in proto field
 * order, millisecond timestamps, versions as strings, tags as [{key, value}], and empty
 * repeated fields left out (as protobuf's JSON does).
 */

import type { ModelVersion, Tags } from '../../core/registry/model';
import type { RegisteredModelView } from '../../core/registry/registry';

const tagList = (tags: Tags) => Object.entries(tags).map(([key, value]) => ({ key, value }));

/** A tag as MLflow's API writes it. */
export interface TagJson {
  readonly key: string;
  readonly value: string;
}

/** A model version as the registry API answers it (the web console reads these types). */
export interface ModelVersionJson {
  readonly name: string;
  readonly version: string;
  readonly creation_timestamp: number;
  readonly last_updated_timestamp: number;
  readonly user_id?: string;
  readonly current_stage: string;
  readonly description?: string;
  readonly source: string;
  readonly run_id?: string;
  readonly status: 'PENDING_REGISTRATION' | 'READY' | 'FAILED_REGISTRATION';
  readonly status_message?: string;
  readonly tags?: readonly TagJson[];
  readonly run_link?: string;
  readonly aliases?: readonly string[];
}

/** A registered model as the registry API answers it. */
export interface RegisteredModelJson {
  readonly name: string;
  readonly creation_timestamp: number;
  readonly last_updated_timestamp: number;
  readonly description?: string;
  readonly latest_versions?: readonly ModelVersionJson[];
  readonly tags?: readonly TagJson[];
  readonly aliases?: readonly { readonly alias: string; readonly version: string }[];
}

/** Leaves out undefined fields and empty arrays. */
function compact<T>(fields: Record<string, unknown>): T {
  return Object.fromEntries(
    Object.entries(fields).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)),
  ) as T;
}

export function modelVersionJson(v: ModelVersion): ModelVersionJson {
  return compact({
    name: v.name,
    version: String(v.version),
    creation_timestamp: v.creationTimestamp,
    last_updated_timestamp: v.lastUpdatedTimestamp,
    user_id: v.userId,
    current_stage: v.currentStage,
    description: v.description,
    source: v.source,
    run_id: v.runId,
    status: v.status,
    status_message: v.statusMessage || undefined,
    tags: tagList(v.tags),
    run_link: v.runLink ?? '',
    aliases: [...v.aliases],
  });
}

export function registeredModelJson(m: RegisteredModelView): RegisteredModelJson {
  return compact({
    name: m.name,
    creation_timestamp: m.creationTimestamp,
    last_updated_timestamp: m.lastUpdatedTimestamp,
    // MLflow leaves an empty model description out (and writes an empty version description).
    description: m.description || undefined,
    latest_versions: m.latestVersions.map(modelVersionJson),
    tags: tagList(m.tags),
    aliases: Object.entries(m.aliases)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([alias, version]) => ({ alias, version: String(version) })),
  });
}
