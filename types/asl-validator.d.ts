declare module 'asl-validator' {
  interface ValidationResult {
    isValid: boolean;
    errors: { 'Error code': string; Message: string }[];
    errorsText(separator?: string): string;
  }
  /** Validates an Amazon States Language definition (it annotates the object it is given). */
  export default function validator(definition: unknown, options?: Record<string, unknown>): ValidationResult;
}
