/** The access APIs' own identifier: a permission level, as a zod schema over the registry's rules. */
import { ruled } from '../registry/identifiers';
import { permissionLevelProblem } from '../registry/validation';
import { PERMISSION_LEVELS } from './levels';

export const permissionLevel = () => ruled((v) => permissionLevelProblem(v, PERMISSION_LEVELS));
