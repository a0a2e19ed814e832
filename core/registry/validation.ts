/**
 * Limits and rules on what the registry accepts, shared by every entry point. Each rule answers
 * the problem with a value in MLflow's words (undefined when there is none); the `validate…`
 * functions throw it, and `identifiers.ts` turns the same rules into the APIs' schemas.
 */
import { invalidParameter } from '../shared/errors';
import { canonicalStage, SERVING_SETTING_LIMITS, STAGES } from './model';

export const LIMITS = {
  nameLength: 256,
  tagKeyLength: 250,
  tagValueLength: 5000,
  descriptionLength: 5000,
  aliasLength: 255,
  sourceLength: 500,
  runIdLength: 32 * 4,
  runLinkLength: 500,
  tagsPerRequest: 100,
  principalLength: 128,
} as const;

/** What a rule answers: the problem with a value, or undefined when it is fine. */
export type Problem = string | undefined;

function throwProblem(problem: Problem): void {
  if (problem !== undefined) throw invalidParameter(problem);
}

/** The start of a long value, for messages that quote it. */
function quoted(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}

/**
 * A registered model name: 1 to 256 characters (UTF-16 code units, as JavaScript counts them;
 * at most 768 UTF-8 bytes, well inside DynamoDB's key limits), well-formed Unicode, and usable
 * as one segment of /model/<name>/<ref>/invocations.
 */
export function modelNameProblem(name: string, field = 'name'): Problem {
  if (name === '') return `Missing value for required parameter '${field}'.`;
  if (name.length > LIMITS.nameLength) {
    return `Registered model name '${quoted(name)}' (parameter '${field}') is ${name.length} characters long; the limit is ${LIMITS.nameLength}.`;
  }
  if (!name.isWellFormed()) {
    return `Invalid registered model name (parameter '${field}'): it is not well-formed Unicode (a lone UTF-16 surrogate).`;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[/\\\u0000-\u001f\u007f]/.test(name) || name === '.' || name === '..' || name.trim() !== name) {
    return `Invalid registered model name '${name}' (parameter '${field}'): it may not contain '/', '\\' or control characters, be '.' or '..', or start or end with spaces.`;
  }
  return undefined;
}

export function validateModelName(name: string, field = 'name'): void {
  throwProblem(modelNameProblem(name, field));
}

/** Whether a model could be named this: a name that fails the rules names no model. */
export function isModelName(name: string): boolean {
  return modelNameProblem(name) === undefined;
}

/** Python's posixpath.normpath, for the tag-name check MLflow makes. */
function normpath(p: string): string {
  if (p === '') return '.';
  const initialSlashes = p.startsWith('//') && !p.startsWith('///') ? 2 : p.startsWith('/') ? 1 : 0;
  const parts: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..' || (initialSlashes === 0 && parts.length === 0) || parts[parts.length - 1] === '..')
      parts.push(part);
    else if (parts.length > 0) parts.pop();
  }
  const joined = '/'.repeat(initialSlashes) + parts.join('/');
  return joined || '.';
}

/** MLflow's tag key rules: a safe relative name of letters, digits and `_ - . space : /`; at most 250 characters. */
export function tagKeyProblem(key: string, field = 'key'): Problem {
  if (key === '') return `Missing value for required parameter '${field}'.`;
  if (key.length > LIMITS.tagKeyLength) {
    return `Tag key '${quoted(key)}' is ${key.length} characters long; the limit is ${LIMITS.tagKeyLength}.`;
  }
  if (!/^[/\w.\- :]*$/.test(key)) {
    return `Invalid tag name: '${key}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).`;
  }
  const norm = normpath(key);
  if (norm !== key || norm === '.' || norm.startsWith('..') || norm.startsWith('/')) {
    return `Invalid tag name: '${key}'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '${norm}'`;
  }
  return undefined;
}

export function tagValueProblem(value: string, key?: string): Problem {
  if (value.length > LIMITS.tagValueLength) {
    const of = key === undefined ? '' : ` for key '${quoted(key)}'`;
    return `Tag value${of} is ${value.length} characters long; the limit is ${LIMITS.tagValueLength}.`;
  }
  return undefined;
}

export function validateTagKey(key: string): void {
  throwProblem(tagKeyProblem(key));
}

export function validateTag(key: string, value: string): void {
  throwProblem(tagKeyProblem(key) ?? tagValueProblem(value, key));
}

export function descriptionProblem(description: string): Problem {
  if (description.length > LIMITS.descriptionLength) {
    return `Description is ${description.length} characters long; the limit is ${LIMITS.descriptionLength}.`;
  }
  return undefined;
}

export function validateDescription(description: string): void {
  throwProblem(descriptionProblem(description));
}

/** MLflow's alias rules: letters, digits, `_` and `-`; not `latest` nor `v<number>`; at most 255 characters. */
export function aliasProblem(alias: string): Problem {
  if (alias === '') return 'Registered model alias name cannot be empty.';
  if (alias.length > LIMITS.aliasLength) {
    return `Alias '${quoted(alias)}' is ${alias.length} characters long; the limit is ${LIMITS.aliasLength}.`;
  }
  if (!/^[\w-]+$/.test(alias)) {
    return `Invalid alias name: '${alias}'. Names may only contain alphanumerics, underscores (_), and dashes (-).`;
  }
  if (alias.toLowerCase() === 'latest') return "'latest' alias name (case insensitive) is reserved.";
  if (/^[vV]\d+$/.test(alias)) return `Version alias name '${alias}' is reserved.`;
  return undefined;
}

export function validateAlias(alias: string): void {
  throwProblem(aliasProblem(alias));
}

/** A version, given as a string or a number ("3", 3): a positive integer. */
export function versionProblem(value: string | number, field = 'version'): Problem {
  const text = String(value).trim();
  if (!/^[0-9]+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    return `Parameter '${field}' must be a positive integer, got '${quoted(String(value))}'.`;
  }
  return undefined;
}

/** Parses a version given as a string or number ("3", 3) into a positive integer. */
export function parseVersion(value: string | number, field = 'version'): number {
  throwProblem(versionProblem(value, field));
  return Number(String(value).trim());
}

/** A stage, in any case: None, Staging, Production or Archived. */
export function stageProblem(input: string): Problem {
  if (canonicalStage(input)) return undefined;
  return `Invalid Model Version stage: ${quoted(input)}. Value must be one of ${STAGES.join(', ')}.`;
}

/** A principal (who a token and a permission belong to): 1 to 128 of letters, digits and `_ . @ + -`. */
export function principalProblem(principal: string, field = 'principal'): Problem {
  if (principal === '') return `Missing value for required parameter '${field}'.`;
  if (principal.length > LIMITS.principalLength) {
    return `Principal '${quoted(principal)}' (parameter '${field}') is ${principal.length} characters long; the limit is ${LIMITS.principalLength}.`;
  }
  if (!/^[A-Za-z0-9_.@+-]+$/.test(principal)) {
    return `Invalid principal '${principal}': use letters, digits and _ . @ + -.`;
  }
  return undefined;
}

/** A permission level, one of `levels` (the access levels, which the registry does not define). */
export function permissionLevelProblem(level: string, levels: readonly string[]): Problem {
  if (levels.includes(level)) return undefined;
  return `Invalid permission level '${quoted(level)}'. Use one of ${levels.join(', ')}.`;
}

/** A request value as a message quotes it: its JSON, shortened. */
function shownValue(value: unknown): string {
  return quoted(JSON.stringify(value) ?? String(value));
}

/** Whether `value` is a whole number within `limit` (bounds included). */
function within(value: unknown, limit: { readonly min: number; readonly max: number }): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= limit.min && value <= limit.max;
}

/** Batching on or off (`batching.enabled`): a boolean. */
export function batchingEnabledProblem(value: unknown, field = 'batching.enabled'): Problem {
  if (typeof value === 'boolean') return undefined;
  return `Invalid value ${shownValue(value)} for parameter '${field}': use true or false, or null for the host's default.`;
}

/** Most rows in one coalesced call (`batching.max_batch_rows`): a whole number from 1 to 10000. */
export function maxBatchRowsProblem(value: unknown, field = 'batching.max_batch_rows'): Problem {
  const { min, max } = SERVING_SETTING_LIMITS.maxBatchRows;
  if (within(value, SERVING_SETTING_LIMITS.maxBatchRows)) return undefined;
  return `Invalid value ${shownValue(value)} for parameter '${field}': use a whole number of rows from ${min} to ${max}, or null for the host's default.`;
}

/** How long a request waits for others to join its call (`batching.max_wait_ms`): 0 to 100 ms. */
export function maxWaitMsProblem(value: unknown, field = 'batching.max_wait_ms'): Problem {
  const { min, max } = SERVING_SETTING_LIMITS.maxWaitMs;
  if (within(value, SERVING_SETTING_LIMITS.maxWaitMs)) return undefined;
  return `Invalid value ${shownValue(value)} for parameter '${field}': use a whole number of milliseconds from ${min} to ${max}, or null for the host's default.`;
}

/** Worker processes per version (`workers_per_version`): a whole number from 1 to 16. */
export function workersPerVersionProblem(value: unknown, field = 'workers_per_version'): Problem {
  const { min, max } = SERVING_SETTING_LIMITS.workersPerVersion;
  if (within(value, SERVING_SETTING_LIMITS.workersPerVersion)) return undefined;
  return `Invalid value ${shownValue(value)} for parameter '${field}': use a whole number of workers from ${min} to ${max}, or null for automatic (from the task's vCPUs).`;
}

/** The batching fields as the APIs name them, each with its domain name and rule. */
export const BATCHING_FIELDS = {
  enabled: { key: 'enabled', problem: batchingEnabledProblem },
  max_batch_rows: { key: 'maxBatchRows', problem: maxBatchRowsProblem },
  max_wait_ms: { key: 'maxWaitMs', problem: maxWaitMsProblem },
} as const;

/**
 * The `batching` object of a request: only the fields of BATCHING_FIELDS, each valid or null
 * (null clears it). Null or absent as a whole is no problem (the caller decides what it means).
 */
export function batchingProblem(value: unknown, field = 'batching'): Problem {
  if (value === undefined || value === null) return undefined;
  const names = Object.keys(BATCHING_FIELDS).join(', ');
  if (typeof value !== 'object' || Array.isArray(value)) {
    return `Invalid value ${shownValue(value)} for parameter '${field}': use an object with any of ${names}, or null for the host's defaults.`;
  }
  for (const [key, item] of Object.entries(value)) {
    const rule = BATCHING_FIELDS[key as keyof typeof BATCHING_FIELDS];
    if (!rule) return `Unknown field '${quoted(key)}' in parameter '${field}': use ${names}.`;
    if (item !== null) {
      const problem = rule.problem(item, `${field}.${key}`);
      if (problem !== undefined) return problem;
    }
  }
  return undefined;
}

/** Checks tags given in one request (their count, each key and value); answers them as a map. */
export function checkTags(tags: readonly { key: string; value: string }[]): Record<string, string> {
  if (tags.length > LIMITS.tagsPerRequest) {
    throw invalidParameter(`At most ${LIMITS.tagsPerRequest} tags may be given at once; got ${tags.length}.`);
  }
  const out: Record<string, string> = {};
  for (const { key, value } of tags) {
    validateTag(key, value);
    out[key] = value;
  }
  return out;
}
