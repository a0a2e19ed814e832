import { Stack } from 'aws-cdk-lib';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  NO_ONLINE_STORES,
  type OnlineStores as OnlineStoresConfig,
  parseOnlineStores,
} from '../../core/features/online-stores';

/** The environment variable serving tasks read the online stores from. */
export const ONLINE_STORES_VARIABLE = 'MLSERVE_ONLINE_STORES';

export interface OnlineStoresProps {
  /**
   * The operator's online stores and feature-table mappings (`core/features/online-stores.ts`);
   * validated again here.
   * @default - no stores: no environment variable and no grants
   */
  readonly config?: OnlineStoresConfig;
}

/**
 * The online stores feature lookups may read: the JSON every serving task gets as
 * `MLSERVE_ONLINE_STORES`, and read access to exactly the configured DynamoDB tables
 * (`dynamodb:BatchGetItem`), Aurora clusters (`rds-data:ExecuteStatement`) and their credential
 * secrets (`secretsmanager:GetSecretValue`). Creates no resources: the stores are the operator's.
 */
export class OnlineStores extends Construct {
  /** The validated configuration. */
  public readonly config: OnlineStoresConfig;
  /** Whether any store is configured. */
  public readonly configured: boolean;
  /**
   * What serving tasks get in their environment: `{ MLSERVE_ONLINE_STORES: <the JSON> }`, or
   * nothing when no store is configured.
   */
  public readonly environment: Readonly<Record<string, string>>;
  /** The ARNs of the configured DynamoDB tables, in this stack's account and region. */
  public readonly tableArns: readonly string[];
  /** The ARNs of the configured Aurora clusters. */
  public readonly clusterArns: readonly string[];
  /** The ARNs of the configured Aurora clusters' credential secrets. */
  public readonly secretArns: readonly string[];

  constructor(scope: Construct, id: string, props: OnlineStoresProps = {}) {
    super(scope, id);
    this.config = parseOnlineStores(props.config ?? NO_ONLINE_STORES, `${this.node.path}: config`);
    const stores = Object.values(this.config.stores);
    this.configured = stores.length > 0;
    this.environment = this.configured ? { [ONLINE_STORES_VARIABLE]: JSON.stringify(this.config) } : {};
    const stack = Stack.of(this);
    const unique = (arns: string[]) => [...new Set(arns)];
    this.tableArns = unique(
      stores.flatMap((s) =>
        s.type === 'dynamodb'
          ? [stack.formatArn({ service: 'dynamodb', resource: 'table', resourceName: s.tableName })]
          : [],
      ),
    );
    this.clusterArns = unique(stores.flatMap((s) => (s.type === 'aurora-mysql' ? [s.clusterArn] : [])));
    this.secretArns = unique(stores.flatMap((s) => (s.type === 'aurora-mysql' ? [s.secretArn] : [])));
  }

  /**
   * Lets `grantee` read the configured stores: `dynamodb:BatchGetItem` on each table,
   * `rds-data:ExecuteStatement` on each Aurora cluster, `secretsmanager:GetSecretValue` on each
   * secret — one statement per kind that is configured, none at all without stores.
   */
  grantRead(grantee: IGrantable): Grant {
    const grants: [string, readonly string[]][] = [
      ['dynamodb:BatchGetItem', this.tableArns],
      ['rds-data:ExecuteStatement', this.clusterArns],
      ['secretsmanager:GetSecretValue', this.secretArns],
    ];
    return grants
      .filter(([, resources]) => resources.length > 0)
      .reduce(
        (grant, [action, resources]) =>
          grant.combine(Grant.addToPrincipal({ grantee, actions: [action], resourceArns: [...resources] })),
        Grant.drop(grantee, 'no online stores are configured'),
      );
  }
}
