import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './paths';

/** Debian's Python, which has numpy, pandas, scikit-learn, cloudpickle and onnx. */
export const PYTHON = '/usr/bin/python3';

export type SklearnKind =
  | 'iris-logreg'
  | 'diabetes-regressor'
  | 'slow'
  | 'mlflow1'
  | 'no-signature'
  | 'tensor-signature'
  /** Answers one summary value per request (not one per row): never batched. */
  | 'summary';
export type OnnxKind = 'iris-linear' | 'two-inputs';

function run(script: string, kind: string, outDir: string, env: Record<string, string> = {}): void {
  const result = spawnSync(PYTHON, [path.join(REPO_ROOT, 'test/fixtures/build', script), kind, outDir], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  if (result.status !== 0) throw new Error(`${script} ${kind} failed: ${result.stderr || result.error}`);
}

/** Trains a small scikit-learn model at test time and saves it as an MLflow model directory. */
export function trainSklearn(kind: SklearnKind, outDir: string): void {
  run('train_sklearn.py', kind, outDir);
}

/** Builds a small ONNX model at test time and saves it as an MLflow model directory. */
export function buildOnnx(kind: OnnxKind, outDir: string): void {
  run('build_onnx.py', kind, outDir);
}
