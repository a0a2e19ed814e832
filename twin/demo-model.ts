/** Serving a demo model on the twin's first start: register it, move it to Production, enable serving. */
import { pathToFileURL } from 'node:url';
import type { ModelRegistry } from '../core/registry/registry';

export async function serveDemoModel(
  registry: ModelRegistry,
  model: { readonly name: string; readonly dir: string; readonly description: string },
): Promise<void> {
  await registry.createRegisteredModel({ name: model.name, creator: 'admin', description: model.description });
  const version = await registry.createModelVersion({ name: model.name, source: pathToFileURL(model.dir).href });
  // The registration check runs on the bus; the stage move wants the version past PENDING_REGISTRATION.
  for (let i = 0; i < 100; i++) {
    if ((await registry.getModelVersion(model.name, version.version)).status !== 'PENDING_REGISTRATION') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await registry.transitionModelVersionStage(model.name, version.version, 'Production', false);
  await registry.enableServing(model.name);
}
