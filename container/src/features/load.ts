/**
 * Prepares a version's feature lookups when the host loads it: reads its spec from the
 * artifact, binds every lookup to one of the operator's online stores, and gives each a
 * reader on the host's shared SDK clients.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { RDSDataClient, type RDSDataClientConfig } from '@aws-sdk/client-rds-data';
import {
  bindFeatureSpec,
  DATABRICKS_SPEC_FILE,
  type FeatureSpec,
  parseDatabricksSpec,
  parseMlserveSpec,
} from '../../../core/features/feature-spec';
import type { OnlineStores } from '../../../core/features/online-stores';
import type { ArtifactInfo } from '../../../core/registry/model';
import { FeatureLookups } from './feature-lookups';
import { AuroraMysqlReader, DynamoDbReader, type StoreReader } from './store-readers';

/** The SDK clients every lookup of this host shares, made on first use. */
export class StoreClients {
  private dynamo?: DynamoDBClient;
  private rdsData?: RDSDataClient;

  /** Client settings; by default the SDK's own (the task role, the region, AWS_ENDPOINT_URL_* overrides). */
  constructor(
    private readonly configs: { readonly dynamodb?: DynamoDBClientConfig; readonly rdsData?: RDSDataClientConfig } = {},
  ) {}

  get dynamodb(): DynamoDBClient {
    this.dynamo ??= new DynamoDBClient(this.configs.dynamodb ?? {});
    return this.dynamo;
  }

  get rds(): RDSDataClient {
    this.rdsData ??= new RDSDataClient(this.configs.rdsData ?? {});
    return this.rdsData;
  }

  destroy(): void {
    this.dynamo?.destroy();
    this.rdsData?.destroy();
  }
}

/** Reads the version's spec (by the path registration recorded) from its local artifact. */
export async function readFeatureSpec(artifactDir: string, artifact: ArtifactInfo): Promise<FeatureSpec | undefined> {
  if (!artifact.featureSpecPath) return undefined;
  const text = await readFile(path.join(artifactDir, artifact.featureSpecPath), 'utf8');
  return artifact.featureSpecPath === DATABRICKS_SPEC_FILE ? parseDatabricksSpec(text) : parseMlserveSpec(text);
}

/** The version's lookups bound to the operator's stores; throws naming what doesn't resolve. */
export function prepareFeatureLookups(
  spec: FeatureSpec,
  stores: OnlineStores,
  clients: StoreClients,
  timeoutMs: number,
): FeatureLookups {
  const lookups = bindFeatureSpec(spec, stores).map((lookup) => {
    const store = lookup.config;
    const reader: StoreReader =
      store.type === 'dynamodb'
        ? new DynamoDbReader(clients.dynamodb, store.tableName, lookup, store.keyTypes)
        : new AuroraMysqlReader(clients.rds, store, lookup);
    return { lookup, reader };
  });
  return new FeatureLookups(spec, lookups, timeoutMs);
}
