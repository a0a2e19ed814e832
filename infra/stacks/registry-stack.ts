import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ModelRegistry } from '../constructs/model-registry';

/** Stateful resources: the registry table (RETAIN, point-in-time recovery, encrypted). */
export class RegistryStack extends Stack {
  public readonly registry: ModelRegistry;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.registry = new ModelRegistry(this, 'ModelRegistry');
    new CfnOutput(this, 'RegistryTableName', { value: this.registry.table.tableName });
  }
}
