/** Permission levels in the retired product's words, and what each adds to the one before. */
import { PERMISSION_LEVELS, type PermissionLevel } from '../../../../core/auth/levels';

export const LEVEL_LABELS: Record<PermissionLevel, string> = {
  CAN_READ: 'Can Read',
  CAN_EDIT: 'Can Edit',
  CAN_MANAGE_STAGING_VERSIONS: 'Can Manage Staging Versions',
  CAN_MANAGE_PRODUCTION_VERSIONS: 'Can Manage Production Versions',
  CAN_MANAGE: 'Can Manage',
};

export const LEVEL_HINTS: Record<PermissionLevel, string> = {
  CAN_READ: 'Read the model and its versions, see its serving, and call it.',
  CAN_EDIT: 'Can Read, and register versions and edit descriptions and tags.',
  CAN_MANAGE_STAGING_VERSIONS: 'Can Edit, and move versions between None, Staging and Archived.',
  CAN_MANAGE_PRODUCTION_VERSIONS:
    'Can Manage Staging Versions, and move versions into and out of Production, and set or delete aliases.',
  CAN_MANAGE: 'Everything: also serving, permissions, renaming and deleting the model.',
};

export const LEVEL_OPTIONS = PERMISSION_LEVELS.map((level) => ({ value: level, label: LEVEL_LABELS[level] }));
