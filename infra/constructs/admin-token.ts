import { type CfnElement, CfnOutput, CustomResource, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Provider } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { MlserveFunction } from './mlserve-function';
import type { ScoringApi } from './scoring-api';

export interface AdminTokenProps {
  readonly table: ITableV2;
  /** The API whose per-token usage plan gets the admin token's API key. */
  readonly api?: ScoringApi;
}

/**
 * The first admin token, made at deploy time: its hash in the registry table, its secret in a
 * Secrets Manager secret whose ARN the stack outputs (`aws secretsmanager get-secret-value`).
 */
export class AdminToken extends Construct {
  public readonly secret: Secret;

  constructor(scope: Construct, id: string, props: AdminTokenProps) {
    super(scope, id);
    this.secret = new Secret(this, 'Secret', {
      description: 'mlserve: the first admin token (shown here once it is made; revoke it with the tokens API)',
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SMG4',
      reason:
        'Tokens are rotated with the tokens API (create a new one, revoke the old); this secret only hands over the first.',
    });
    const fn = new MlserveFunction(this, 'Bootstrap', {
      invokedSynchronously: true,
      entry: 'lambdas/access/bootstrap.ts',
      environment: { REGISTRY_TABLE: props.table.tableName, ADMIN_TOKEN_SECRET_ARN: this.secret.secretArn },
      timeoutSeconds: 60,
    });
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
        resources: [props.table.tableArn, `${props.table.tableArn}/index/ByKind`],
      }),
    );
    this.secret.grantWrite(fn);
    const keysPolicy = props.api?.grantTokenKeys(fn);
    if (props.api) fn.addEnvironment('USAGE_PLAN_NAME', props.api.usagePlanName);
    const provider = new Provider(this, 'Provider', {
      onEventHandler: fn,
      logGroup: new LogGroup(this, 'ProviderLogs', {
        retention: RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    });
    for (const [rule, what] of [
      ['LambdaDefaultMemorySize', 'memory'],
      ['LambdaTracing', 'tracing'],
      ['LambdaDLQ', 'dead-letter queue'],
      ['LambdaLatestVersion', 'runtime'],
    ] as const) {
      Validations.of(provider).acknowledge({
        id: `Serverless::Serverless-${rule}`,
        reason: `The custom resource provider framework's own function (CDK sets its ${what}); it runs once per deployment.`,
      });
    }
    Validations.of(provider).acknowledge({
      id: 'AwsSolutions::AwsSolutions-L1',
      reason: "The custom resource provider framework's own function; its runtime is set by CDK.",
    });
    Validations.of(provider).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "The custom resource provider framework's own function uses the basic execution role CDK gives it.",
    });
    const fnId = Stack.of(this).getLogicalId(fn.node.defaultChild as CfnElement);
    Validations.of(provider).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${fnId}.Arn>:*]`,
      reason: 'The provider framework may invoke the bootstrap function and its versions, nothing else.',
    });
    const token = new CustomResource(this, 'Token', { serviceToken: provider.serviceToken });
    if (props.api && keysPolicy) token.node.addDependency(props.api.usagePlan, keysPolicy);
    new CfnOutput(this, 'AdminTokenSecretArn', {
      value: this.secret.secretArn,
      description: 'Read the first admin token: aws secretsmanager get-secret-value --secret-id <this>',
    });
  }
}
