/**
 * Building a resolved environment into a directory: a virtualenv on the spec's interpreter (uv
 * installs the Python first when the spec has none), then its requirements, with uv or with the
 * image Python's pip. A finished environment holds a marker file; a failed one is removed.
 */
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runCommand } from './env-commands';
import type { EnvironmentSpec } from './env-spec';
import type { PackageIndex } from './package-index';

export interface BuildOptions {
  /** The image's interpreter: with the pip installer, its pip installs into the environment. */
  readonly python: string;
  /** The uv binary (a path, or a name on PATH). */
  readonly uv: string;
  readonly index: PackageIndex;
}

/** Marks an environment whose installation finished. */
const READY_MARKER = '.mlserve-ready';
/** The requirements file written into the environment. */
const REQUIREMENTS_FILE = 'mlserve-requirements.txt';

/** The environment's interpreter. */
export const environmentPython = (envDir: string): string => path.join(envDir, 'bin', 'python');

/** Whether `envDir` holds a finished environment (built, or restored whole). */
export async function environmentReady(envDir: string): Promise<boolean> {
  try {
    await access(path.join(envDir, READY_MARKER));
    return true;
  } catch {
    return false;
  }
}

/**
 * Builds the environment `spec` describes into `envDir` (replacing whatever is there) and returns
 * its interpreter. On failure the directory is removed and the error names the model directory
 * and the failing command, with its output; index URLs and credentials are masked.
 */
export async function buildEnvironment(envDir: string, spec: EnvironmentSpec, options: BuildOptions): Promise<string> {
  const python = environmentPython(envDir);
  const index = options.index;
  const secrets = index.url ? [index.url] : [];
  const cwd = spec.modelDir;
  await rm(envDir, { recursive: true, force: true });
  await mkdir(path.dirname(envDir), { recursive: true });
  try {
    const base = spec.interpreter ?? (await installPython(spec.pythonVersion, options.uv, cwd));
    const systemPackages = spec.systemPackages ? ['--system-site-packages'] : [];
    if (spec.installer === 'uv') {
      await runCommand(options.uv, ['venv', envDir, '--python', base, ...systemPackages], {
        cwd,
        env: { UV_PYTHON_DOWNLOADS: 'never' },
      });
    } else {
      await runCommand(base, ['-m', 'venv', '--without-pip', ...systemPackages, envDir], { cwd });
    }
    const requirementsFile = path.join(envDir, REQUIREMENTS_FILE);
    await writeFile(requirementsFile, spec.requirements);
    if (hasRequirements(spec.requirements)) {
      const sources = [
        ...(index.findLinks ? ['--find-links', index.findLinks] : []),
        ...(index.noIndex ? ['--no-index'] : []),
      ];
      if (spec.installer === 'uv') {
        const env = index.url && !index.noIndex ? { UV_INDEX_URL: index.url } : undefined;
        await runCommand(options.uv, ['pip', 'install', '--python', python, '-r', requirementsFile, ...sources], {
          cwd,
          env,
          secrets,
        });
      } else {
        const env: Record<string, string> = { PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1' };
        if (index.url && !index.noIndex) env.PIP_INDEX_URL = index.url;
        const args = ['-m', 'pip', '--python', python, 'install', '-r', requirementsFile, ...sources];
        await runCommand(options.python, args, { cwd, env, secrets });
      }
    }
    await writeFile(path.join(envDir, READY_MARKER), `${new Date().toISOString()}\n`);
    return python;
  } catch (error) {
    await rm(envDir, { recursive: true, force: true });
    throw new Error(`could not build the Python environment for ${spec.modelDir}: ${(error as Error).message}`);
  }
}

/** Has uv install Python `version` (a major.minor) and returns its interpreter. */
async function installPython(version: string, uv: string, cwd: string): Promise<string> {
  await runCommand(uv, ['python', 'install', version], { cwd });
  const found = await runCommand(uv, ['python', 'find', version], { cwd, env: { UV_PYTHON_DOWNLOADS: 'never' } });
  return found.trim();
}

/** Whether the requirements text names anything to install (not only blank lines and comments). */
const hasRequirements = (text: string): boolean =>
  text.split('\n').some((line) => line.trim() !== '' && !line.trim().startsWith('#'));
