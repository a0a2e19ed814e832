/**
 * Serving a demo model in the twin: register it, move a version to Production, enable serving.
 * Idempotent, so that a later start finishes a demo an earlier one left half-registered; and
 * checked against the source policy first, so that a demo the registry would refuse is never
 * started (nothing is registered, and the twin says what to change).
 */
import { setTimeout } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import type { ModelVersion } from '../core/registry/model';
import type { ModelRegistry } from '../core/registry/registry';
import type { SourcePolicy } from '../core/registry/sources';
import type { ServingControl } from '../core/serving/serving';

export interface DemoModel {
  readonly name: string;
  /** Where its artifacts go; the version's source. */
  readonly dir: string;
  readonly description: string;
  /** Makes what it needs outside the registry (its artifacts in `dir`, tables…); idempotent, run until it is finished. */
  readonly prepare: () => Promise<void>;
}

/** Why a demo is not served, and what to do about it; the twin prints it at start. */
export interface DemoProblem {
  /** The demo models concerned. */
  readonly models: readonly string[];
  /** What is wrong, in a sentence. */
  readonly problem: string;
  /** How to fix it, one line each. */
  readonly fix: readonly string[];
}

/** Where a demo stands after `serveDemoModel`: served, or serving turned off since (left so). */
export type DemoServing = 'enabled' | 'disabled';

/** The registry's refusal of the demo's source, or undefined when the policy allows it. */
export async function demoSourceRefusal(policy: SourcePolicy, dir: string): Promise<string | undefined> {
  try {
    await policy.resolve(pathToFileURL(dir).href);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

const exists = (registry: ModelRegistry, name: string) =>
  registry.getRegisteredModel(name).then(
    () => true,
    () => false,
  );

/**
 * Registers the demo, or finishes it: a demo counts as finished once serving was enabled on it
 * (afterwards it is the user's: a version they archived or serving they disabled stays so).
 * Until then every missing step is done, reusing a READY or pending version with the demo's
 * source rather than adding another. If a step fails on a model this call created, the model
 * is deleted again; on one that was there before, the next start tries again.
 */
export async function serveDemoModel(
  registry: ModelRegistry,
  serving: ServingControl,
  model: DemoModel,
): Promise<DemoServing> {
  const created = !(await exists(registry, model.name));
  if (created) {
    await registry.createRegisteredModel({ name: model.name, creator: 'admin', description: model.description });
  }
  try {
    const config = (await registry.getRegisteredModel(model.name)).serving;
    if (config) return config.enabled ? 'enabled' : 'disabled';
    await model.prepare();
    const versions = (await registry.searchModelVersions({ filter: `name = '${model.name}'` })).items;
    if (!versions.some((v) => v.currentStage === 'Production' && v.status === 'READY')) {
      const version = await readyDemoVersion(registry, model, versions);
      await registry.transitionModelVersionStage(model.name, version.version, 'Production', false);
    }
    await serving.enableServing(model.name);
    return 'enabled';
  } catch (error) {
    if (created) await registry.deleteRegisteredModel(model.name).catch(() => undefined);
    throw error;
  }
}

/** A READY version with the demo's source: one already there (pending ones checked now), or a new one. */
async function readyDemoVersion(
  registry: ModelRegistry,
  model: DemoModel,
  versions: readonly ModelVersion[],
): Promise<ModelVersion> {
  const source = pathToFileURL(model.dir).href;
  const candidate = versions
    .filter((v) => v.source === source && (v.status === 'READY' || v.status === 'PENDING_REGISTRATION'))
    .sort((a, b) => b.version - a.version)[0];
  const version = candidate ?? (await registry.createModelVersion({ name: model.name, source }));
  // The registration check runs on the bus, as on AWS; wait for its outcome as MLflow's client does.
  const checked = await registrationOutcome(registry, model.name, version.version);
  if (checked.status !== 'READY') {
    throw new Error(
      `version ${checked.version} of '${model.name}' is ${checked.status}: ${checked.statusMessage || 'no reason given'}`,
    );
  }
  return checked;
}

/** How long the demo waits for its version's registration check. */
const REGISTRATION_TIMEOUT_MS = 120_000;

/** The version once its registration check has decided (polled as MLflow's client polls). */
async function registrationOutcome(registry: ModelRegistry, name: string, version: number): Promise<ModelVersion> {
  const deadline = Date.now() + REGISTRATION_TIMEOUT_MS;
  for (;;) {
    const current = await registry.getModelVersion(name, version);
    if (current.status !== 'PENDING_REGISTRATION' || Date.now() > deadline) return current;
    await setTimeout(100);
  }
}
