/**
 * Bounds on JSON a caller sends, checked on the raw bytes before anything recursive (a
 * parser's consumers, JSON.stringify, a Python worker's decoder) sees the value. Deeply nested
 * bodies are the cheapest way to exhaust a stack; this scan is iterative and costs one pass.
 */

/** Deepest nesting of arrays and objects a request may have (a 4-d image batch inside `inputs` is 6). */
export const DEFAULT_MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * The nesting depth of the JSON text in `bytes`, counting `[` and `{` outside strings; stops
 * early and answers `limit + 1` once the depth passes `limit`. The text need not be valid
 * JSON: the parser that runs afterwards reports syntax errors.
 */
export function jsonDepth(bytes: Uint8Array, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  const length = bytes.length;
  for (let i = 0; i < length; i++) {
    const byte = bytes[i] as number;
    if (byte === QUOTE) {
      // Skip the string: to the next quote not escaped by an odd run of backslashes.
      for (i++; i < length; i++) {
        const c = bytes[i] as number;
        if (c === BACKSLASH) i++;
        else if (c === QUOTE) break;
      }
    } else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) {
      depth--;
    }
  }
  return deepest;
}

/** Whether `text` (a string) nests deeper than `limit`. */
export function jsonTooDeep(text: string | Uint8Array, limit: number): boolean {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  return jsonDepth(bytes, limit) > limit;
}

/** The message for a body refused for its depth, the same at every entry point. */
export function tooDeepMessage(limit: number): string {
  return `The request body nests arrays or objects deeper than ${limit} levels, the limit; flatten it.`;
}

/**
 * Whether every string in a parsed JSON value is well-formed Unicode (no lone UTF-16
 * surrogates, which `JSON.parse` lets through from `\ud800`-style escapes). Iterative.
 */
export function allStringsWellFormed(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === 'string') {
      if (!item.isWellFormed()) return false;
    } else if (Array.isArray(item)) {
      for (const element of item) stack.push(element);
    } else if (item !== null && typeof item === 'object') {
      for (const [key, element] of Object.entries(item)) {
        if (!key.isWellFormed()) return false;
        stack.push(element);
      }
    }
  }
  return true;
}
