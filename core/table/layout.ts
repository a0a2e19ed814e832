/**
 * The layout of the one DynamoDB table that holds the registry, the serving control plane and
 * access control: its key schema and indexes, every item's key, the item kinds and the
 * attributes more than one part reads. Every store builds its keys here; the deploy-model
 * state machine gets the same keys in Amazon States Language form (`asl`), built from the
 * same prefixes, so the two can never disagree.
 */

/** The table's key schema and indexes: the CDK construct and the local twin create the table from it. */
export const REGISTRY_TABLE_SCHEMA = {
  partitionKey: 'PK',
  sortKey: 'SK',
  indexes: [
    /** Every model by name (GSI1PK = 'MODEL'), every version and every token. */
    { name: 'ByKind', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' },
    /** Versions by the run they came from (sparse: only versions with a run id). */
    { name: 'ByRun', partitionKey: 'GSI2PK', sortKey: 'GSI2SK' },
  ],
} as const;

/** ByKind: `GSI1PK` is an item kind, `GSI1SK` orders that kind's items. ByRun: `GSI2PK` is a run id. */
export const [BY_KIND, BY_RUN] = REGISTRY_TABLE_SCHEMA.indexes;

/** The `kind` attribute of each item (and, for models, versions and tokens, their ByKind partition). */
export const KIND = {
  name: 'NAME',
  model: 'MODEL',
  version: 'VERSION',
  servingStatus: 'SERVING',
  event: 'EVENT',
  hostReport: 'HOST_REPORT',
  token: 'TOKEN',
  principal: 'PRINCIPAL',
  environmentClaim: 'ENV_CLAIM',
} as const;

/** Partition-key prefixes and fixed sort keys. */
export const PREFIX = {
  name: 'NAME#',
  model: 'MODEL#',
  version: 'VERSION#',
  servingVersion: 'SERVING#VERSION#',
  event: 'EVENT#',
  token: 'TOKEN#',
  principal: 'PRINCIPAL#',
  /** A Python environment shared through the environment archive, by its content key. */
  environment: 'ENV#',
} as const;

export const SORT_KEY = {
  name: 'NAME',
  model: 'MODEL',
  /** The deploy workflow's record of a model's serving state (its run claim and convergence requests). */
  servingModel: 'SERVING#MODEL',
  /** What the model's serving task last reported (revision, readiness). */
  hostReport: 'SERVING#HOST',
  token: 'TOKEN',
  principal: 'PRINCIPAL',
  /** Which model host builds the environment now (so that the others restore it instead). */
  environmentClaim: 'CLAIM',
} as const;

/** Attributes that more than one part of the system reads or writes. */
export const ATTR = {
  kind: 'kind',
  modelId: 'modelId',
  name: 'name',
  permissions: 'permissions',
  /** On the model item: the serving settings (the deploy workflow passes cpu, memory and tags to ECS). */
  servingEnabled: 'servingEnabled',
  servingRevision: 'servingRevision',
  servingCpu: 'servingCpu',
  servingMemory: 'servingMemory',
  servingTaskTags: 'servingTaskTags',
  servingPriority: 'servingPriority',
  /** On the `SERVING#MODEL` item. */
  state: 'state',
  pendingRequests: 'pendingRequests',
} as const;

export type Key = { readonly PK: string; readonly SK: string };

/** Version numbers are zero-padded so that sort keys order them numerically. */
export const paddedVersion = (version: number) => String(version).padStart(10, '0');

export const nameKey = (name: string): Key => ({ PK: `${PREFIX.name}${name}`, SK: SORT_KEY.name });
export const modelPk = (modelId: string) => `${PREFIX.model}${modelId}`;
export const modelKey = (modelId: string): Key => ({ PK: modelPk(modelId), SK: SORT_KEY.model });
export const versionSk = (version: number) => `${PREFIX.version}${paddedVersion(version)}`;
export const versionKey = (modelId: string, version: number): Key => ({
  PK: modelPk(modelId),
  SK: versionSk(version),
});
/** A version's ByKind sort key (and, with a run id, its ByRun sort key). */
export const versionIndexSk = (modelId: string, version: number) => `${modelId}#${paddedVersion(version)}`;
export const servingVersionKey = (modelId: string, version: number): Key => ({
  PK: modelPk(modelId),
  SK: `${PREFIX.servingVersion}${paddedVersion(version)}`,
});
export const servingModelKey = (modelId: string): Key => ({ PK: modelPk(modelId), SK: SORT_KEY.servingModel });
export const hostReportKey = (modelId: string): Key => ({ PK: modelPk(modelId), SK: SORT_KEY.hostReport });
/** A serving event: sorted by time (ISO 8601), made unique by `unique` (a UUID, an execution name). */
export const eventKey = (modelId: string, at: string, unique: string): Key => ({
  PK: modelPk(modelId),
  SK: `${PREFIX.event}${at}#${unique}`,
});
/** The counter that hands out listener-rule priorities, unique across models. */
export const PRIORITY_COUNTER_KEY: Key = { PK: 'SERVING#PRIORITIES', SK: 'COUNTER' };
export const tokenKey = (hash: string): Key => ({ PK: `${PREFIX.token}${hash}`, SK: SORT_KEY.token });
/** A token's ByKind sort key: its principal first, so one principal's tokens are one query. */
export const tokenIndexSk = (principal: string, tokenId: string) => `${principal}#${tokenId}`;
export const principalKey = (name: string): Key => ({ PK: `${PREFIX.principal}${name}`, SK: SORT_KEY.principal });
/** The claim on building the environment whose content key is `key` (see container/src/runtimes/env-archive.ts). */
export const environmentClaimKey = (key: string): Key => ({
  PK: `${PREFIX.environment}${key}`,
  SK: SORT_KEY.environmentClaim,
});

/** A string attribute in Amazon States Language: a literal, or a value computed from the state input. */
export type AslString = { readonly S: string } | { readonly 'S.$': string };

export interface AslKey {
  readonly PK: AslString;
  readonly SK: AslString;
}

/** `States.Format` over a template built from a key prefix; the prefixes hold no characters it escapes. */
const format = (template: string, ...paths: string[]) => ({
  'S.$': `States.Format('${template}', ${paths.join(', ')})`,
});

/**
 * The same keys as DynamoDB service integrations of a state machine write them: each argument
 * is a JSONPath (`$.lookup.Item.modelId.S`, `$$.Execution.Name`) to the value the store's
 * builder takes.
 */
export const asl = {
  nameKey: (namePath: string): AslKey => ({ PK: format(`${PREFIX.name}{}`, namePath), SK: { S: SORT_KEY.name } }),
  modelKey: (modelIdPath: string): AslKey => ({
    PK: format(`${PREFIX.model}{}`, modelIdPath),
    SK: { S: SORT_KEY.model },
  }),
  servingModelKey: (modelIdPath: string): AslKey => ({
    PK: format(`${PREFIX.model}{}`, modelIdPath),
    SK: { S: SORT_KEY.servingModel },
  }),
  hostReportKey: (modelIdPath: string): AslKey => ({
    PK: format(`${PREFIX.model}{}`, modelIdPath),
    SK: { S: SORT_KEY.hostReport },
  }),
  eventKey: (modelIdPath: string, atPath: string, uniquePath: string): AslKey => ({
    PK: format(`${PREFIX.model}{}`, modelIdPath),
    SK: format(`${PREFIX.event}{}#{}`, atPath, uniquePath),
  }),
  /** The attributes besides the key that mark an item as a serving event (`at` is its ISO time). */
  eventAttributes: (atPath: string) => ({ [ATTR.kind]: { S: KIND.event }, at: { 'S.$': atPath } }),
};
