/**
 * Which Python interpreter runs a version's pyfunc worker: the image's own (`system`), or a
 * virtualenv built with uv from the version's requirements (`per-version`), cached by their hash.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { type ArchiveHook, withArchive } from './env-archive';

export interface PythonEnvironmentOptions {
  /** `system`: every version runs on `python`; `per-version`: a virtualenv per distinct set of requirements. */
  readonly mode: 'system' | 'per-version';
  /** The image's interpreter (default `/usr/bin/python3`); also the fallback Python version for virtualenvs. */
  readonly python: string;
  /** Where per-version virtualenvs are kept. */
  readonly cacheDir: string;
  /** The uv binary (default `uv`). */
  readonly uv: string;
  /** Whether a conda.yaml may name Anaconda's `defaults` channel (its terms of service apply). */
  readonly allowDefaultsChannel: boolean;
  /** Where built environments are shared between tasks (docs/environments.md); none: each task builds its own. */
  readonly archive?: ArchiveHook;
}

export const DEFAULT_PYTHON = '/usr/bin/python3';
export const DEFAULT_UV = 'uv';

/** How much of a failing command's output an error message carries. */
const OUTPUT_TAIL_BYTES = 2048;
/** Longest a resolver command may run before it is stopped. */
const COMMAND_TIMEOUT_MS = 20 * 60 * 1000;
/** Marks a virtualenv whose installation finished. */
const READY_MARKER = '.mlserve-ready';

/** What the version's environment files ask for. */
interface EnvironmentSpec {
  /** The Python to create the virtualenv with (a version like `3.11.2`, or an interpreter path). */
  readonly python: string;
  /** requirements.txt text to install. */
  readonly requirements: string;
  /** A requirements file to install as is (the version's own requirements.txt), if there is one. */
  readonly requirementsFile?: string;
}

const building = new Map<string, Promise<string>>();

/** The interpreter for the version in `modelDir`: the system one, or its (possibly new) virtualenv's. */
export async function pythonFor(modelDir: string, options: PythonEnvironmentOptions): Promise<string> {
  const python = options.python || DEFAULT_PYTHON;
  if (options.mode === 'system') return python;
  const spec = await readEnvironment(modelDir, python, options.allowDefaultsChannel);
  if (!spec) return python;
  const key = createHash('sha256').update(`${spec.python}\n${spec.requirements}`).digest('hex').slice(0, 24);
  const envDir = path.resolve(options.cacheDir, key);
  let pending = building.get(envDir);
  if (!pending) {
    pending = ensureEnvironment(envDir, spec, modelDir, options.uv || DEFAULT_UV, options.archive).finally(() =>
      building.delete(envDir),
    );
    building.set(envDir, pending);
  }
  return pending;
}

/**
 * Throws when conda.yaml lists Anaconda's `defaults` channel (or an anaconda.org /
 * repo.anaconda.com channel URL other than conda-forge's) and that is not allowed.
 */
export function checkCondaChannels(condaYamlText: string, allowDefaultsChannel: boolean): void {
  let doc: unknown;
  try {
    doc = parseYaml(condaYamlText);
  } catch (error) {
    throw new Error(`conda.yaml is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (allowDefaultsChannel) return;
  const channels = isRecord(doc) && Array.isArray(doc.channels) ? doc.channels : [];
  const refused = channels.map(String).filter(isAnacondaChannel);
  if (refused.length > 0) {
    const names = refused.map((c) => `'${c}'`).join(', ');
    throw new Error(
      `conda.yaml lists the Anaconda channel${refused.length > 1 ? 's' : ''} ${names}, whose packages fall under ` +
        'Anaconda’s terms of service; use conda-forge in the model’s conda.yaml, or allow the defaults channel ' +
        '(MLSERVE_ALLOW_CONDA_DEFAULTS=true) if your organization may use it',
    );
  }
}

function isAnacondaChannel(channel: string): boolean {
  const c = channel.trim().toLowerCase().replace(/\/+$/, '');
  if (c === 'defaults') return true;
  if (!/(^|[/.])(anaconda\.org|repo\.anaconda\.com)(\/|$)/.test(c)) return false;
  return !/anaconda\.org\/conda-forge$/.test(c);
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function yamlDoc(text: string, file: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new Error(`${file} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  return isRecord(doc) ? doc : {};
}

const stringList = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

/**
 * Reads the version's environment: requirements from requirements.txt, else python_env.yaml's
 * dependencies, else conda.yaml's pip section; Python from python_env.yaml (or conda.yaml's pin).
 * Undefined when the version declares no environment at all.
 */
async function readEnvironment(
  modelDir: string,
  fallbackPython: string,
  allowDefaultsChannel: boolean,
): Promise<EnvironmentSpec | undefined> {
  const requirementsText = await readText(path.join(modelDir, 'requirements.txt'));
  const pythonEnvText = await readText(path.join(modelDir, 'python_env.yaml'));
  const condaText = await readText(path.join(modelDir, 'conda.yaml'));
  const pythonEnv = pythonEnvText === undefined ? undefined : yamlDoc(pythonEnvText, 'python_env.yaml');

  let python = typeof pythonEnv?.python === 'string' ? pythonEnv.python : undefined;
  if (requirementsText !== undefined) {
    return {
      python: python ?? fallbackPython,
      requirements: requirementsText,
      requirementsFile: path.join(modelDir, 'requirements.txt'),
    };
  }
  if (pythonEnv) {
    const deps = stringList(pythonEnv.dependencies).filter((d) => !/^-r\s+requirements\.txt$/.test(d.trim()));
    return { python: python ?? fallbackPython, requirements: `${deps.join('\n')}\n` };
  }
  if (condaText === undefined) return undefined;
  checkCondaChannels(condaText, allowDefaultsChannel);
  const conda = yamlDoc(condaText, 'conda.yaml');
  const dependencies = Array.isArray(conda.dependencies) ? conda.dependencies : [];
  const pip = dependencies.filter(isRecord).flatMap((d) => stringList(d.pip));
  const pin = stringList(dependencies)
    .map((d) => /^python\s*=+\s*([\d.]+)/.exec(d.trim())?.[1])
    .find(Boolean);
  python = pin ?? fallbackPython;
  return { python, requirements: `${pip.join('\n')}\n` };
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

async function ensureEnvironment(
  envDir: string,
  spec: EnvironmentSpec,
  modelDir: string,
  uv: string,
  archive?: ArchiveHook,
): Promise<string> {
  const python = path.join(envDir, 'bin', 'python');
  if (await exists(path.join(envDir, READY_MARKER))) return python;
  const build = () => installEnvironment(envDir, spec, modelDir, uv);
  if (archive) await withArchive(archive, spec, envDir, build);
  else await build();
  return python;
}

async function installEnvironment(envDir: string, spec: EnvironmentSpec, modelDir: string, uv: string): Promise<void> {
  const python = path.join(envDir, 'bin', 'python');
  await rm(envDir, { recursive: true, force: true });
  await mkdir(path.dirname(envDir), { recursive: true });
  try {
    await run(uv, ['venv', envDir, '--python', spec.python], modelDir);
    let requirementsFile = spec.requirementsFile;
    if (!requirementsFile) {
      requirementsFile = path.join(envDir, 'mlserve-requirements.txt');
      await writeFile(requirementsFile, spec.requirements);
    }
    await run(uv, ['pip', 'install', '--python', python, '-r', requirementsFile], modelDir);
    await writeFile(path.join(envDir, READY_MARKER), `${new Date().toISOString()}\n`);
  } catch (error) {
    await rm(envDir, { recursive: true, force: true });
    throw new Error(`could not build the Python environment for ${modelDir}: ${(error as Error).message}`);
  }
}

/** Runs a command; rejects with its exit status and the tail of its output. */
function run(command: string, args: string[], cwd: string): Promise<void> {
  const shown = [command, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const output: Buffer[] = [];
    let size = 0;
    const keep = (chunk: Buffer) => {
      output.push(chunk);
      size += chunk.length;
      while (size - (output[0]?.length ?? 0) >= OUTPUT_TAIL_BYTES) size -= output.shift()?.length ?? 0;
    };
    const tail = () => {
      const text = Buffer.concat(output).toString('utf8');
      return text.length > OUTPUT_TAIL_BYTES ? `…${text.slice(-OUTPUT_TAIL_BYTES)}` : text;
    };
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: COMMAND_TIMEOUT_MS });
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', (error) => {
      const out = tail().trim();
      reject(new Error(`\`${shown}\` could not run: ${error.message}${out ? `\n${out}` : ''}`));
    });
    child.once('close', (code, signal) => {
      if (code === 0) return resolve();
      const status = signal ? `was stopped by ${signal}` : `exited with code ${code}`;
      const out = tail().trim();
      reject(new Error(`\`${shown}\` ${status}${out ? `:\n${out}` : ''}`));
    });
  });
}
