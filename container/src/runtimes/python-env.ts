/**
 * Which Python interpreter runs a version's pyfunc worker: the image's own (`system`), or a
 * virtualenv built from the environment the version declares (`per-version`), kept in a local
 * cache under its key and built once however many versions share it. See docs/environments.md.
 */
import path from 'node:path';
import type { ServingEventType } from '../../../core/registry/model';
import { type ArchiveHook, type ArchiveOutcome, withArchive } from './env-archive';
import { type BuildOptions, buildEnvironment, environmentPython, environmentReady } from './env-build';
import { type EnvironmentSpec, environmentKey, type ResolveOptions, resolveEnvironment } from './env-spec';

/** What happened to a version's environment, for its serving events (docs/environments.md). */
export interface EnvironmentEvent {
  readonly type: Extract<ServingEventType, `ENV_${string}`>;
  readonly message: string;
}

export interface PythonEnvironmentOptions extends ResolveOptions, BuildOptions {
  /** `system`: every version runs on `python`; `per-version`: a virtualenv per distinct environment. */
  readonly mode: 'system' | 'per-version';
  /** The image's interpreter (default `/usr/bin/python3`). */
  readonly python: string;
  /** Where per-version virtualenvs are kept. */
  readonly cacheDir: string;
  /** Where built environments are shared between tasks (docs/environments.md); none: each task builds its own. */
  readonly archive?: ArchiveHook;
  /** Told when the environment is built or restored, and when that fails; not when it is on disk already. */
  readonly onEnvironment?: (event: EnvironmentEvent) => void;
}

/** The interpreter a version runs on, and what its environment's resolution left out or changed. */
export interface PythonChoice {
  readonly python: string;
  readonly notes: readonly string[];
}

export const DEFAULT_PYTHON = '/usr/bin/python3';
export const DEFAULT_UV = 'uv';

/** Most of a failure's text an ENV_BUILD_FAILED event carries: its first line and its last lines. */
const FAILURE_MESSAGE_CHARS = 1500;

/** Environments being built or restored, by directory: versions sharing one wait for the same work. */
const building = new Map<string, Promise<ArchiveOutcome>>();

/** The interpreter for the version in `modelDir`: the system one, or its (possibly new) virtualenv's. */
export async function pythonFor(modelDir: string, options: PythonEnvironmentOptions): Promise<PythonChoice> {
  const python = options.python || DEFAULT_PYTHON;
  if (options.mode === 'system') return { python, notes: [] };
  const tell = options.onEnvironment ?? (() => {});
  const resolved = { ...options, python, uv: options.uv || DEFAULT_UV };
  let spec: EnvironmentSpec | undefined;
  try {
    spec = await resolveEnvironment(modelDir, resolved);
  } catch (error) {
    tell({ type: 'ENV_BUILD_FAILED', message: failureMessage(error) });
    throw error;
  }
  if (!spec) return { python, notes: [] };
  const envDir = path.resolve(options.cacheDir, environmentKey(spec));
  let pending = building.get(envDir);
  if (!pending) {
    if (await environmentReady(envDir)) return { python: environmentPython(envDir), notes: spec.notes };
    pending = building.get(envDir) ?? prepare(envDir, spec, resolved);
  }
  const archived = options.archive ? ', or restoring it from the archive' : '';
  tell({
    type: 'ENV_BUILDING',
    message: `building the environment from ${spec.source} with ${spec.installer}${archived}`,
  });
  try {
    const outcome = await pending;
    const seconds = outcome.seconds.toFixed(1);
    tell(
      outcome.from === 'archive'
        ? { type: 'ENV_RESTORED', message: `environment restored from the archive in ${seconds} s` }
        : { type: 'ENV_BUILT', message: `environment built with ${spec.installer} in ${seconds} s` },
    );
  } catch (error) {
    tell({ type: 'ENV_BUILD_FAILED', message: failureMessage(error) });
    throw error;
  }
  return { python: environmentPython(envDir), notes: spec.notes };
}

/** Builds (or, with an archive, restores) the environment into `envDir`, once however many versions ask. */
function prepare(
  envDir: string,
  spec: EnvironmentSpec,
  options: PythonEnvironmentOptions & { python: string; uv: string },
): Promise<ArchiveOutcome> {
  const build = async () => {
    await buildEnvironment(envDir, spec, options);
  };
  const work = async (): Promise<ArchiveOutcome> => {
    // Restored from the shared archive when another task built it; else built here (and shared).
    if (options.archive) {
      const identity = { requirements: spec.requirements, python: `${spec.pythonVersion} ${spec.interpreter ?? ''}` };
      return withArchive(options.archive, identity, envDir, build);
    }
    const started = performance.now();
    await build();
    return { from: 'build', seconds: (performance.now() - started) / 1000 };
  };
  const pending = work().finally(() => building.delete(envDir));
  building.set(envDir, pending);
  return pending;
}

/** A failure's message, bounded: its first line, then as many of its last characters as fit. */
export function failureMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  if (text.length <= FAILURE_MESSAGE_CHARS) return text;
  const newline = text.indexOf('\n');
  const head = (newline < 0 ? text : text.slice(0, newline)).slice(0, FAILURE_MESSAGE_CHARS / 3);
  return `${head}\n…${text.slice(-(FAILURE_MESSAGE_CHARS - head.length - 2))}`;
}
