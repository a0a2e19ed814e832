import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, type ITableV2, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { REGISTRY_TABLE_SCHEMA } from '../../core/table/layout';

export interface ModelRegistryProps {
  /**
   * Customer-managed KMS key for the table.
   * @default - the AWS managed key for DynamoDB (aws/dynamodb) encrypts the table
   */
  readonly encryptionKey?: IKey;
  /**
   * What happens to the table when the stack is deleted.
   * @default RemovalPolicy.RETAIN - the registry outlives the stack
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The registry table: registered models, versions, stages, aliases, tags (and later
 * serving state, events and tokens). One table, key schema shared with the local twin.
 */
export class ModelRegistry extends Construct {
  public readonly table: ITableV2;

  constructor(scope: Construct, id: string, props: ModelRegistryProps = {}) {
    super(scope, id);
    const s = REGISTRY_TABLE_SCHEMA;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.table = new TableV2(this, 'Table', {
      partitionKey: { name: s.partitionKey, type: AttributeType.STRING },
      sortKey: { name: s.sortKey, type: AttributeType.STRING },
      globalSecondaryIndexes: s.indexes.map((index) => ({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
      })),
      billing: Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: props.encryptionKey
        ? TableEncryptionV2.customerManagedKey(props.encryptionKey)
        : TableEncryptionV2.awsManagedKey(),
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
    });
  }
}
