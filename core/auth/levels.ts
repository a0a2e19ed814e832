/** Permission levels on a registered model, as the retired product named them, weakest first. */
export const PERMISSION_LEVELS = [
  'CAN_READ',
  'CAN_EDIT',
  'CAN_MANAGE_STAGING_VERSIONS',
  'CAN_MANAGE_PRODUCTION_VERSIONS',
  'CAN_MANAGE',
] as const;
export type PermissionLevel = (typeof PERMISSION_LEVELS)[number];

export function isPermissionLevel(value: unknown): value is PermissionLevel {
  return typeof value === 'string' && (PERMISSION_LEVELS as readonly string[]).includes(value);
}

/** Whether `held` includes everything `needed` allows (each level includes those before it). */
export function includes(held: PermissionLevel | undefined, needed: PermissionLevel): boolean {
  return held !== undefined && PERMISSION_LEVELS.indexOf(held) >= PERMISSION_LEVELS.indexOf(needed);
}
