import { type CfnElement, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** The key prefix under which serving tasks keep built Python environments (docs/environments.md). */
export const ENVIRONMENTS_PREFIX = 'environments';

export interface ArtifactStoreProps {
  /**
   * Use an existing bucket for model artifacts instead of creating one.
   * @default - a new versioned, encrypted bucket, retained when the stack goes
   */
  readonly existingBucket?: IBucket;
}

/** Where model versions' artifacts live: versioned, encrypted, private, TLS only, access-logged. */
export class ArtifactStore extends Construct {
  public readonly bucket: IBucket;
  /** Read access to the artifacts (list the bucket, get objects), for the roles that load models. */
  public readonly readPolicy: ManagedPolicy;
  /** Where serving tasks keep built Python environments (`s3://bucket/environments`). */
  public readonly environmentsUri: string;
  /** Read, write and delete under the environments prefix only, for the serving tasks. */
  public readonly environmentsPolicy: ManagedPolicy;

  constructor(scope: Construct, id: string, props: ArtifactStoreProps = {}) {
    super(scope, id);
    this.bucket = props.existingBucket ?? this.createBucket();
    this.readPolicy = new ManagedPolicy(this, 'ReadPolicy', {
      description: 'Read mlserve model artifacts',
      statements: [
        new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }),
        new PolicyStatement({ actions: ['s3:GetObject'], resources: [this.bucket.arnForObjects('*')] }),
      ],
    });
    const child = this.bucket.node.defaultChild as CfnElement | undefined;
    const objects = child
      ? `<${Stack.of(this).getLogicalId(child)}.Arn>/*`
      : `arn:<AWS::Partition>:s3:::${this.bucket.bucketName}/*`;
    Validations.of(this.readPolicy).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${objects}]`,
      reason:
        'Model artifacts are objects anywhere in the artifact bucket (version sources are checked against the allowed prefixes).',
    });
    this.environmentsUri = `s3://${this.bucket.bucketName}/${ENVIRONMENTS_PREFIX}`;
    this.environmentsPolicy = new ManagedPolicy(this, 'EnvironmentsPolicy', {
      description: 'Keep built Python environments of mlserve serving tasks',
      statements: [
        new PolicyStatement({
          actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
          resources: [this.bucket.arnForObjects(`${ENVIRONMENTS_PREFIX}/*`)],
        }),
        // S3 answers a missing archive with 404 only to a role that may list the bucket (else 403).
        new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }),
      ],
    });
    Validations.of(this.environmentsPolicy).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${objects.slice(0, -1)}${ENVIRONMENTS_PREFIX}/*]`,
      reason: 'Environments are archives named by a content hash under their own prefix, written as tasks build them.',
    });
  }

  private createBucket(): IBucket {
    const accessLogs = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions::AwsSolutions-S1',
      reason: 'This bucket receives the artifact bucket’s server access logs; logging it would recurse.',
    });
    return new Bucket(this, 'Bucket', {
      versioned: true,
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'artifacts/',
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
