/**
 * Domain objects as MLflow's REST API writes them: snake_case fields in proto field
 * order, millisecond timestamps, versions as strings, tags as [{key, value}], and empty
 * repeated fields left out (as protobuf's JSON does).
 */

import type { ModelVersion, Tags } from '../../core/registry/model';
import type { RegisteredModelView } from '../../core/registry/registry';

const tagList = (tags: Tags) => Object.entries(tags).map(([key, value]) => ({ key, value }));

/** Leaves out undefined fields and empty arrays. */
function compact(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)),
  );
}

export function modelVersionJson(v: ModelVersion): Record<string, unknown> {
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

export function registeredModelJson(m: RegisteredModelView): Record<string, unknown> {
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
