import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { type OnlineStores as OnlineStoresConfig, parseOnlineStores } from '../../core/features/online-stores';
import { OnlineStores } from '../../infra/constructs/online-stores';

const CLUSTER = 'arn:aws:rds:eu-west-1:123456789012:cluster:features';
const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:features-reader-AbCdEf';

/** A stack with a serving-task role granted read on the given stores. */
function storesStack(config?: OnlineStoresConfig) {
  const stack = new Stack(new App(), 'Stores', { env: { account: '123456789012', region: 'eu-west-1' } });
  const role = new Role(stack, 'TaskRole', { assumedBy: new ServicePrincipal('ecs-tasks.amazonaws.com') });
  const stores = new OnlineStores(stack, 'OnlineStores', { config });
  const grant = stores.grantRead(role);
  return { stores, grant, template: Template.fromStack(stack) };
}

/** The task role's policy statements as `action → resources`. */
function granted(template: Template): Record<string, unknown> {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as {
    Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } };
  }[];
  return Object.fromEntries(
    policies
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .map((st) => [([] as string[]).concat(st.Action).join(','), ([] as unknown[]).concat(st.Resource)]),
  );
}

describe('OnlineStores', () => {
  const config: OnlineStoresConfig = {
    stores: {
      customers: { type: 'dynamodb', tableName: 'customer_features' },
      orders: { type: 'dynamodb', tableName: 'order_features' },
      // a second store on the same table is granted once
      'customers.v2': { type: 'dynamodb', tableName: 'customer_features' },
      accounts: {
        type: 'aurora-mysql',
        clusterArn: CLUSTER,
        secretArn: SECRET,
        database: 'features',
        tableName: 'account_features',
      },
    },
    featureTables: { 'ml.recsys.customer_features': { store: 'customers' } },
  };

  it('grants BatchGetItem on exactly each table, ExecuteStatement on each cluster, GetSecretValue on each secret', () => {
    const { template, grant } = storesStack(config);
    const table = (name: string) => `arn:aws:dynamodb:eu-west-1:123456789012:table/${name}`;
    expect(granted(template)).toEqual({
      'dynamodb:BatchGetItem': [
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, table('customer_features').slice('arn:aws'.length)]] },
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, table('order_features').slice('arn:aws'.length)]] },
      ],
      'rds-data:ExecuteStatement': [CLUSTER],
      'secretsmanager:GetSecretValue': [SECRET],
    });
    expect(grant.success).toBe(true);
  });

  it('grants only what is configured: DynamoDB stores alone give one BatchGetItem statement', () => {
    const { template } = storesStack({
      stores: { customers: { type: 'dynamodb', tableName: 'customer_features' } },
      featureTables: {},
    });
    expect(Object.keys(granted(template))).toEqual(['dynamodb:BatchGetItem']);
  });

  it('grants nothing and sets no variable without stores', () => {
    for (const none of [undefined, { stores: {}, featureTables: {} }]) {
      const { stores, grant, template } = storesStack(none);
      template.resourceCountIs('AWS::IAM::Policy', 0);
      expect(grant.success).toBe(false);
      expect(stores.environment).toEqual({});
      expect(stores.configured).toBe(false);
    }
  });

  it('gives serving tasks the validated configuration as MLSERVE_ONLINE_STORES', () => {
    const { stores } = storesStack(config);
    expect(Object.keys(stores.environment)).toEqual(['MLSERVE_ONLINE_STORES']);
    expect(parseOnlineStores(stores.environment.MLSERVE_ONLINE_STORES)).toEqual(config);
    expect(stores.configured).toBe(true);
  });

  it('refuses a configuration that does not validate, naming the problem', () => {
    expect(() =>
      storesStack({
        stores: { customers: { type: 'dynamodb', tableName: 'customer_features' } },
        featureTables: { 'ml.recsys.orders': { store: 'orders' } },
      }),
    ).toThrow(/featureTables\.ml\.recsys\.orders\.store: feature table 'ml.recsys.orders' maps to store 'orders'/);
  });
});
