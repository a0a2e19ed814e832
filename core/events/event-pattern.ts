/**
 * EventBridge event patterns, for the subset mlserve's rules use: exact values, prefixes,
 * any-of lists and nested fields. The CDK app writes them into its rules; the local twin's bus
 * matches events against them as EventBridge would.
 */

/** One allowed value of a field: an exact value, or `{ prefix }` for strings that start with it. */
export type PatternValue = string | number | boolean | null | { readonly prefix: string };

/**
 * An event pattern in EventBridge's JSON form (`detail-type`, not CDK's `detailType`): each field
 * lists its allowed values (any of them matches), or nests a pattern for an object field.
 */
export interface EventPattern {
  readonly [field: string]: readonly PatternValue[] | EventPattern;
}

/**
 * Whether `event` (an EventBridge event as delivered: `source`, `detail-type`, `detail`, …)
 * matches `pattern`, with EventBridge's semantics for exact values, prefixes, any-of lists,
 * array fields (any element matches) and nested fields. A field the pattern names must be present.
 */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return false;
  const fields = event as Record<string, unknown>;
  return Object.entries(pattern).every(([field, expected]) => {
    const value = fields[field];
    if (!Array.isArray(expected)) return matchesPattern(expected as EventPattern, value);
    if (value === undefined) return false;
    const values = Array.isArray(value) ? value : [value];
    return values.some((v) => (expected as readonly PatternValue[]).some((allowed) => matchesValue(allowed, v)));
  });
}

function matchesValue(allowed: PatternValue, value: unknown): boolean {
  if (allowed !== null && typeof allowed === 'object') {
    return typeof value === 'string' && value.startsWith(allowed.prefix);
  }
  return allowed === value;
}
