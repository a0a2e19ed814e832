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
    throw invalidParameter(`Registered model name is ${name.length} characters long; the limit is ${LIMITS.nameLength}.`);
  }
  // Names appear as one segment of /model/<name>/<ref>/invocations.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[/\\\u0000-\u001f\u007f]/.test(name) || name === '.' || name === '..' || name.trim() !== name) {
    throw invalidParameter(
      `Invalid registered model name '${name}': it may not contain '/', '\\' or control characters, be '.' or '..', or start or end with spaces.`,
    );
  }
}

export function validateTag(key: string, value: string): void {
  if (key === '') throw invalidParameter("Missing value for required parameter 'key'.");
  if (key.length > LIMITS.tagKeyLength) {
    throw invalidParameter(`Tag key '${key.slice(0, 40)}…' is ${key.length} characters long; the limit is ${LIMITS.tagKeyLength}.`);
  }
  if (value.length > LIMITS.tagValueLength) {
    throw invalidParameter(`Tag value for key '${key}' is ${value.length} characters long; the limit is ${LIMITS.tagValueLength}.`);
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
  if (alias === '') throw invalidParameter("Missing value for required parameter 'alias'.");
  if (alias.length > LIMITS.aliasLength) {
    throw invalidParameter(`Alias '${alias.slice(0, 40)}…' is ${alias.length} characters long; the limit is ${LIMITS.aliasLength}.`);
  }
  if (!/^[A-Za-z0-9_-]+$/.test(alias)) {
    throw invalidParameter(`Invalid alias name '${alias}': use only letters, digits, '_' and '-'.`);
  }
  if (alias.toLowerCase() === 'latest') {
    throw invalidParameter("'latest' alias name (case insensitive) is reserved.");
  }
  if (/^v\d+$/i.test(alias)) {
    throw invalidParameter(`Alias name cannot be of the form 'v<number>': '${alias}' would shadow a version.`);
  }
}

/** Parses a version given as a string or number ("3", 3) into a positive integer. */
export function parseVersion(value: string | number, field = 'version'): number {
  const text = String(value).trim();
  if (!/^[0-9]+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw invalidParameter(`Parameter '${field}' must be a positive integer version number, got '${value}'.`);
  }
  return Number(text);
}
