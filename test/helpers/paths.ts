import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/mlflow-2.17.2');
/** The iris model MLflow 2.17.2 saved (MLmodel, pickle, environment files, examples). */
export const IRIS_MODEL = path.join(FIXTURES, 'iris-sklearn');
