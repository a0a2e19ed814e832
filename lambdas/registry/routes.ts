/**
 * MLflow's Model Registry REST API: each route's parameters (validated with a schema)
 * and the registry call it makes. Transport-only: all semantics live in the registry.
 */
import { z } from 'zod';
import { AccessControl, type Caller, type Requirement } from '../../core/auth/access';
import type { PermissionLevel } from '../../core/auth/levels';
import {
  aliasName,
  description,
  modelName,
  stageList,
  stageName,
  tag,
  tagKey,
  tagValue,
  versionNumber,
} from '../../core/registry/identifiers';
import type { Page } from '../../core/registry/model';
import type { ModelRegistry, SearchRequest } from '../../core/registry/registry';
import { routesOf, type TableRoute } from '../shared/routing';
import { modelVersionJson, registeredModelJson } from './mlflow-json';
import { modelInfoJson } from './model-info';
import type { InputExampleResponse, ModelInfoResponse } from './responses';

export const API_PREFIX = '/api/2.0/mlflow/';

const text = z.string();
/** A required string: absent or empty is "missing", as MLflow's _assert_required. */
const required = z.string().min(1);
const name = modelName();
/** Versions are strings in MLflow's protocol; numbers are accepted too. */
const version = versionNumber();
const tags = z.array(tag()).optional();
/** Query strings carry everything as text; bodies may carry numbers. */
const intLike = z
  .union([z.number().int(), z.string().regex(/^-?[0-9]+$/)])
  .transform(Number)
  .optional();
/** order_by may repeat in a query string, or be a list in a body. */
const stringList = z
  .union([text, z.array(text)])
  .transform((v) => (Array.isArray(v) ? v : [v]))
  .optional();
const bool = z
  .union([z.boolean(), z.enum(['true', 'false', 'True', 'False'])])
  .transform((v) => v === true || v === 'true' || v === 'True')
  .optional();
const search = z.object({
  filter: text.optional(),
  max_results: intLike,
  order_by: stringList,
  page_token: text.optional(),
});

type Route = TableRoute<ModelRegistry>;

const authenticated: Requirement = { kind: 'authenticated' };
const on =
  (level: PermissionLevel) =>
  (p: { name: string }): Requirement => ({ kind: 'model', model: p.name, level });
const readable = (caller: Caller) => (permissions: Readonly<Record<string, string>>) =>
  AccessControl.canRead(caller, permissions);

/** Moving a version into or out of Production needs the production level; other moves the staging level. */
async function transitionAccess(
  p: { name: string; version: number; stage: string },
  registry: ModelRegistry,
): Promise<Requirement> {
  const production = (stage: string | undefined) => stage?.toLowerCase() === 'production';
  let current: string | undefined;
  try {
    current = (await registry.getModelVersion(p.name, p.version)).currentStage;
  } catch {
    current = undefined;
  }
  const level =
    production(p.stage) || production(current) ? 'CAN_MANAGE_PRODUCTION_VERSIONS' : 'CAN_MANAGE_STAGING_VERSIONS';
  return { kind: 'model', model: p.name, level };
}

const route = routesOf<ModelRegistry>();

/** A search endpoint (GET with a query string, or POST with a body): one page of results and its token. */
function searchRoutes<T>(
  path: string,
  listKey: string,
  toJson: (item: T) => object,
  run: (registry: ModelRegistry, request: SearchRequest) => Promise<Page<T>>,
): Route[] {
  return (['GET', 'POST'] as const).map((method) =>
    route({
      method,
      path,
      params: search,
      access: () => authenticated,
      run: async (r, p, caller) => {
        const page = await run(r, {
          filter: p.filter,
          maxResults: p.max_results,
          orderBy: p.order_by,
          pageToken: p.page_token,
          readable: readable(caller),
        });
        // MLflow leaves an empty list out: a search that finds nothing answers {}.
        return {
          [listKey]: page.items.length > 0 ? page.items.map(toJson) : undefined,
          next_page_token: page.nextPageToken,
        };
      },
    }),
  );
}

export const ROUTES: readonly Route[] = [
  // ---- registered models
  route({
    method: 'POST',
    path: 'registered-models/create',
    params: z.object({ name, tags, description: description().optional() }),
    access: () => authenticated,
    run: async (r, p, caller) => ({
      registered_model: registeredModelJson(await r.createRegisteredModel({ ...p, creator: caller.principal })),
    }),
  }),
  route({
    method: 'GET',
    path: 'registered-models/get',
    params: z.object({ name }),
    access: on('CAN_READ'),
    run: async (r, p) => ({ registered_model: registeredModelJson(await r.getRegisteredModel(p.name)) }),
  }),
  ...searchRoutes('registered-models/search', 'registered_models', registeredModelJson, (r, q) =>
    r.searchRegisteredModels(q),
  ),
  route({
    method: 'PATCH',
    path: 'registered-models/update',
    params: z.object({ name, description: description().optional() }),
    access: on('CAN_EDIT'),
    run: async (r, p) => ({
      registered_model: registeredModelJson(await r.updateRegisteredModel(p.name, p.description)),
    }),
  }),
  route({
    method: 'POST',
    path: 'registered-models/rename',
    params: z.object({ name, new_name: modelName('new_name') }),
    access: on('CAN_MANAGE'),
    run: async (r, p) => ({ registered_model: registeredModelJson(await r.renameRegisteredModel(p.name, p.new_name)) }),
  }),
  route({
    method: 'DELETE',
    path: 'registered-models/delete',
    params: z.object({ name }),
    access: on('CAN_MANAGE'),
    run: async (r, p) => {
      await r.deleteRegisteredModel(p.name);
      return {};
    },
  }),
  route({
    method: 'POST',
    path: 'registered-models/set-tag',
    params: z.object({ name, key: tagKey(), value: tagValue().default('') }),
    access: on('CAN_EDIT'),
    run: async (r, p) => {
      await r.setRegisteredModelTag(p.name, p.key, p.value);
      return {};
    },
  }),
  route({
    method: 'DELETE',
    path: 'registered-models/delete-tag',
    params: z.object({ name, key: tagKey() }),
    access: on('CAN_EDIT'),
    run: async (r, p) => {
      await r.deleteRegisteredModelTag(p.name, p.key);
      return {};
    },
  }),
  route({
    method: 'POST',
    path: 'registered-models/alias',
    params: z.object({ name, alias: aliasName(), version }),
    access: on('CAN_MANAGE_PRODUCTION_VERSIONS'),
    run: async (r, p) => {
      await r.setAlias(p.name, p.alias, p.version);
      return {};
    },
  }),
  route({
    method: 'DELETE',
    path: 'registered-models/alias',
    params: z.object({ name, alias: aliasName() }),
    access: on('CAN_MANAGE_PRODUCTION_VERSIONS'),
    run: async (r, p) => {
      await r.deleteAlias(p.name, p.alias);
      return {};
    },
  }),
  route({
    method: 'GET',
    path: 'registered-models/alias',
    params: z.object({ name, alias: aliasName() }),
    access: on('CAN_READ'),
    run: async (r, p) => ({ model_version: modelVersionJson(await r.getVersionByAlias(p.name, p.alias)) }),
  }),
  ...(['GET', 'POST'] as const).map((method) =>
    route({
      method,
      path: 'registered-models/get-latest-versions',
      params: z.object({ name, stages: stageList().optional() }),
      access: on('CAN_READ'),
      run: async (r, p) => {
        const versions = await r.getLatestVersions(p.name, p.stages);
        return { model_versions: versions.length > 0 ? versions.map(modelVersionJson) : undefined };
      },
    }),
  ),
  // ---- model versions
  route({
    method: 'POST',
    path: 'model-versions/create',
    params: z.object({
      name,
      source: required,
      run_id: text.optional(),
      tags,
      run_link: text.optional(),
      description: description().optional(),
    }),
    access: on('CAN_EDIT'),
    run: async (r, p) => ({
      model_version: modelVersionJson(
        await r.createModelVersion({
          name: p.name,
          source: p.source,
          runId: p.run_id,
          runLink: p.run_link,
          description: p.description,
          tags: p.tags,
        }),
      ),
    }),
  }),
  route({
    method: 'GET',
    path: 'model-versions/get',
    params: z.object({ name, version }),
    access: on('CAN_READ'),
    run: async (r, p) => ({ model_version: modelVersionJson(await r.getModelVersion(p.name, p.version)) }),
  }),
  ...searchRoutes('model-versions/search', 'model_versions', modelVersionJson, (r, q) => r.searchModelVersions(q)),
  route({
    method: 'PATCH',
    path: 'model-versions/update',
    params: z.object({ name, version, description: description().optional() }),
    access: on('CAN_EDIT'),
    run: async (r, p) => ({
      model_version: modelVersionJson(await r.updateModelVersion(p.name, p.version, p.description)),
    }),
  }),
  route({
    method: 'DELETE',
    path: 'model-versions/delete',
    params: z.object({ name, version }),
    access: on('CAN_MANAGE'),
    run: async (r, p) => {
      await r.deleteModelVersion(p.name, p.version);
      return {};
    },
  }),
  route({
    method: 'POST',
    path: 'model-versions/transition-stage',
    params: z.object({ name, version, stage: stageName(), archive_existing_versions: bool }),
    access: transitionAccess,
    run: async (r, p) => ({
      model_version: modelVersionJson(
        await r.transitionModelVersionStage(p.name, p.version, p.stage, p.archive_existing_versions ?? false),
      ),
    }),
  }),
  route({
    method: 'POST',
    path: 'model-versions/set-tag',
    params: z.object({ name, version, key: tagKey(), value: tagValue().default('') }),
    access: on('CAN_EDIT'),
    run: async (r, p) => {
      await r.setModelVersionTag(p.name, p.version, p.key, p.value);
      return {};
    },
  }),
  route({
    method: 'DELETE',
    path: 'model-versions/delete-tag',
    params: z.object({ name, version, key: tagKey() }),
    access: on('CAN_EDIT'),
    run: async (r, p) => {
      await r.deleteModelVersionTag(p.name, p.version, p.key);
      return {};
    },
  }),
  route({
    method: 'GET',
    path: 'model-versions/get-download-uri',
    params: z.object({ name, version }),
    access: on('CAN_READ'),
    run: async (r, p) => ({ artifact_uri: await r.getModelVersionDownloadUri(p.name, p.version) }),
  }),
  // ---- mlserve's additions (the web console's): what a version's artifact holds
  route({
    method: 'GET',
    path: 'model-versions/get-model-info',
    params: z.object({ name, version }),
    access: on('CAN_READ'),
    run: async (r, p): Promise<ModelInfoResponse> => ({
      model_info: modelInfoJson((await r.versionArtifact(p.name, p.version)).artifact),
    }),
  }),
  route({
    method: 'GET',
    path: 'model-versions/get-input-example',
    params: z.object({ name, version }),
    access: on('CAN_READ'),
    run: async (r, p): Promise<InputExampleResponse> => ({ input_example: await r.inputExample(p.name, p.version) }),
  }),
];
