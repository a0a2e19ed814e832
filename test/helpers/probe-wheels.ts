/**
 * The probe package, built as wheels at test time: `mlserve_probe` at any version, a module with
 * VERSION and a model predicting it for each row. Model versions pinning different probe versions
 * need different environments, installable with no package index (`pip --no-index --find-links`).
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The image's Python, which builds the wheels and pickles the probe models. */
export const IMAGE_PYTHON = '/usr/bin/python3';

export interface ProbeWheels {
  /** The directory holding the wheels (for `--find-links`). */
  readonly wheels: string;
  /** The source of the first probe version: on PYTHONPATH, it lets `probeModelFile` pickle a probe model. */
  readonly source: string;
}

/** A pure-Python project at `src` (setuptools, no dependencies); `packages` is its setuptools package table. */
async function project(src: string, name: string, version: string, packages: string[]): Promise<void> {
  await writeFile(
    path.join(src, 'pyproject.toml'),
    [
      '[build-system]',
      'requires = ["setuptools"]',
      'build-backend = "setuptools.build_meta"',
      '[project]',
      `name = "${name}"`,
      `version = "${version}"`,
      ...packages,
      '',
    ].join('\n'),
  );
}

/** The probe package's source at `version`, under `dir`. */
export async function probePackage(dir: string, version: string): Promise<string> {
  const src = path.join(dir, `probe-${version}`);
  await mkdir(path.join(src, 'mlserve_probe'), { recursive: true });
  await project(src, 'mlserve_probe', version, ['[tool.setuptools]', 'packages = ["mlserve_probe"]']);
  await writeFile(
    path.join(src, 'mlserve_probe', '__init__.py'),
    [
      `VERSION = "${version}"`,
      '',
      'class VersionModel:',
      '    def predict(self, rows):',
      '        return [VERSION] * len(rows)',
      '',
    ].join('\n'),
  );
  return src;
}

async function buildWheel(src: string, wheels: string): Promise<void> {
  await run(
    IMAGE_PYTHON,
    ['-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '--no-index', '-w', wheels, src],
    {
      timeout: 120_000,
    },
  );
}

/** Builds a wheel of the probe package for each version into `dir/wheels`. */
export async function buildProbeWheels(dir: string, versions: readonly string[]): Promise<ProbeWheels> {
  const wheels = path.join(dir, 'wheels');
  let source: string | undefined;
  for (const version of versions) {
    const src = await probePackage(dir, version);
    await buildWheel(src, wheels);
    source ??= src;
  }
  if (!source) throw new Error('no probe version given');
  return { wheels, source };
}

/**
 * A wheel `mlserve_ballast==1.0` into `wheels` whose package is a copy of the pure-Python package
 * at `packageDir` (e.g. Debian's Pygments): something of a real package's size to install.
 */
export async function buildBallastWheel(dir: string, wheels: string, packageDir: string): Promise<void> {
  const src = path.join(dir, 'ballast');
  await cp(packageDir, path.join(src, 'mlserve_ballast'), {
    recursive: true,
    filter: (from) => !from.includes('__pycache__'),
  });
  await project(src, 'mlserve_ballast', '1.0', ['[tool.setuptools.packages.find]', 'include = ["mlserve_ballast*"]']);
  await buildWheel(src, wheels);
}

/** Writes `model.pkl` into `modelDir`: a cloudpickled mlserve_probe.VersionModel. */
export async function probeModelFile(modelDir: string, probe: ProbeWheels): Promise<void> {
  const pickle =
    'import cloudpickle, sys, mlserve_probe; open(sys.argv[1], "wb").write(cloudpickle.dumps(mlserve_probe.VersionModel()))';
  await run(IMAGE_PYTHON, ['-c', pickle, path.join(modelDir, 'model.pkl')], {
    env: { ...process.env, PYTHONPATH: probe.source },
  });
}

/** MLmodel of a probe model: the sklearn flavor's cloudpickle, and the pyfunc flavor's virtualenv. */
const PROBE_MLMODEL = [
  'flavors:',
  '  python_function:',
  '    env:',
  '      virtualenv: python_env.yaml',
  '    loader_module: mlflow.sklearn',
  '    model_path: model.pkl',
  '    predict_fn: predict',
  '  sklearn:',
  '    pickled_model: model.pkl',
  '    serialization_format: cloudpickle',
  'mlflow_version: 2.17.2',
  '',
].join('\n');

/**
 * A probe model in `modelDir` as MLflow logs one: its pickle, MLmodel, `requirements.txt` with
 * `requirements` (one per line) and a python_env.yaml that installs them.
 */
export async function writeProbeModel(
  modelDir: string,
  probe: ProbeWheels,
  requirements: readonly string[],
): Promise<void> {
  await mkdir(modelDir, { recursive: true });
  await probeModelFile(modelDir, probe);
  await writeFile(path.join(modelDir, 'MLmodel'), PROBE_MLMODEL);
  await writeFile(path.join(modelDir, 'requirements.txt'), `${requirements.join('\n')}\n`);
  await writeFile(
    path.join(modelDir, 'python_env.yaml'),
    'build_dependencies:\n- pip\ndependencies:\n- -r requirements.txt\n',
  );
}

/**
 * A model host's settings for per-version environments installed by pip from `findLinks` alone
 * (no package index) and shared through an archive in a local S3-API server (s3rver's own keys).
 */
export function pipEnvironmentSettings(options: {
  readonly findLinks: string;
  readonly envCache: string;
  readonly bucket: string;
  readonly s3Endpoint: string;
}): Record<string, string> {
  return {
    MLSERVE_PYTHON_ENV: 'per-version',
    MLSERVE_PYTHON_INSTALLER: 'pip',
    MLSERVE_PIP_FIND_LINKS: options.findLinks,
    MLSERVE_PIP_NO_INDEX: 'true',
    MLSERVE_ENV_SYSTEM_PACKAGES: 'true',
    MLSERVE_ENV_CACHE: options.envCache,
    MLSERVE_ENV_ARCHIVE: `s3://${options.bucket}/environments`,
    MLSERVE_WORKERS_PER_VERSION: '1',
    AWS_ENDPOINT_URL_S3: options.s3Endpoint,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  };
}
