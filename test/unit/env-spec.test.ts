import { describe, expect, it } from 'vitest';
import { condaToPip } from '../../container/src/runtimes/conda-deps';
import { maskSecrets } from '../../container/src/runtimes/env-commands';
import {
  checkCondaChannels,
  condaRequirements,
  declaredEnvironment,
  type EnvironmentSpec,
  environmentKey,
} from '../../container/src/runtimes/env-spec';
import { readIndexUrlSecret, type SecretReader } from '../../container/src/runtimes/package-index';

/** The conda.yaml of the retired product's documentation (a model logged before MLflow 1.18). */
const SEED_CONDA_YAML = [
  'channels:',
  '- defaults',
  'dependencies:',
  '- python=3.8.8',
  '- pip',
  '- pip:',
  '    - mlflow',
  '    - scikit-learn==0.23.2',
  '    - cloudpickle==1.6.0',
  'name: mlflow-env',
  '',
].join('\n');

const conda = (...dependencies: string[]) =>
  `channels:\n- conda-forge\ndependencies:\n${dependencies.map((d) => `- ${JSON.stringify(d)}\n`).join('')}`;

describe('conda.yaml as pip requirements', () => {
  it('reads the seeds’ example: Python 3.8.8, the pip list, pip itself skipped with a note', () => {
    expect(() => declaredEnvironment({ condaYaml: SEED_CONDA_YAML }, false)).toThrow(
      /conda\.yaml lists the Anaconda channel 'defaults'/,
    );
    expect(declaredEnvironment({ condaYaml: SEED_CONDA_YAML }, true)).toEqual({
      source: 'conda.yaml',
      requirements: 'mlflow\nscikit-learn==0.23.2\ncloudpickle==1.6.0\n',
      python: { version: '3.8.8', declaredIn: 'conda.yaml: python=3.8.8' },
      notes: ['pip: installer tooling (skipped)'],
    });
  });

  it.each([
    // name renames
    ['pytorch', 'torch'],
    ['pytorch=1.13.1', 'torch==1.13.1'],
    ['py-xgboost==1.7.3', 'xgboost==1.7.3'],
    ['pyyaml=6.0', 'PyYAML==6.0.*'],
    ['tensorflow-gpu=2.4.1', 'tensorflow==2.4.1'],
    ['tensorflow-base>=2.10', 'tensorflow>=2.10'],
    ['opencv=4.6.0', 'opencv-python==4.6.0'],
    ['msgpack-python=1.0.4', 'msgpack==1.0.4'],
    ['matplotlib-base=3.7.1', 'matplotlib==3.7.1'],
    ['python-graphviz', 'graphviz'],
    // same name on PyPI
    ['scikit-learn=1.2.1', 'scikit-learn==1.2.1'],
    ['python-dateutil=2.8.2', 'python-dateutil==2.8.2'],
    ['pandas', 'pandas'],
    // pins
    ['numpy==1.21.2', 'numpy==1.21.2'],
    ['numpy>=1.21', 'numpy>=1.21'],
    ['numpy >=1.21,<2', 'numpy>=1.21,<2'],
    ['numpy=1.21.2=py38h20f2e39_0', 'numpy==1.21.2'],
    ['numpy==1.21.2=py38h20f2e39_0', 'numpy==1.21.2'],
    ['numpy 1.21.2 py38h20f2e39_0', 'numpy==1.21.2'],
    ['numpy=1.21', 'numpy==1.21.*'],
    ['numpy=1.21.*', 'numpy==1.21.*'],
    ['numpy 1.21.*', 'numpy==1.21.*'],
    ['numpy=*', 'numpy'],
    ['conda-forge::lightgbm=3.3.5', 'lightgbm==3.3.5'],
    ["numpy[version='>=1.21']", 'numpy>=1.21'],
  ])('%s → %s', (spec, requirement) => {
    const result = condaToPip(spec);
    expect(result).toMatchObject({ requirement });
  });

  it.each([
    'pip',
    'setuptools=66.1.1',
    'wheel',
    'mkl=2021.4.0',
    'mkl-service',
    'libgcc-ng=12.2.0',
    'libstdcxx-ng',
    '_libgcc_mutex=0.1=conda_forge',
    '_openmp_mutex',
    'ld_impl_linux-64=2.40',
    'gcc_linux-64',
    'gxx',
    'cudatoolkit=11.3.1',
    'cudnn=8.2.1',
    'cuda-nvcc',
    'libcublas',
    'ca-certificates',
    'openssl=3.0.8',
    'zlib',
    'tzdata',
    'python_abi=3.8=2_cp38',
  ])('skips %s with a note', (spec) => {
    const result = condaToPip(spec);
    expect(result).toEqual({ skipped: expect.stringMatching(/^[\w.-]+: \S/) });
  });

  it('keeps a package whose conda version set has no pip form, unpinned, with a note', () => {
    expect(condaToPip('numpy 1.21|1.22')).toEqual({
      requirement: 'numpy',
      note: "numpy 1.21|1.22: conda's version set '1.21|1.22' has no pip form; installed unpinned",
    });
  });

  it.each([
    [
      'conda-only GPU environment',
      conda('python=3.9.16', 'pytorch=1.13.1=py3.9_cuda11.7_cudnn8.5.0_0', 'cudatoolkit=11.7', 'mkl', 'pip'),
      'torch==1.13.1\n',
      '3.9.16',
      ['pytorch is torch on PyPI', 'cudatoolkit: ', 'mkl: ', 'pip: '],
    ],
    [
      'conda packages then the pip list',
      `${conda('python=3.10', 'py-xgboost=1.7.3', 'pyyaml', 'libgcc-ng')}- pip:\n  - mlflow==2.17.2\n`,
      'xgboost==1.7.3\nPyYAML\nmlflow==2.17.2\n',
      '3.10',
      ['py-xgboost is xgboost on PyPI', 'libgcc-ng: '],
    ],
    ['no Python pin', conda('python>=3.8', 'scikit-learn'), 'scikit-learn\n', undefined, ['python>=3.8: ']],
  ])('%s', (_, text, requirements, python, notes) => {
    const result = condaRequirements(text);
    expect(`${result.requirements.join('\n')}\n`).toBe(requirements);
    expect(result.python?.version).toBe(python);
    expect(result.notes).toHaveLength(notes.length);
    notes.forEach((note, i) => {
      expect(result.notes[i]?.startsWith(note)).toBe(true);
    });
  });
});

describe('which file a version’s environment comes from', () => {
  const requirementsTxt = 'scikit-learn==1.2.1\n';
  const pythonEnvYaml = 'python: 3.10\nbuild_dependencies:\n- pip\ndependencies:\n- pandas==2.0.3\n';
  const condaYaml = conda('python=3.8.8', 'numpy=1.21');

  it.each([
    ['requirements.txt first', { requirementsTxt, pythonEnvYaml, condaYaml }, 'requirements.txt', requirementsTxt],
    ['then python_env.yaml', { pythonEnvYaml, condaYaml }, 'python_env.yaml', 'pandas==2.0.3\n'],
    ['then conda.yaml', { condaYaml }, 'conda.yaml', 'numpy==1.21.*\n'],
  ])('%s', (_, files, source, requirements) => {
    expect(declaredEnvironment(files, false)).toMatchObject({ source, requirements });
  });

  it('takes the Python version from python_env.yaml (as written), else conda.yaml’s pin, else none', () => {
    const fromPythonEnv = declaredEnvironment({ requirementsTxt, pythonEnvYaml, condaYaml }, false);
    expect(fromPythonEnv?.python).toEqual({ version: '3.10', declaredIn: 'python_env.yaml: 3.10' });
    const fromConda = declaredEnvironment({ requirementsTxt, condaYaml }, false);
    expect(fromConda?.python).toEqual({ version: '3.8.8', declaredIn: 'conda.yaml: python=3.8.8' });
    expect(declaredEnvironment({ requirementsTxt }, false)?.python).toBeUndefined();
    expect(declaredEnvironment({}, false)).toBeUndefined();
  });

  it('checks conda.yaml’s channels only when its packages are installed', () => {
    expect(declaredEnvironment({ requirementsTxt, condaYaml: SEED_CONDA_YAML }, false)?.python?.version).toBe('3.8.8');
  });

  it('keys environments by requirements, Python, interpreter, platform and system packages only', () => {
    const spec: EnvironmentSpec = {
      requirements: requirementsTxt,
      pythonVersion: '3.11',
      platform: 'linux-x64',
      systemPackages: false,
      interpreter: '/usr/bin/python3',
      installer: 'pip',
      modelDir: '/models/a',
      source: 'requirements.txt',
      notes: [],
    };
    const key = environmentKey(spec);
    expect(key).toMatch(/^[0-9a-f]{24}$/);
    expect(environmentKey({ ...spec, modelDir: '/models/b', installer: 'uv', source: 'conda.yaml' })).toBe(key);
    for (const change of [
      { requirements: 'scikit-learn==1.2.2\n' },
      { pythonVersion: '3.10' },
      { platform: 'linux-arm64' },
      { systemPackages: true },
      { interpreter: undefined },
    ]) {
      expect(environmentKey({ ...spec, ...change })).not.toBe(key);
    }
  });
});

describe('checkCondaChannels', () => {
  it.each([
    'channels:\n- defaults\n',
    'channels:\n- conda-forge\n- https://repo.anaconda.com/pkgs/main\n',
    'channels:\n- https://conda.anaconda.org/anaconda\n',
  ])('refuses Anaconda channels: %j', (text) => {
    expect(() => checkCondaChannels(text, false)).toThrow(/Anaconda channel/);
    expect(() => checkCondaChannels(text, true)).not.toThrow();
  });

  it.each([
    'channels:\n- conda-forge\n',
    'channels:\n- https://conda.anaconda.org/conda-forge\n',
    'dependencies:\n- python=3.11\n',
  ])('accepts %j', (text) => {
    expect(() => checkCondaChannels(text, false)).not.toThrow();
  });

  it('says when conda.yaml is not YAML', () => {
    expect(() => checkCondaChannels('channels: [defaults', false)).toThrow(/conda\.yaml is not valid YAML/);
  });
});

describe('the package index', () => {
  const URL = 'https://deploy:s3cr3t-t0ken@pypi.example.com/simple';

  it('masks the index URL and any URL’s credentials in text shown', () => {
    const text = `Looking in indexes: ${URL}\nfetching https://bob:hunter2@other.example.com/x.whl`;
    const masked = maskSecrets(text, [URL]);
    expect(masked).toBe('Looking in indexes: <hidden>\nfetching https://***@other.example.com/x.whl');
    expect(maskSecrets(`pip says https://deploy:****@pypi.example.com/simple`)).not.toContain('deploy');
  });

  const stub = (answer: () => Promise<{ SecretString?: string }>): SecretReader & { asked: string[] } => {
    const asked: string[] = [];
    return {
      asked,
      send: (command) => {
        asked.push(String(command.input.SecretId));
        return answer();
      },
    };
  };
  const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:pip-index-AbCdEf';

  it('reads the index URL from a secret: a string, or JSON with a url', async () => {
    const plain = stub(async () => ({ SecretString: ` ${URL}\n` }));
    expect(await readIndexUrlSecret(plain, ARN)).toBe(URL);
    expect(plain.asked).toEqual([ARN]);
    expect(
      await readIndexUrlSecret(
        stub(async () => ({ SecretString: JSON.stringify({ url: URL }) })),
        ARN,
      ),
    ).toBe(URL);
  });

  it('fails naming the secret, never its value', async () => {
    const notUrl = readIndexUrlSecret(
      stub(async () => ({ SecretString: 's3cr3t-t0ken' })),
      ARN,
    );
    await expect(notUrl).rejects.toThrow(`the package index secret ${ARN} holds no URL`);
    await expect(notUrl).rejects.not.toThrow(/s3cr3t/);
    const denied = Object.assign(new Error(`no access to ${URL}`), { name: 'AccessDeniedException' });
    const failing = readIndexUrlSecret(
      stub(async () => {
        throw denied;
      }),
      ARN,
    );
    await expect(failing).rejects.toThrow(`could not read the package index secret ${ARN}: AccessDeniedException`);
    await expect(failing).rejects.not.toThrow(/s3cr3t/);
  });
});
