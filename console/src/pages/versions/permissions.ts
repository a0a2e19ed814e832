/** Which version controls the caller may use: the levels lambdas/registry/routes.ts requires. */
import type { ModelVersionJson } from '../../api/registry';
import type { Abilities } from '../model';

export const STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;
export type Stage = (typeof STAGES)[number];

/**
 * The stages the caller may move a version to: moving into or out of Production needs
 * CAN_MANAGE_PRODUCTION_VERSIONS, any other move CAN_MANAGE_STAGING_VERSIONS.
 */
export function stageTargets(version: ModelVersionJson, abilities: Abilities): readonly Stage[] {
  const production = abilities.can('CAN_MANAGE_PRODUCTION_VERSIONS');
  if (!abilities.can('CAN_MANAGE_STAGING_VERSIONS')) return [];
  if (version.current_stage === 'Production' && !production) return [];
  return STAGES.filter((s) => s !== version.current_stage && (production || s !== 'Production'));
}

/** Setting and deleting an alias: `registered-models/alias` requires CAN_MANAGE_PRODUCTION_VERSIONS. */
export const canManageAliases = (abilities: Abilities) => abilities.can('CAN_MANAGE_PRODUCTION_VERSIONS');

/** Editing a version's description: `model-versions/update` requires CAN_EDIT. */
export const canEditDescription = (abilities: Abilities) => abilities.can('CAN_EDIT');
