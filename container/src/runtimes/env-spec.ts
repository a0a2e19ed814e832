/**
 * What a version's Python environment is, from the files MLflow logged with it: the requirements
 * (requirements.txt, else python_env.yaml's dependencies, else conda.yaml's conda dependencies as
 * pip requirements and its pip list), the Python major.minor it was logged with and an
 * interpreter of that version, and the platform. See docs/environments.md.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { condaToPip } from './conda-deps';
import { findExecutable, findInterpreter, interpreterInfo, minorVersion } from './python-interpreters';

/** What installs a version's requirements: uv, or the image Python's pip. */
export type Installer = 'uv' | 'pip';

export type EnvironmentFile = 'requirements.txt' | 'python_env.yaml' | 'conda.yaml';

export interface ResolveOptions {
  /** The image's interpreter: used when its major.minor is the model's. */
  readonly python: string;
  /** The uv binary (a path, or a name on PATH). */
  readonly uv: string;
  /** `auto`: uv when it is found, else pip. */
  readonly installer: 'auto' | Installer;
  /** Whether uv may install a Python version no interpreter here has (MLSERVE_PYTHON_DOWNLOADS). */
  readonly pythonDownloads: boolean;
  /** Whether environments also see the image interpreter's packages (MLSERVE_ENV_SYSTEM_PACKAGES). */
  readonly systemPackages: boolean;
  /** Whether a conda.yaml may name Anaconda's `defaults` channel (its terms of service apply). */
  readonly allowDefaultsChannel: boolean;
  /** Where `python3.X` and uv are looked for (default: PATH). */
  readonly searchPath?: string;
}

/** A version's environment, resolved: everything needed to build it, and to name it in a cache. */
export interface EnvironmentSpec {
  /** The requirements installed, as requirements.txt text. Decides the content, with the three below. */
  readonly requirements: string;
  /** The Python major.minor the environment runs (e.g. `3.8`). */
  readonly pythonVersion: string;
  /** Operating system and CPU (`linux-x64`). */
  readonly platform: string;
  /** Whether the environment also sees the base interpreter's packages. */
  readonly systemPackages: boolean;
  /** The interpreter it is built on; undefined: uv installs Python `pythonVersion` first. */
  readonly interpreter?: string;
  /** What installs the requirements. */
  readonly installer: Installer;
  /** The version's model directory (commands run there, so relative paths in requirements resolve). */
  readonly modelDir: string;
  /** The file the requirements came from. */
  readonly source: EnvironmentFile;
  /** What the model declared about its Python (`python_env.yaml: 3.8.8`); undefined: nothing. */
  readonly pythonDeclared?: string;
  /** Dependencies left out or changed on the way (conda packages with no pip equivalent…), for the log. */
  readonly notes: readonly string[];
}

/** The fields that decide what an environment holds: equal keys, interchangeable environments. */
export function environmentKey(spec: EnvironmentSpec): string {
  const fields = [
    spec.platform,
    spec.pythonVersion,
    spec.interpreter ?? 'uv-managed',
    spec.systemPackages,
    spec.requirements,
  ];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex').slice(0, 24);
}

/** The environment files a model directory may hold; undefined: absent. */
export interface EnvironmentFiles {
  readonly requirementsTxt?: string;
  readonly pythonEnvYaml?: string;
  readonly condaYaml?: string;
}

/** What the files declare, before an interpreter is chosen. */
export interface DeclaredEnvironment {
  readonly source: EnvironmentFile;
  readonly requirements: string;
  /** The Python version the model was logged with, and where it says so. */
  readonly python?: { readonly version: string; readonly declaredIn: string };
  readonly notes: readonly string[];
}

/**
 * Resolves the version's environment; undefined when it declares none (it runs on the image's
 * Python). Throws when conda.yaml names a refused channel, or no interpreter of the model's Python
 * major.minor is here and none may be installed.
 */
export async function resolveEnvironment(
  modelDir: string,
  options: ResolveOptions,
): Promise<EnvironmentSpec | undefined> {
  const declared = declaredEnvironment(await readEnvironmentFiles(modelDir), options.allowDefaultsChannel);
  if (!declared) return undefined;
  const uv = await findExecutable(options.uv, options.searchPath);
  const installer: Installer = options.installer === 'auto' ? (uv ? 'uv' : 'pip') : options.installer;
  const image = await interpreterInfo(options.python);
  if (!image) throw new Error(`the image's Python (${options.python}) does not run`);
  const imageVersion = minorVersion(image.version) ?? image.version;
  const wanted = declared.python ? minorVersion(declared.python.version) : imageVersion;
  if (!wanted) throw new Error(`the model's Python version is not a version (${declared.python?.declaredIn})`);
  const interpreter = await findInterpreter(wanted, {
    imagePython: options.python,
    searchPath: options.searchPath,
    uv: installer === 'uv' ? (uv ?? options.uv) : undefined,
  });
  if (!interpreter && !(installer === 'uv' && options.pythonDownloads)) {
    const why = !options.pythonDownloads
      ? 'Python downloads are off (MLSERVE_PYTHON_DOWNLOADS)'
      : 'Python downloads need uv, and the installer is pip (MLSERVE_PYTHON_INSTALLER, MLSERVE_UV)';
    throw new Error(
      `the model needs Python ${wanted} (${declared.python?.declaredIn}); this image has Python ${imageVersion} and ${why}`,
    );
  }
  return {
    requirements: declared.requirements,
    pythonVersion: wanted,
    platform: `${process.platform}-${process.arch}`,
    systemPackages: options.systemPackages,
    interpreter,
    installer,
    modelDir,
    source: declared.source,
    pythonDeclared: declared.python?.declaredIn,
    notes: declared.notes,
  };
}

export async function readEnvironmentFiles(modelDir: string): Promise<EnvironmentFiles> {
  const [requirementsTxt, pythonEnvYaml, condaYaml] = await Promise.all(
    ['requirements.txt', 'python_env.yaml', 'conda.yaml'].map((name) => readText(path.join(modelDir, name))),
  );
  return { requirementsTxt, pythonEnvYaml, condaYaml };
}

/**
 * The environment the files declare: requirements from requirements.txt, else python_env.yaml's
 * dependencies, else conda.yaml (its conda dependencies as pip requirements, then its pip list);
 * the Python version from python_env.yaml, else conda.yaml's `python` pin. Undefined: no files.
 */
export function declaredEnvironment(
  files: EnvironmentFiles,
  allowDefaultsChannel: boolean,
): DeclaredEnvironment | undefined {
  const pythonEnv = files.pythonEnvYaml === undefined ? undefined : yamlDoc(files.pythonEnvYaml, 'python_env.yaml');
  const pythonEnvVersion = typeof pythonEnv?.python === 'string' ? pythonEnv.python.trim() : undefined;
  let python = pythonEnvVersion
    ? { version: pythonEnvVersion, declaredIn: `python_env.yaml: ${pythonEnvVersion}` }
    : undefined;
  // conda.yaml's Python pin counts when python_env.yaml has none; its channels only when it is installed.
  const condaNeeded = python === undefined || (files.requirementsTxt === undefined && !pythonEnv);
  const conda = files.condaYaml === undefined || !condaNeeded ? undefined : condaRequirements(files.condaYaml);
  python ??= conda?.python;
  if (files.requirementsTxt !== undefined) {
    return { source: 'requirements.txt', requirements: files.requirementsTxt, python, notes: [] };
  }
  if (pythonEnv) {
    const deps = stringList(pythonEnv.dependencies).filter((d) => !/^-r\s+requirements\.txt$/.test(d.trim()));
    return { source: 'python_env.yaml', requirements: lines(deps), python, notes: [] };
  }
  if (!conda || files.condaYaml === undefined) return undefined;
  checkCondaChannels(files.condaYaml, allowDefaultsChannel);
  return { source: 'conda.yaml', requirements: lines(conda.requirements), python, notes: conda.notes };
}

export interface CondaRequirements {
  /** The conda dependencies as pip requirements, then the `pip:` list. */
  readonly requirements: readonly string[];
  /** conda's `python` pin. */
  readonly python?: { readonly version: string; readonly declaredIn: string };
  /** What was skipped or changed, one line each. */
  readonly notes: readonly string[];
}

/** conda.yaml's dependencies as pip requirements (see conda-deps.ts for the names and pins). */
export function condaRequirements(condaYamlText: string): CondaRequirements {
  const doc = yamlDoc(condaYamlText, 'conda.yaml');
  const dependencies = Array.isArray(doc.dependencies) ? doc.dependencies : [];
  const requirements: string[] = [];
  const notes: string[] = [];
  let python: CondaRequirements['python'];
  for (const dependency of dependencies) {
    if (typeof dependency !== 'string') continue;
    const text = dependency.trim();
    if (/^python(\s|[=<>!~]|$)/.test(text)) {
      const version = /^python\s*(?:==?|\s)\s*(\d+\.\d+[\d.]*)/.exec(text)?.[1]?.replace(/\.+$/, '');
      if (version) python ??= { version, declaredIn: `conda.yaml: ${text}` };
      else if (text !== 'python') notes.push(`${text}: names no one Python version; the image's Python is used`);
      continue;
    }
    const pip = condaToPip(text);
    if ('skipped' in pip) notes.push(`${pip.skipped} (skipped)`);
    else {
      requirements.push(pip.requirement);
      if (pip.note) notes.push(pip.note);
    }
  }
  requirements.push(...dependencies.filter(isRecord).flatMap((d) => stringList(d.pip)));
  return { requirements, python, notes };
}

/**
 * Throws when conda.yaml lists Anaconda's `defaults` channel (or an anaconda.org /
 * repo.anaconda.com channel URL other than conda-forge's) and that is not allowed.
 */
export function checkCondaChannels(condaYamlText: string, allowDefaultsChannel: boolean): void {
  const doc = yamlDoc(condaYamlText, 'conda.yaml');
  if (allowDefaultsChannel) return;
  const channels = Array.isArray(doc.channels) ? doc.channels : [];
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

const stringList = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

const lines = (requirements: readonly string[]): string =>
  requirements.length === 0 ? '' : `${requirements.join('\n')}\n`;

/** The YAML document as a map; every scalar a string (so `python: 3.10` stays `3.10`). */
function yamlDoc(text: string, file: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parseYaml(text, { schema: 'failsafe' });
  } catch (error) {
    throw new Error(`${file} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  return isRecord(doc) ? doc : {};
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
