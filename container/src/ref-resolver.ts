/**
 * Resolving a scoring reference (a version number, a stage in any case, or `@alias`) to the
 * served version that answers it now, with the reason when none does: 404 for what the registry
 * does not serve, 503 for what is still loading. An answer is reused while nothing it was drawn
 * from changed.
 */
import { canonicalStage } from '../../core/registry';
import type { ModelVersion, RegisteredModel } from '../../core/registry/model';
import { ScoringError } from './errors';
import { type RefKey, type RefRoutes, refKeyOf } from './ref-routes';
import type { ServedVersion } from './served-version';

/** What the host knows now, as resolution reads it. */
export interface HostView {
  readonly modelName: string;
  /** The registry as last read (a new object every poll); undefined before the first read. */
  readonly snapshot?: { readonly model: RegisteredModel; readonly versions: readonly ModelVersion[] };
  /** The registry said the model does not exist. */
  readonly missingModel: boolean;
  readonly served: ReadonlyMap<number, ServedVersion>;
  readonly routes: RefRoutes;
}

export class RefResolver {
  /** Refs resolved to a version that answers (each checked to be still valid before reuse). */
  private readonly resolvedRefs = new Map<string, ResolvedRef>();

  /**
   * The version a reference names now: a version number, a stage (Staging, Production; any
   * case) or `@alias`. Throws a ScoringError (404, or 503 while loading) naming the reason.
   * An answer is reused while nothing it was drawn from changed: the registry snapshot (a new
   * one every poll), the version the ref's stage or alias is answered by, and the served
   * version itself (still the one served, READY, its runtime ready).
   */
  resolve(ref: string, view: HostView): ServedVersion {
    const { snapshot, served: servedVersions, routes } = view;
    const hit = this.resolvedRefs.get(ref);
    if (
      hit !== undefined &&
      hit.snapshot === snapshot &&
      hit.served.state === 'READY' &&
      hit.served.runtime?.ready() === true &&
      servedVersions.get(hit.served.version) === hit.served &&
      (hit.key === undefined || routes.holderOf(hit.key) === hit.holder)
    ) {
      return hit.served;
    }
    const name = view.modelName;
    if (!snapshot)
      throw new ScoringError(503, 'TEMPORARILY_UNAVAILABLE', `Model '${name}' is starting up; retry shortly.`);
    if (view.missingModel) throw notFound(`Registered model '${name}' does not exist.`);
    let version: ModelVersion | undefined;
    if (/^[0-9]+$/.test(ref)) {
      version = snapshot.versions.find((v) => v.version === Number(ref));
      if (!version) throw notFound(`Model '${name}' has no version ${ref}.`);
    } else if (ref.startsWith('@')) {
      const alias = ref.slice(1);
      const number = snapshot.model.aliases[alias];
      version = snapshot.versions.find((v) => v.version === number);
      if (!version) throw notFound(`Model '${name}' has no alias '${alias}'.`);
    } else {
      const stage = canonicalStage(ref);
      if (stage !== 'Staging' && stage !== 'Production') {
        throw notFound(
          `'${ref}' is not a version, a served stage (Staging, Production) or an @alias of model '${name}'.`,
        );
      }
      const inStage = snapshot.versions.filter((v) => v.currentStage === stage && v.status === 'READY');
      version = inStage.sort((a, b) => b.version - a.version)[0];
      if (!version) throw notFound(`Model '${name}' has no version in stage ${stage}.`);
    }
    const key = refKeyOf(ref);
    const answering = key ? routes.holderOf(key) : undefined;
    const remember = (served: ServedVersion): ServedVersion => {
      if (this.resolvedRefs.size >= 1024) this.resolvedRefs.clear();
      this.resolvedRefs.set(ref, { snapshot, key, holder: answering, served });
      return served;
    };
    if (answering !== undefined && answering !== version.version) {
      // The registry moved the ref to a version still loading: its old holder answers meanwhile.
      const previous = servedVersions.get(answering);
      if (previous?.state === 'READY' && previous.runtime?.ready()) return remember(previous);
    }
    if (version.currentStage === 'Archived') {
      throw notFound(`Version ${version.version} of model '${name}' is archived; archived versions are not served.`);
    }
    if (version.status === 'PENDING_REGISTRATION') {
      throw unavailable(`Version ${version.version} of model '${name}' is still being registered; retry shortly.`);
    }
    if (version.status === 'FAILED_REGISTRATION') {
      throw notFound(
        `Version ${version.version} of model '${name}' failed registration: ${version.statusMessage ?? ''}`,
      );
    }
    const served = servedVersions.get(version.version);
    if (!served || served.state === 'LOADING') {
      throw unavailable(`Version ${version.version} of model '${name}' is loading; retry shortly.`);
    }
    if (served.state === 'FAILED') {
      throw unavailable(`Version ${version.version} of model '${name}' failed to load: ${served.message}`);
    }
    if (served.state !== 'READY' || !served.runtime?.ready()) {
      throw unavailable(
        `Version ${version.version} of model '${name}' is not ready (${served.message || served.state}).`,
      );
    }
    // While the ref's old holder is not ready to answer for it, the answer is not reused (it would be the holder's once ready).
    return answering === undefined || answering === version.version ? remember(served) : served;
  }
}

/** A ref's resolution and what it was drawn from. */
interface ResolvedRef {
  readonly snapshot: NonNullable<HostView['snapshot']>;
  readonly key: RefKey | undefined;
  readonly holder: number | undefined;
  readonly served: ServedVersion;
}

function notFound(message: string): ScoringError {
  return new ScoringError(404, 'RESOURCE_DOES_NOT_EXIST', message);
}

function unavailable(message: string): ScoringError {
  return new ScoringError(503, 'TEMPORARILY_UNAVAILABLE', message);
}
