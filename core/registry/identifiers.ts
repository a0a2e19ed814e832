/**
 * The identifiers the APIs take, as zod schemas over the registry's rules (`validation.ts`):
 * the registry, serving and access route tables all build their parameters from these (and
 * `core/auth/identifiers.ts`), so a
 * value that create refuses is refused, with the same message, by every route — before any
 * of it reaches the table. A failed rule is a `custom` issue whose message is the whole answer.
 */
import { z } from 'zod';
import type { ServingBatchingChange } from './model';
import {
  aliasProblem,
  BATCHING_FIELDS,
  batchingProblem,
  descriptionProblem,
  modelNameProblem,
  type Problem,
  principalProblem,
  stageProblem,
  tagKeyProblem,
  tagValueProblem,
  versionProblem,
  workersPerVersionProblem,
} from './validation';

/** A string that must pass `rule`; the rule's problem becomes the issue's message. */
export function ruled(rule: (value: string) => Problem) {
  return z.string().superRefine((value, ctx) => {
    const problem = rule(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });
}

/** A registered model name, as `field` (`name`, `new_name`, `registered_model_name`). */
export const modelName = (field = 'name') => ruled((v) => modelNameProblem(v, field));

export const aliasName = () => ruled(aliasProblem);

export const tagKey = (field = 'key') => ruled((v) => tagKeyProblem(v, field));

export const tagValue = () => ruled((v) => tagValueProblem(v));

/** A `{key, value}` tag; a value over the limit is told with its key. */
export const tag = () =>
  z.object({ key: tagKey(), value: z.string() }).superRefine(({ key, value }, ctx) => {
    const problem = tagValueProblem(value, key);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, path: ['value'] });
  });

export const description = () => ruled(descriptionProblem);

/** A version number, sent as a string ("3", MLflow's protocol) or a number; parsed to a number. */
export const versionNumber = (field = 'version') =>
  z
    .union([z.string(), z.number()])
    .superRefine((value, ctx) => {
      const problem = versionProblem(value, field);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    })
    .transform((value) => Number(String(value).trim()));

/** A stage in any case (None, Staging, Production, Archived); kept as sent, the registry spells it. */
export const stageName = () => ruled(stageProblem);

/** One stage or a list of them (a query string repeats the key), as a list. */
export const stageList = () =>
  z.union([stageName(), z.array(stageName())]).transform((v) => (Array.isArray(v) ? v : [v]));

export const principalName = (field = 'principal') => ruled((v) => principalProblem(v, field));

/** A token's public id: the first 16 hex digits of its hash (`tokenIdOf` in core/auth/secrets.ts). */
export const tokenId = () =>
  ruled((v) =>
    /^[0-9a-f]{16}$/.test(v)
      ? undefined
      : `Invalid token_id '${v.length > 40 ? `${v.slice(0, 40)}…` : v}': a token id is 16 hexadecimal digits.`,
  );

/**
 * `batching` of update-cluster-config: `{"enabled", "max_batch_rows", "max_wait_ms"}`, any of
 * them, each a value or null (back to the host's default); null as a whole clears all three.
 * Parsed to the registry's change (`ServingBatchingChange`), or null.
 */
export const servingBatching = () =>
  z
    .unknown()
    .transform((value, ctx): ServingBatchingChange | null | undefined => {
      const problem = batchingProblem(value);
      if (problem !== undefined) {
        ctx.addIssue({ code: 'custom', message: problem });
        return z.NEVER;
      }
      if (value === undefined || value === null) return value;
      const change: Record<string, unknown> = {};
      for (const [field, item] of Object.entries(value)) {
        change[BATCHING_FIELDS[field as keyof typeof BATCHING_FIELDS].key] = item;
      }
      return change as ServingBatchingChange;
    })
    .optional();

/** `workers_per_version`: 1 to 16, or null for automatic (the host decides from the task's vCPUs). */
export const workersPerVersion = () =>
  z
    .unknown()
    .transform((value, ctx): number | null | undefined => {
      if (value === undefined || value === null) return value;
      const problem = workersPerVersionProblem(value);
      if (problem !== undefined) {
        ctx.addIssue({ code: 'custom', message: problem });
        return z.NEVER;
      }
      return value as number;
    })
    .optional();
