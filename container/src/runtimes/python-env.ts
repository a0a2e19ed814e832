/**
 * Which Python interpreter runs a version's pyfunc worker: the image's own (`system`), or a
 * virtualenv built from the environment the version declares (`per-version`), kept in a local
 * cache under its key and built once however many versions share it. See docs/environments.md.
 */
import path from 'node:path';
import { type ArchiveHook, withArchive } from './env-archive';
import { type BuildOptions, buildEnvironment, environmentPython, environmentReady } from './env-build';
import { environmentKey, type ResolveOptions, resolveEnvironment } from './env-spec';

export interface PythonEnvironmentOptions extends ResolveOptions, BuildOptions {
  /** `system`: every version runs on `python`; `per-version`: a virtualenv per distinct environment. */
  readonly mode: 'system' | 'per-version';
  /** The image's interpreter (default `/usr/bin/python3`). */
  readonly python: string;
  /** Where per-version virtualenvs are kept. */
  readonly cacheDir: string;
  /** Where built environments are shared between tasks (docs/environments.md); none: each task builds its own. */
  readonly archive?: ArchiveHook;
}

/** The interpreter a version runs on, and what its environment's resolution left out or changed. */
export interface PythonChoice {
  readonly python: string;
  readonly notes: readonly string[];
}

export const DEFAULT_PYTHON = '/usr/bin/python3';
export const DEFAULT_UV = 'uv';

const building = new Map<string, Promise<string>>();

/** The interpreter for the version in `modelDir`: the system one, or its (possibly new) virtualenv's. */
export async function pythonFor(modelDir: string, options: PythonEnvironmentOptions): Promise<PythonChoice> {
  const python = options.python || DEFAULT_PYTHON;
  if (options.mode === 'system') return { python, notes: [] };
  const resolved = { ...options, python, uv: options.uv || DEFAULT_UV };
  const spec = await resolveEnvironment(modelDir, resolved);
  if (!spec) return { python, notes: [] };
  const envDir = path.resolve(options.cacheDir, environmentKey(spec));
  let pending = building.get(envDir);
  if (!pending) {
    pending = (async () => {
      if (await environmentReady(envDir)) return environmentPython(envDir);
      const build = async () => {
        await buildEnvironment(envDir, spec, resolved);
      };
      // Restored from the shared archive when another task built it; else built here (and shared).
      if (options.archive) {
        const identity = { requirements: spec.requirements, python: `${spec.pythonVersion} ${spec.interpreter ?? ''}` };
        await withArchive(options.archive, identity, envDir, build);
      } else {
        await build();
      }
      return environmentPython(envDir);
    })();
    pending = pending.finally(() => building.delete(envDir));
    building.set(envDir, pending);
  }
  return { python: await pending, notes: spec.notes };
}
