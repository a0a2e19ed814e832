import { execFile } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../container/src/runtimes/create-runtime';
import { resolveEnvironment } from '../../container/src/runtimes/env-spec';
import {
  type EnvironmentEvent,
  type PythonEnvironmentOptions,
  pythonFor,
} from '../../container/src/runtimes/python-env';
import type { LoadSpec, ModelRuntime } from '../../container/src/runtimes/runtime';
import type { HostSettings } from '../../container/src/settings';
import { IRIS_MODEL } from '../helpers/paths';
import { buildProbeWheels, IMAGE_PYTHON, type ProbeWheels, probeModelFile } from '../helpers/probe-wheels';

const PYTHON = IMAGE_PYTHON;
const run = promisify(execFile);

let dir: string;
/** A directory with no executables: the PATH interpreters are looked for on, unless a test says otherwise. */
let emptyPath: string;
let iris: string;
/** The image Python's version, e.g. `3.11.2`, and its major.minor. */
let imageVersion: string;
let imageMinor: string;
const runtimes: ModelRuntime[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mlserve-envs-'));
  emptyPath = path.join(dir, 'empty-path');
  await mkdir(emptyPath);
  iris = path.join(dir, 'iris');
  await cp(IRIS_MODEL, iris, { recursive: true });
  imageVersion = (await run(PYTHON, ['-c', 'import platform; print(platform.python_version())'])).stdout.trim();
  imageMinor = imageVersion.split('.').slice(0, 2).join('.');
});

afterAll(async () => {
  await Promise.all(runtimes.map((r) => r.unload()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

const options = (over: Partial<PythonEnvironmentOptions> = {}): PythonEnvironmentOptions => ({
  mode: 'per-version',
  python: PYTHON,
  cacheDir: path.join(dir, 'envs'),
  uv: '/nonexistent/uv',
  installer: 'auto',
  pythonDownloads: false,
  systemPackages: false,
  allowDefaultsChannel: false,
  index: { noIndex: false },
  searchPath: emptyPath,
  ...over,
});

/** The rejection of a promise that must reject. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: Error) => error,
  );
}

/** An executable shell script at `dir/name`. */
async function script(name: string, body: string): Promise<string> {
  const file = path.join(dir, name);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

/** A stand-in for uv: logs its arguments, then runs `body`. */
async function fakeUv(name: string, body: string): Promise<{ uv: string; log: string }> {
  const log = path.join(dir, `${name}.log`);
  const uv = await script(name, `echo "$@" >> '${log}'\n${body}`);
  return { uv, log };
}

const calls = async (log: string) => (await readFile(log, 'utf8')).trim().split('\n');

/** A model directory holding only the given environment files. */
async function modelWith(name: string, files: Record<string, string>): Promise<string> {
  const modelDir = path.join(dir, name);
  await mkdir(modelDir, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(path.join(modelDir, file), text);
  return modelDir;
}

describe('pythonFor', () => {
  it('returns the system interpreter in system mode', async () => {
    const choice = await pythonFor(iris, options({ mode: 'system', python: '/opt/python' }));
    expect(choice).toEqual({ python: '/opt/python', notes: [] });
  });

  it('builds one virtualenv per environment with uv when uv is found, and reuses it', async () => {
    const { uv, log } = await fakeUv(
      'uv-ok',
      'if [ "$1" = venv ]; then mkdir -p "$2/bin" && ln -s /usr/bin/python3 "$2/bin/python"; fi',
    );
    const cacheDir = path.join(dir, 'envs-ok');
    const { python } = await pythonFor(iris, options({ uv, cacheDir }));
    expect(python.startsWith(`${cacheDir}/`)).toBe(true);
    expect(python.endsWith('/bin/python')).toBe(true);
    const envDir = path.dirname(path.dirname(python));
    const requirements = path.join(envDir, 'mlserve-requirements.txt');
    expect(await calls(log)).toEqual([
      `venv ${envDir} --python ${PYTHON}`,
      `pip install --python ${python} -r ${requirements}`,
    ]);
    expect(await readFile(requirements, 'utf8')).toBe(await readFile(path.join(iris, 'requirements.txt'), 'utf8'));
    expect((await pythonFor(iris, options({ uv, cacheDir }))).python).toBe(python);
    expect(await calls(log)).toHaveLength(2);
  });

  it('rejects with the failing command and its output', async () => {
    const { uv } = await fakeUv('uv-fails', 'echo "error: could not create the virtualenv" >&2\nexit 2');
    const error = await failure(pythonFor(iris, options({ uv, cacheDir: path.join(dir, 'envs-fail') })));
    expect(error.message).toMatch(/could not build the Python environment for .*\/iris: /);
    expect(error.message).toMatch(/venv .* --python \/usr\/bin\/python3` exited with code 2/);
    expect(error.message).toContain('error: could not create the virtualenv');
    expect(await readdir(path.join(dir, 'envs-fail'))).toEqual([]);
  });

  it('rejects naming the command when uv is the installer and is missing', async () => {
    const error = await failure(pythonFor(iris, options({ installer: 'uv', uv: '/nonexistent/uv' })));
    expect(error.message).toMatch(/could not build the Python environment for .*\/iris/);
    expect(error.message).toMatch(/`\/nonexistent\/uv venv .*` could not run: spawn \/nonexistent\/uv ENOENT/);
  });

  it('refuses a conda-only environment on the defaults channel unless allowed', async () => {
    const modelDir = await modelWith('conda-only', {
      'conda.yaml': 'channels:\n- defaults\ndependencies:\n- python=3.10.4\n- pip:\n  - scikit-learn==1.2.1\n',
    });
    const refused = await failure(pythonFor(modelDir, options()));
    expect(refused.message).toMatch(/conda\.yaml lists the Anaconda channel 'defaults'/);
    const allowed = await failure(pythonFor(modelDir, options({ allowDefaultsChannel: true })));
    expect(allowed.message).toMatch(/^the model needs Python 3\.10 \(conda\.yaml: python=3\.10\.4\)/);
  });
});

describe('the model’s Python version', () => {
  const NEEDS_38 = { 'requirements.txt': 'scikit-learn\n', 'python_env.yaml': 'python: 3.8.8\n' };

  it('fails the version when no interpreter of its major.minor is here and downloads are off', async () => {
    expect(imageMinor).not.toBe('3.8');
    const modelDir = await modelWith('needs-38', NEEDS_38);
    const events: EnvironmentEvent[] = [];
    const error = await failure(pythonFor(modelDir, options({ onEnvironment: (e) => events.push(e) })));
    // Nothing was built: the resolver's refusal is the version's one environment event.
    expect(events).toEqual([{ type: 'ENV_BUILD_FAILED', message: error.message }]);
    expect(error.message).toBe(
      `the model needs Python 3.8 (python_env.yaml: 3.8.8); this image has Python ${imageMinor} and Python ` +
        'downloads are off (MLSERVE_PYTHON_DOWNLOADS)',
    );
    const pip = await failure(pythonFor(modelDir, options({ pythonDownloads: true, installer: 'pip' })));
    expect(pip.message).toMatch(/this image has Python .* and Python downloads need uv, and the installer is pip/);
  });

  it('takes the image’s interpreter for any patch release of its major.minor', async () => {
    const modelDir = await modelWith('other-patch', {
      'requirements.txt': 'scikit-learn\n',
      'python_env.yaml': `python: ${imageMinor}.99\n`,
    });
    const spec = await resolveEnvironment(modelDir, options());
    expect(spec).toMatchObject({ pythonVersion: imageMinor, interpreter: PYTHON, installer: 'pip' });
  });

  it('finds python3.X on PATH, skipping one that does not run or is another version', async () => {
    const bin = path.join(dir, 'bin-38');
    await script('bin-shim/python3.8', 'echo "pyenv: python3.8: command not found" >&2\nexit 127');
    await script('bin-wrong/python3.8', 'echo 3.9.18; echo /opt/wrong/python3.9');
    const real = await script('bin-38/python3.8', `echo 3.8.18; echo ${bin}/python3.8`);
    const searchPath = ['bin-shim', 'bin-wrong', 'bin-38'].map((d) => path.join(dir, d)).join(path.delimiter);
    const spec = await resolveEnvironment(await modelWith('needs-38-found', NEEDS_38), options({ searchPath }));
    expect(spec).toMatchObject({ pythonVersion: '3.8', interpreter: real, pythonDeclared: 'python_env.yaml: 3.8.8' });
  });

  it('has uv install a missing Python when downloads are allowed', async () => {
    const installed = path.join(dir, 'uv-python-installed');
    const { uv, log } = await fakeUv(
      'uv-downloads',
      [
        'case "$1 $2" in',
        `  "python find") [ -f '${installed}' ] && echo ${PYTHON} && exit 0; exit 2 ;;`,
        `  "python install") touch '${installed}' ;;`,
        '  "venv "*) mkdir -p "$2/bin" && ln -s /usr/bin/python3 "$2/bin/python" ;;',
        'esac',
      ].join('\n'),
    );
    const modelDir = await modelWith('needs-38-download', NEEDS_38);
    const { python } = await pythonFor(modelDir, options({ uv, pythonDownloads: true }));
    const envDir = path.dirname(path.dirname(python));
    expect(await calls(log)).toEqual([
      'python find 3.8',
      'python install 3.8',
      'python find 3.8',
      `venv ${envDir} --python ${PYTHON}`,
      `pip install --python ${python} -r ${envDir}/mlserve-requirements.txt`,
    ]);
  });
});

describe('building with pip from a local wheel directory (no package index)', () => {
  let probe: ProbeWheels;
  let versions = 0;

  /** A model version whose pickle is a mlserve_probe.VersionModel, with the given environment files. */
  async function probeModel(name: string, files: Record<string, string>): Promise<LoadSpec> {
    const modelDir = await modelWith(name, files);
    await probeModelFile(modelDir, probe);
    const flavors = {
      python_function: { loader_module: 'mlflow.sklearn', model_path: 'model.pkl', predict_fn: 'predict' },
      sklearn: { pickled_model: 'model.pkl', serialization_format: 'cloudpickle' },
    };
    versions += 1;
    return { modelName: 'probe', version: versions, modelDir, artifact: { flavors, mlflowVersion: '2.17.2' } };
  }

  const python = (over: Partial<HostSettings['python']> = {}): HostSettings['python'] => ({
    interpreter: PYTHON,
    mode: 'per-version',
    envCache: path.join(dir, 'pip-envs'),
    uv: '/nonexistent/uv',
    installer: 'pip',
    pythonDownloads: false,
    systemPackages: true,
    index: { findLinks: probe.wheels, noIndex: true },
    allowDefaultsChannel: false,
    loader: 'sklearn',
    ...over,
  });

  /** Each version's environment events, by version number. */
  const envEvents = new Map<number, EnvironmentEvent[]>();

  async function serve(spec: LoadSpec, settings = python()): Promise<{ runtime: ModelRuntime; notes: string[] }> {
    const notes: string[] = [];
    const events: EnvironmentEvent[] = [];
    envEvents.set(spec.version, events);
    const info = (message: string, extra?: { note?: string }) => {
      if (message === 'environment' && extra?.note) notes.push(extra.note);
    };
    const logger = { info } as unknown as Logger;
    const runtime = await createRuntime(spec, {
      python: settings,
      workers: 1,
      logger,
      onWorkerEvent: () => {},
      onEnvironmentEvent: (event) => events.push(event),
    });
    runtimes.push(runtime);
    await runtime.load();
    return { runtime, notes };
  }

  const rows = { kind: 'dataframe', columns: ['x'], rows: [[1], [2]] } as const;

  beforeAll(async () => {
    probe = await buildProbeWheels(dir, ['1.0', '2.0']);
  }, 120_000);

  it('serves two versions of one model, each with the probe version it pins', async () => {
    const pythonEnv = `python: ${imageVersion}\nbuild_dependencies:\n- pip\ndependencies:\n- -r requirements.txt\n`;
    const v1 = await probeModel('probe-v1', {
      'requirements.txt': 'mlserve_probe==1.0\n',
      'python_env.yaml': pythonEnv,
    });
    const v2 = await probeModel('probe-v2', {
      'requirements.txt': 'mlserve_probe==2.0\n',
      'python_env.yaml': pythonEnv,
    });
    const [one, two] = await Promise.all([serve(v1), serve(v2)]);
    expect(await one.runtime.predict(rows)).toEqual({ predictions: ['1.0', '1.0'] });
    expect(await two.runtime.predict(rows)).toEqual({ predictions: ['2.0', '2.0'] });
    const envs = await readdir(path.join(dir, 'pip-envs'));
    expect(envs).toHaveLength(2);

    // A third version with the same environment reuses the first one's, built once.
    const marker = path.join(dir, 'pip-envs', envs[0] as string, '.mlserve-ready');
    const builtAt = (await stat(marker)).mtimeMs;
    const v3 = await probeModel('probe-v3', {
      'requirements.txt': 'mlserve_probe==1.0\n',
      'python_env.yaml': pythonEnv,
    });
    const three = await serve(v3);
    expect((await three.runtime.predict(rows)).predictions).toHaveLength(2);
    expect(envEvents.get(v1.version)?.map((e) => e.type)).toEqual(['ENV_BUILDING', 'ENV_BUILT']);
    expect(envEvents.get(v1.version)?.[0]?.message).toBe('building the environment from requirements.txt with pip');
    // An environment already on the task's disk is no news: nothing recorded.
    expect(envEvents.get(v3.version)).toEqual([]);
    expect(await readdir(path.join(dir, 'pip-envs'))).toHaveLength(2);
    expect((await stat(marker)).mtimeMs).toBe(builtAt);
  }, 180_000);

  it('installs a conda-only environment’s conda dependencies, logging what it skipped', async () => {
    const condaYaml = [
      'channels:',
      '- conda-forge',
      'dependencies:',
      `- python=${imageVersion}`,
      '- pip',
      '- mkl=2021.4.0',
      '- mlserve_probe=2.0=py_0',
      '',
    ].join('\n');
    const spec = await probeModel('probe-conda', { 'conda.yaml': condaYaml });
    const { runtime, notes } = await serve(spec);
    expect(await runtime.predict(rows)).toEqual({ predictions: ['2.0', '2.0'] });
    expect(notes).toEqual([
      'pip: installer tooling (skipped)',
      'mkl: a native library (pip wheels bundle their BLAS) (skipped)',
    ]);
  }, 180_000);

  it('fails a version whose requirement is not in the wheel directory, naming it', async () => {
    const spec = await probeModel('probe-missing', { 'requirements.txt': 'mlserve_probe==3.0\n' });
    const error = await failure(serve(spec));
    expect(error.message).toMatch(/could not build the Python environment for .*probe-missing: /);
    expect(error.message).toMatch(/No matching distribution found for mlserve_probe==3\.0/);
    const events = envEvents.get(spec.version) ?? [];
    expect(events.map((e) => e.type)).toEqual(['ENV_BUILDING', 'ENV_BUILD_FAILED']);
    expect(events[1]?.message).toMatch(/No matching distribution found for mlserve_probe==3\.0/);
  }, 180_000);

  it('never shows the index URL or its credentials in an error', async () => {
    const url = 'https://deploy:s3cr3t-t0ken@pypi.example.com/simple';
    // The image Python, except that its pip prints the index it was given and fails.
    const image = await script(
      'image-python/python3',
      `if [ "$1" = -m ] && [ "$2" = pip ]; then echo "Looking in indexes: $PIP_INDEX_URL" >&2; exit 1; fi\nexec ${PYTHON} "$@"`,
    );
    const spec = await probeModel('probe-index', { 'requirements.txt': 'mlserve_probe==1.0\n' });
    const settings = python({
      interpreter: image,
      index: { url, noIndex: false },
      envCache: path.join(dir, 'index-envs'),
    });
    const error = await failure(serve(spec, settings));
    expect(error.message).toContain('Looking in indexes: <hidden>');
    expect(error.message).not.toContain('s3cr3t');
    expect(error.message).not.toContain('pypi.example.com');
    const shown = JSON.stringify(envEvents.get(spec.version));
    expect(shown).toContain('ENV_BUILD_FAILED');
    expect(shown).not.toContain('s3cr3t');
    expect(shown).not.toContain('pypi.example.com');
  }, 180_000);
});
