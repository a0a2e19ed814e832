/**
 * A version made ready for its runtime: its artifact fetched from its source into the host's
 * cache, and its feature lookups prepared when it has a feature spec.
 */
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { localArtifactDir, type SourcePolicy } from '../../core/registry';
import type { ModelVersion } from '../../core/registry/model';
import type { FeatureLookups } from './features/feature-lookups';
import { prepareFeatureLookups, readFeatureSpec, type StoreClients } from './features/load';
import type { LoadSpec } from './runtimes/runtime';
import type { HostSettings } from './settings';

export interface VersionFiles {
  /** What the runtime loads. */
  readonly spec: LoadSpec;
  readonly features?: FeatureLookups;
}

export interface FetchContext {
  readonly modelName: string;
  readonly sources: SourcePolicy;
  readonly settings: HostSettings;
  readonly storeClients: StoreClients;
  readonly s3?: () => S3Client;
}

export async function fetchVersion(version: ModelVersion, context: FetchContext): Promise<VersionFiles> {
  const artifact = version.artifact;
  if (!artifact) throw new Error('the version has no recorded artifact information');
  const { modelName, settings } = context;
  const source = await context.sources.resolve(version.source);
  const modelDir = await localArtifactDir(
    source,
    settings.artifactCache,
    `${encodeURIComponent(modelName)}/${version.version}`,
    context.s3,
  );
  const featureSpec = await readFeatureSpec(modelDir, artifact);
  const features = featureSpec
    ? prepareFeatureLookups(featureSpec, settings.onlineStores, context.storeClients, settings.featureTimeoutMs)
    : undefined;
  // A Databricks feature store model serves its raw model.
  const servedDir = artifact.rawModelPath ? path.join(modelDir, artifact.rawModelPath) : modelDir;
  return { spec: { modelName, version: version.version, modelDir: servedDir, artifact }, features };
}
