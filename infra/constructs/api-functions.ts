import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { type IManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { REGISTRY_TABLE_SCHEMA } from '../../core/table/layout';
import { MlserveFunction } from './mlserve-function';
import type { NetworkProfile } from './network';

export interface ApiFunctionsProps {
  readonly table: ITableV2;
  readonly eventBus: IEventBus;
  /** Read access to the artifact bucket, for the registration check. */
  readonly artifactReadPolicy: IManagedPolicy;
  /** Comma-separated allowed model source roots. */
  readonly sourceRoots: string;
  /** The serving tasks' log group (the serving API reads version logs from it). */
  readonly servingLogGroupName: string;
  /**
   * The app's network profile: whether serving tasks have public IPv4 addresses (lean), which
   * the serving API's compute-size prices include (`MLSERVE_NETWORK_PROFILE` of the serving function).
   * @default 'lean'
   */
  readonly networkProfile?: NetworkProfile;
  /**
   * How long authorizer answers and in-process access decisions are cached.
   * @default Duration.seconds(60)
   */
  readonly authCacheTtl?: Duration;
}

/**
 * The API's Lambda functions: the REQUEST authorizer, the registry, serving and access APIs,
 * and the registration check. Each gets exactly the table actions, events and reads it needs.
 */
export class ApiFunctions extends Construct {
  public readonly authorizer: MlserveFunction;
  public readonly registry: MlserveFunction;
  public readonly registrationCheck: MlserveFunction;
  public readonly serving: MlserveFunction;
  public readonly access: MlserveFunction;
  /** How long authorizer answers are cached (the REST API's authorizers use the same). */
  public readonly authCacheTtl: Duration;

  constructor(scope: Construct, id: string, props: ApiFunctionsProps) {
    super(scope, id);
    this.authCacheTtl = props.authCacheTtl ?? Duration.seconds(60);
    const common = {
      REGISTRY_TABLE: props.table.tableName,
      AUTH_CACHE_TTL_SECONDS: String(this.authCacheTtl.toSeconds()),
      POWERTOOLS_SERVICE_NAME: 'mlserve',
    };
    const withRegistry = {
      ...common,
      MLSERVE_SOURCE_ROOTS: props.sourceRoots,
      EVENT_BUS_NAME: props.eventBus.eventBusName,
    };

    this.authorizer = new MlserveFunction(this, 'Authorizer', {
      invokedSynchronously: true,
      entry: 'lambdas/authorizer/handler.ts',
      environment: common,
      memoryMiB: 256,
      timeoutSeconds: 10,
    });
    this.registry = new MlserveFunction(this, 'Registry', {
      invokedSynchronously: true,
      entry: 'lambdas/registry/handler.ts',
      environment: withRegistry,
    });
    this.registrationCheck = new MlserveFunction(this, 'RegistrationCheck', {
      entry: 'lambdas/registry/registration-check.ts',
      environment: withRegistry,
      timeoutSeconds: 60,
    });
    this.serving = new MlserveFunction(this, 'Serving', {
      invokedSynchronously: true,
      entry: 'lambdas/serving/handler.ts',
      environment: {
        ...withRegistry,
        SERVING_LOG_GROUP: props.servingLogGroupName,
        METRICS_NAMESPACE: 'mlserve',
        MLSERVE_NETWORK_PROFILE: props.networkProfile ?? 'lean',
      },
    });
    this.access = new MlserveFunction(this, 'Access', {
      invokedSynchronously: true,
      entry: 'lambdas/access/handler.ts',
      environment: withRegistry,
    });

    // Least privilege: the authorizer reads tokens and permissions (and notes a token's last use).
    this.authorizer.addToRolePolicy(
      new PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resources: [props.table.tableArn] }),
    );
    // The registry's reads and writes, on the table and its two named indexes (no wildcards).
    const tableResources = [
      props.table.tableArn,
      ...REGISTRY_TABLE_SCHEMA.indexes.map((index) => `${props.table.tableArn}/index/${index.name}`),
    ];
    const registryActions = [
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:Query',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
    ];
    for (const fn of [this.registry, this.registrationCheck, this.serving, this.access]) {
      fn.addToRolePolicy(new PolicyStatement({ actions: registryActions, resources: tableResources }));
      props.eventBus.grantPutEventsTo(fn);
    }
    // The registration check reads MLmodel from version sources in the artifact bucket, and the
    // registry API a version's input example (model-versions/get-input-example).
    this.registrationCheck.role?.addManagedPolicy(props.artifactReadPolicy);
    this.registry.role?.addManagedPolicy(props.artifactReadPolicy);
    this.serving.addToRolePolicy(
      new PolicyStatement({
        actions: ['logs:FilterLogEvents'],
        resources: [
          Stack.of(this).formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: props.servingLogGroupName,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    this.serving.addToRolePolicy(new PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }));
  }
}
