import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { ArtifactStore } from '../constructs/artifact-store';
import { ModelRegistry } from '../constructs/model-registry';

export interface RegistryStackProps extends StackProps {
  /**
   * The name of an existing bucket for model artifacts (imported by name, no lookup): the stack
   * then makes no bucket, and the artifact read policy names this one.
   * @default - a new versioned, encrypted, access-logged bucket, retained when the stack goes
   */
  readonly existingArtifactBucketName?: string;
}

/** Stateful resources: the registry table and the artifact bucket (RETAIN, encrypted, recoverable). */
export class RegistryStack extends Stack {
  public readonly registry: ModelRegistry;
  public readonly artifacts: ArtifactStore;

  constructor(scope: Construct, id: string, props: RegistryStackProps = {}) {
    super(scope, id, props);
    this.registry = new ModelRegistry(this, 'ModelRegistry');
    this.artifacts = new ArtifactStore(this, 'Artifacts', {
      existingBucket: props.existingArtifactBucketName
        ? Bucket.fromBucketName(this, 'ExistingArtifactBucket', props.existingArtifactBucketName)
        : undefined,
    });
    new CfnOutput(this, 'RegistryTableName', { value: this.registry.table.tableName });
    new CfnOutput(this, 'ArtifactBucketName', { value: this.artifacts.bucket.bucketName });
  }
}
