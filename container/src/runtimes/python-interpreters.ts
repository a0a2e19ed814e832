/**
 * Finding a Python interpreter of a given major.minor version: the image's own, a `python3.X` on
 * PATH, or one uv already installed. Each candidate is run once to learn what it really is (a
 * PATH entry may be a shim that runs nothing).
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { runCommand } from './env-commands';

/** What an interpreter says it is. */
export interface Interpreter {
  /** Its full version, e.g. `3.11.2`. */
  readonly version: string;
  /** Its executable as it reports it (`sys.executable`). */
  readonly executable: string;
}

const ASK = 'import sys; print("%d.%d.%d" % sys.version_info[:3]); print(sys.executable)';
/** Longest an interpreter may take to say its version. */
const ASK_TIMEOUT_MS = 30_000;

const known = new Map<string, Promise<Interpreter | undefined>>();

/** The interpreter's version and executable; undefined when it does not run. Asked once per path. */
export function interpreterInfo(python: string): Promise<Interpreter | undefined> {
  let info = known.get(python);
  if (!info) {
    info = runCommand(python, ['-c', ASK], { timeoutMs: ASK_TIMEOUT_MS }).then(
      (out) => {
        const [version, executable] = out.trim().split('\n');
        return version && /^\d+\.\d+\.\d+$/.test(version) ? { version, executable: executable || python } : undefined;
      },
      () => undefined,
    );
    known.set(python, info);
  }
  return info;
}

/** `3.8` of `3.8.8`, `3.8` or `3.8.*`; undefined when the text names no major.minor version. */
export function minorVersion(version: string): string | undefined {
  return /^(\d+)\.(\d+)(?:[.*]|$)/.exec(version.trim())?.slice(1, 3).join('.');
}

/** The executable `name` (a path, or a name looked up in `searchPath`); undefined when there is none. */
export async function findExecutable(name: string, searchPath = process.env.PATH ?? ''): Promise<string | undefined> {
  const candidates = name.includes('/')
    ? [name]
    : searchPath
        .split(path.delimiter)
        .filter(Boolean)
        .map((dir) => path.join(dir, name));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface InterpreterSearch {
  /** The image's interpreter, preferred when its version matches. */
  readonly imagePython: string;
  /** Where `python3.X` is looked for (default: PATH). */
  readonly searchPath?: string;
  /** uv, when it is the installer: Pythons it installed before are found too (never downloaded here). */
  readonly uv?: string;
}

/**
 * An interpreter of Python `minor` (e.g. `3.8`): the image's if its version matches, else the
 * first `python3.X` on the search path that runs and is that version, else one uv finds.
 */
export async function findInterpreter(minor: string, search: InterpreterSearch): Promise<string | undefined> {
  const image = await interpreterInfo(search.imagePython);
  if (image && minorVersion(image.version) === minor) return search.imagePython;
  const dirs = (search.searchPath ?? process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const dir of dirs) {
    const candidate = await findExecutable(`python${minor}`, dir);
    if (!candidate) continue;
    const info = await interpreterInfo(candidate);
    if (info && minorVersion(info.version) === minor) return info.executable;
  }
  if (search.uv) {
    const found = await runCommand(search.uv, ['python', 'find', minor], {
      env: { UV_PYTHON_DOWNLOADS: 'never' },
    }).then(
      (out) => out.trim(),
      () => '',
    );
    const info = found ? await interpreterInfo(found) : undefined;
    if (info && minorVersion(info.version) === minor) return found;
  }
  return undefined;
}
