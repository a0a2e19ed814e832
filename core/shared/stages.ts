/** A model version's stages: the registry's vocabulary, which its domain events carry too. */
export const STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;
export type Stage = (typeof STAGES)[number];
