/** How every schema failure is told: `path: message` for each problem, `; `-separated. */
import type { z } from 'zod';

export function schemaProblems(error: z.ZodError, root = '(root)'): string {
  return error.issues.map((i) => `${i.path.join('.') || root}: ${i.message}`).join('; ');
}
