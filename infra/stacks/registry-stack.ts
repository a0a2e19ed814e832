import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { ArtifactStore } from '../constructs/artifact-store';
import { ModelRegistry } from '../constructs/model-registry';

export interface RegistryStackProps extends StackProps {
  /**
   * An existing bucket for model artifacts.
   * @default - a new bucket
   */
  readonly existingArtifactBucket?: IBucket;
}

/** Stateful resources: the registry table and the artifact bucket (RETAIN, encrypted, recoverable). */
export class RegistryStack extends Stack {
  public readonly registry: ModelRegistry;
  public readonly artifacts: ArtifactStore;

  constructor(scope: Construct, id: string, props: RegistryStackProps = {}) {
    super(scope, id, props);
    this.registry = new ModelRegistry(this, 'ModelRegistry');
    this.artifacts = new ArtifactStore(this, 'Artifacts', { existingBucket: props.existingArtifactBucket });
    new CfnOutput(this, 'RegistryTableName', { value: this.registry.table.tableName });
    new CfnOutput(this, 'ArtifactBucketName', { value: this.artifacts.bucket.bucketName });
  }
}
