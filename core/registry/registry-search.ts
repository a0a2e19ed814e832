/**
 * Searching the registry as MLflow does: `search_registered_models` and `search_model_versions`
 * with their filter grammar, ordering and page tokens, reading only what a filter can concern.
 */
import { invalidParameter } from '../shared/errors';
import type { ModelRecord, RegistryTable } from './dynamo-store';
import type { ModelVersion, Page, Tags } from './model';
import {
  type Clause,
  compareBy,
  decodePageToken,
  encodePageToken,
  type FilterSpec,
  matches,
  parseFilter,
  parseOrderBy,
} from './search';
import { isModelName, LIMITS } from './validation';
import { joinModels, type RegisteredModelView, requireStage, versionView, withLatestVersions } from './views';

export interface SearchRequest {
  readonly filter?: string;
  readonly maxResults?: number;
  readonly orderBy?: readonly string[];
  readonly pageToken?: string;
  /** Only models (and their versions) whose permissions pass this test are found. */
  readonly readable?: (permissions: Readonly<Record<string, string>>) => boolean;
}

export const SEARCH_MODELS_MAX_RESULTS = 1000;
export const SEARCH_MODELS_DEFAULT_RESULTS = 100;
export const SEARCH_VERSIONS_MAX_RESULTS = 200_000;
export const SEARCH_VERSIONS_DEFAULT_RESULTS = 200_000;

const MODEL_FILTER: FilterSpec = {
  attributes: { name: ['=', '!=', 'LIKE', 'ILIKE'] },
  aliases: { 'attributes.name': 'name', 'attribute.name': 'name' },
  tagComparators: ['=', '!=', 'LIKE', 'ILIKE'],
};

const VERSION_FILTER: FilterSpec = {
  attributes: {
    name: ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'],
    run_id: ['=', '!=', 'IN', 'NOT IN'],
    source_path: ['=', '!=', 'LIKE', 'ILIKE'],
    version_number: ['=', '!=', '<', '<=', '>', '>='],
    user_id: ['=', '!=', 'LIKE', 'ILIKE'],
    current_stage: ['=', '!=', 'IN', 'NOT IN'],
    status: ['=', '!='],
  },
  numeric: ['version_number'],
  aliases: { 'attributes.name': 'name', 'attributes.run_id': 'run_id', source: 'source_path' },
  tagComparators: ['=', '!=', 'LIKE', 'ILIKE'],
};

/** As MLflow's SQL store: both `timestamp` and `last_updated_timestamp` sort on the last update. */
const MODEL_ORDER_KEYS = {
  name: 'name',
  timestamp: 'last_updated_timestamp',
  last_updated_timestamp: 'last_updated_timestamp',
};
const VERSION_ORDER_KEYS = Object.fromEntries(
  ['name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'].flatMap((k) => [
    [k, k],
    [`attribute.${k}`, k],
    [`attributes.${k}`, k],
  ]),
);

function checkMaxResults(value: number | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw invalidParameter(`Invalid value for max_results. It must be a positive integer, but got ${value}`);
  }
  if (value > max) {
    throw invalidParameter(
      `Invalid value for request parameter max_results. It must be at most ${max}, but got value ${value}`,
    );
  }
  return value;
}

function paginate<T>(items: readonly T[], offset: number, limit: number): Page<T> {
  const slice = items.slice(offset, offset + limit);
  return {
    items: slice,
    nextPageToken: offset + limit < items.length ? encodePageToken(offset + limit) : undefined,
  };
}

function tagsMatch(tags: Tags, clause: Clause): boolean {
  return matches(clause, tags[clause.key]);
}

export async function searchRegisteredModels(
  table: RegistryTable,
  request: SearchRequest,
): Promise<Page<RegisteredModelView>> {
  const limit = checkMaxResults(request.maxResults, SEARCH_MODELS_DEFAULT_RESULTS, SEARCH_MODELS_MAX_RESULTS);
  const clauses = parseFilter(request.filter, MODEL_FILTER);
  const order = parseOrderBy(request.orderBy, MODEL_ORDER_KEYS);
  const offset = decodePageToken(request.pageToken);
  const models = await candidateModels(table, clauses);
  const selected = models.filter(
    (m) =>
      (!request.readable || request.readable(m.permissions)) &&
      clauses.every((c) => (c.type === 'tag' ? tagsMatch(m.tags, c) : matches(c, m.name))),
  );
  if (!order.some((o) => o.key === 'name')) order.push({ key: 'name', ascending: true });
  selected.sort(compareBy<ModelRecord>(order, (m, key) => (key === 'name' ? m.name : m.lastUpdatedTimestamp)));
  const page = paginate(selected, offset, limit);
  const items = await Promise.all(
    page.items.map(async (m) => withLatestVersions(m, await table.listVersions(m.modelId))),
  );
  return { items, nextPageToken: page.nextPageToken };
}

/** Narrows the models to read using the filter's name clauses where the table can. */
async function candidateModels(table: RegistryTable, clauses: readonly Clause[]): Promise<ModelRecord[]> {
  const exact = clauses.find((c) => c.type === 'attribute' && c.comparator === '=');
  if (exact) {
    // A name no model can have matches nothing (and is never sent to the table as a key).
    const model = isModelName(exact.value as string) ? await table.findModel(exact.value as string) : undefined;
    return model ? [model] : [];
  }
  const like = clauses.find((c) => c.type === 'attribute' && c.comparator === 'LIKE');
  const prefix = like ? /^[^%_]*/.exec(like.value as string)?.[0] : undefined;
  if (prefix !== undefined && prefix.length > LIMITS.nameLength) return [];
  return table.listModels(prefix || undefined);
}

export async function searchModelVersions(table: RegistryTable, request: SearchRequest): Promise<Page<ModelVersion>> {
  const limit = checkMaxResults(request.maxResults, SEARCH_VERSIONS_DEFAULT_RESULTS, SEARCH_VERSIONS_MAX_RESULTS);
  const clauses = parseFilter(request.filter, VERSION_FILTER);
  const order = parseOrderBy(request.orderBy, VERSION_ORDER_KEYS);
  const offset = decodePageToken(request.pageToken);
  for (const c of clauses) {
    if (c.key === 'current_stage' && c.type === 'attribute') {
      const values = Array.isArray(c.value) ? c.value : [c.value as string];
      for (const v of values) requireStage(v);
    }
  }
  const readable = await readableModels(table, request);
  const versions = (await candidateVersions(table, clauses)).filter(
    (v) =>
      readable(v.name) &&
      clauses.every((c) => {
        if (c.type === 'tag') return tagsMatch(v.tags, c);
        const actual =
          c.key === 'name'
            ? v.name
            : c.key === 'run_id'
              ? v.runId
              : c.key === 'source_path'
                ? v.source
                : c.key === 'version_number'
                  ? v.version
                  : c.key === 'user_id'
                    ? v.userId
                    : c.key === 'current_stage'
                      ? v.currentStage
                      : v.status;
        if (c.key === 'current_stage') {
          const wanted = (Array.isArray(c.value) ? c.value : [c.value as string]).map((s) => requireStage(s));
          const hit = wanted.includes(v.currentStage);
          return c.comparator === '=' || c.comparator === 'IN' ? hit : !hit;
        }
        return matches(c, actual);
      }),
  );
  const keys = order.length > 0 ? order : [{ key: 'last_updated_timestamp', ascending: false }];
  keys.push({ key: 'name', ascending: true }, { key: 'version_number', ascending: false });
  versions.sort(
    compareBy<ModelVersion>(keys, (v, key) =>
      key === 'name'
        ? v.name
        : key === 'version_number'
          ? v.version
          : key === 'creation_timestamp'
            ? v.creationTimestamp
            : v.lastUpdatedTimestamp,
    ),
  );
  return paginate(versions, offset, limit);
}

/** A test of model names against `request.readable`, reading each model's permissions once. */
async function readableModels(table: RegistryTable, request: SearchRequest): Promise<(name: string) => boolean> {
  const test = request.readable;
  if (!test) return () => true;
  const allowed = new Set((await table.listModels()).filter((m) => test(m.permissions)).map((m) => m.name));
  return (name) => allowed.has(name);
}

/** Reads only the versions a filter can concern, using the table's keys where it can. */
async function candidateVersions(table: RegistryTable, clauses: readonly Clause[]): Promise<ModelVersion[]> {
  const byName = clauses.find(
    (c) => c.type === 'attribute' && c.key === 'name' && (c.comparator === '=' || c.comparator === 'IN'),
  );
  if (byName) {
    const names = Array.isArray(byName.value) ? byName.value : [byName.value as string];
    const lists = await Promise.all(
      names.filter(isModelName).map(async (n) => {
        const model = await table.findModel(n);
        return model ? (await table.listVersions(model.modelId)).map((r) => versionView(model, r)) : [];
      }),
    );
    return lists.flat();
  }
  const byRun = clauses.find(
    (c) => c.type === 'attribute' && c.key === 'run_id' && (c.comparator === '=' || c.comparator === 'IN'),
  );
  if (byRun) {
    const runs = Array.isArray(byRun.value) ? byRun.value : [byRun.value as string];
    // Run ids longer than any stored one match nothing (and are never sent to the table as keys).
    const stored = runs.filter((r) => r !== '' && r.length <= LIMITS.runIdLength);
    const records = (await Promise.all(stored.map((r) => table.listVersionsByRun(r)))).flat();
    return joinModels(table, records);
  }
  return joinModels(table, await table.listAllVersions());
}
