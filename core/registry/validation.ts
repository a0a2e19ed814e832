/** Limits and rules on what the registry accepts, shared by every entry point. */
import { invalidParameter } from '../shared/errors';

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
} as const;

export function validateModelName(name: string, field = 'name'): void {
  if (name === '') throw invalidParameter(`Missing value for required parameter '${field}'.`);
  if (name.length > LIMITS.nameLength) {
    throw invalidParameter(
      `Registered model name is ${name.length} characters long; the limit is ${LIMITS.nameLength}.`,
    );
  }
  // Names appear as one segment of /model/<name>/<ref>/invocations.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[/\\\u0000-\u001f\u007f]/.test(name) || name === '.' || name === '..' || name.trim() !== name) {
    throw invalidParameter(
      `Invalid registered model name '${name}': it may not contain '/', '\\' or control characters, be '.' or '..', or start or end with spaces.`,
    );
  }
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

/** MLflow's tag key rules: a safe relative name of letters, digits and `_ - . space : /`. */
export function validateTagKey(key: string): void {
  if (key === '') throw invalidParameter("Missing value for required parameter 'key'.");
  if (!/^[/\w.\- :]*$/.test(key)) {
    throw invalidParameter(
      `Invalid tag name: '${key}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).`,
    );
  }
  const norm = normpath(key);
  if (norm !== key || norm === '.' || norm.startsWith('..') || norm.startsWith('/')) {
    throw invalidParameter(
      `Invalid tag name: '${key}'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '${norm}'`,
    );
  }
}

export function validateTag(key: string, value: string): void {
  validateTagKey(key);
  if (key.length > LIMITS.tagKeyLength) {
    throw invalidParameter(
      `Tag key '${key.slice(0, 40)}…' is ${key.length} characters long; the limit is ${LIMITS.tagKeyLength}.`,
    );
  }
  if (value.length > LIMITS.tagValueLength) {
    throw invalidParameter(
      `Tag value for key '${key}' is ${value.length} characters long; the limit is ${LIMITS.tagValueLength}.`,
    );
  }
}

export function validateDescription(description: string): void {
  if (description.length > LIMITS.descriptionLength) {
    throw invalidParameter(
      `Description is ${description.length} characters long; the limit is ${LIMITS.descriptionLength}.`,
    );
  }
}

export function validateAlias(alias: string): void {
  if (alias === '') throw invalidParameter('Registered model alias name cannot be empty.');
  if (!/^[\w-]+$/.test(alias)) {
    throw invalidParameter(
      `Invalid alias name: '${alias}'. Names may only contain alphanumerics, underscores (_), and dashes (-).`,
    );
  }
  if (alias.length > LIMITS.aliasLength) {
    throw invalidParameter(
      `Alias '${alias.slice(0, 40)}…' is ${alias.length} characters long; the limit is ${LIMITS.aliasLength}.`,
    );
  }
  if (alias.toLowerCase() === 'latest') {
    throw invalidParameter("'latest' alias name (case insensitive) is reserved.");
  }
  if (/^[vV]\d+$/.test(alias)) throw invalidParameter(`Version alias name '${alias}' is reserved.`);
}

/** Parses a version given as a string or number ("3", 3) into a positive integer. */
export function parseVersion(value: string | number, field = 'version'): number {
  const text = String(value).trim();
  if (!/^[0-9]+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw invalidParameter(`Parameter '${field}' must be a positive integer, got '${value}'.`);
  }
  return Number(text);
}
