import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app';
import { DEFAULT_THROTTLES, readAppConfig } from '../../infra/config';

const VPC = {
  vpcId: 'vpc-0123456789abcdef0',
  availabilityZones: ['eu-west-1a', 'eu-west-1b'],
  publicSubnetIds: ['subnet-0000000000000000a', 'subnet-0000000000000000b'],
  privateSubnetIds: ['subnet-1111111111111111a', 'subnet-1111111111111111b'],
};
const CLUSTER = 'arn:aws:rds:eu-west-1:123456789012:cluster:features';
const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:features-reader-AbCdEf';
const STORES = {
  stores: {
    customers: { type: 'dynamodb', tableName: 'customer_features' },
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
const WEB_ACL = 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/mlserve/0a1b2c3d-1111-2222-3333-444455556666';
const CERTIFICATE = 'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666';
const PIP_INDEX_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mlserve/pip-index-XyZ123';

/** Every option set, as `-c key=value` gives them (strings; structured values as JSON text). */
const EVERY_OPTION: Record<string, string> = {
  'mlserve:region': 'eu-west-1',
  'mlserve:networkProfile': 'hardened',
  'mlserve:alarmEmail': 'ops@example.com',
  'mlserve:vpc': JSON.stringify(VPC),
  'mlserve:artifactBucketName': 'acme-mlflow-artifacts',
  'mlserve:onlineStores': JSON.stringify(STORES),
  'mlserve:webAclArn': WEB_ACL,
  'mlserve:domainName': 'models.example.com',
  'mlserve:certificateArn': CERTIFICATE,
  'mlserve:hostedZoneId': 'Z0123456789ABCDEFGHIJ',
  'mlserve:hostedZoneName': 'example.com',
  'mlserve:pipIndexSecretArn': PIP_INDEX_SECRET,
  'mlserve:stageRateLimit': '800',
  'mlserve:stageBurst': '1600',
  'mlserve:tokenRateLimit': '120',
  'mlserve:tokenBurst': '240',
};

/** The app for `context`, without bundling Lambda code (only the templates are judged). */
const app = (context: Record<string, unknown>, outdir?: string) =>
  buildApp(new App({ outdir, context: { 'aws:cdk:bundling-stacks': [], ...context } }));

interface Statement {
  Action: string | string[];
  Resource: unknown;
}

describe('the app with every option set', () => {
  let outdir: string;
  let synthError: unknown;
  let registry: Template;
  let platform: Template;

  beforeAll(() => {
    outdir = mkdtempSync(path.join(tmpdir(), 'mlserve-options-'));
    try {
      app(EVERY_OPTION, outdir).synth();
    } catch (error) {
      synthError = error;
    }
    const template = (stack: string) =>
      Template.fromJSON(JSON.parse(readFileSync(path.join(outdir, `${stack}.template.json`), 'utf8')));
    registry = template('MlserveRegistry');
    platform = template('MlservePlatform');
  }, 180_000);
  afterAll(() => {
    rmSync(outdir, { recursive: true, force: true });
  });

  it("passes cdk-nag's AWS Solutions and Serverless checks", () => {
    expect(synthError).toBeUndefined();
    const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; conclusion: string; violations?: unknown[] }[];
    };
    expect(report.pluginReports.map((r) => r.pluginName)).toEqual(
      expect.arrayContaining(['AwsSolutions', 'Serverless']),
    );
    expect(report.pluginReports.flatMap((r) => r.violations ?? [])).toEqual([]);
    expect(report.pluginReports.every((r) => r.conclusion === 'success')).toBe(true);
  });

  /** The environment of the task definition the deploy workflow registers. */
  const taskEnvironment = () => {
    const [machine] = Object.values(platform.findResources('AWS::StepFunctions::StateMachine')) as {
      Properties: { DefinitionString: { 'Fn::Join': [string, unknown[]] } };
    }[];
    const text = (machine?.Properties.DefinitionString['Fn::Join'][1] ?? [])
      .map((part) => (typeof part === 'string' ? part : '«ref»'))
      .join('');
    const states = (JSON.parse(text) as { States: Record<string, { Resource?: string; Parameters?: unknown }> }).States;
    const register = Object.values(states).find((s) => s.Resource?.endsWith(':ecs:registerTaskDefinition'));
    const parameters = register?.Parameters as
      | { ContainerDefinitions: { Environment: { Name: string; Value?: string }[] }[] }
      | undefined;
    return parameters?.ContainerDefinitions[0]?.Environment ?? [];
  };

  it('gives serving tasks MLSERVE_ONLINE_STORES in the task definition the deploy workflow registers', () => {
    const variable = taskEnvironment().find((e) => e.Name === 'MLSERVE_ONLINE_STORES');
    expect(JSON.parse(variable?.Value ?? 'null')).toEqual(STORES);
  });

  it('gives serving tasks the package index secret as MLSERVE_PIP_INDEX_URL_SECRET_ARN', () => {
    expect(taskEnvironment().filter((e) => e.Name.startsWith('MLSERVE_PIP_'))).toEqual([
      { Name: 'MLSERVE_PIP_INDEX_URL_SECRET_ARN', Value: PIP_INDEX_SECRET },
    ]);
  });

  it('grants the serving task role exactly the configured stores’ reads and the package index secret', () => {
    const [taskRole] = Object.keys(platform.findResources('AWS::IAM::Role')).filter((id) =>
      id.includes('DeployModelTaskRole'),
    );
    const policies = Object.values(platform.findResources('AWS::IAM::Policy')) as {
      Properties: { Roles: { Ref: string }[]; PolicyDocument: { Statement: Statement[] } };
    }[];
    const statements = policies
      .filter((p) => p.Properties.Roles.some((r) => r.Ref === taskRole))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const on = (action: string) => statements.filter((st) => ([] as string[]).concat(st.Action).includes(action));
    expect(on('rds-data:ExecuteStatement')).toEqual([
      expect.objectContaining({ Action: 'rds-data:ExecuteStatement', Resource: CLUSTER }),
    ]);
    const secretReads = on('secretsmanager:GetSecretValue');
    expect(secretReads).toHaveLength(2);
    expect(secretReads).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Action: 'secretsmanager:GetSecretValue', Resource: SECRET }),
        expect.objectContaining({ Action: 'secretsmanager:GetSecretValue', Resource: PIP_INDEX_SECRET }),
      ]),
    );
    expect(on('dynamodb:BatchGetItem')).toContainEqual(
      expect.objectContaining({
        Action: 'dynamodb:BatchGetItem',
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':dynamodb:eu-west-1:',
              { Ref: 'AWS::AccountId' },
              ':table/customer_features',
            ],
          ],
        },
      }),
    );
  });

  it('uses the existing VPC: no VPC is made, and the hardened profile puts everything in its private subnets', () => {
    platform.resourceCountIs('AWS::EC2::VPC', 0);
    platform.resourceCountIs('AWS::EC2::Subnet', 0);
    platform.resourceCountIs('AWS::EC2::NatGateway', 0);
    platform.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internal',
      Subnets: VPC.privateSubnetIds,
    });
    platform.hasResourceProperties('AWS::ApiGatewayV2::VpcLink', { SubnetIds: VPC.privateSubnetIds });
    platform.hasResourceProperties('AWS::EC2::SecurityGroup', { VpcId: VPC.vpcId });
    const definition = JSON.stringify(platform.findResources('AWS::StepFunctions::StateMachine'));
    for (const subnet of VPC.privateSubnetIds) expect(definition).toContain(subnet);
    for (const subnet of VPC.publicSubnetIds) expect(definition).not.toContain(subnet);
    expect(definition).toContain('\\"AssignPublicIp\\":\\"DISABLED\\"');
  });

  it('uses the existing artifact bucket: none is made, and reads and source roots name it', () => {
    registry.resourceCountIs('AWS::S3::Bucket', 0);
    const arn = (resource: string) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${resource}`]],
    });
    registry.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Action: 's3:ListBucket', Resource: arn('acme-mlflow-artifacts') }),
          Match.objectLike({ Action: 's3:GetObject', Resource: arn('acme-mlflow-artifacts/*') }),
        ],
      },
    });
    platform.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MLSERVE_SOURCE_ROOTS: 's3://acme-mlflow-artifacts/models' }) },
    });
  });

  it('throttles the stage and each token as configured', () => {
    platform.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 800, ThrottlingBurstLimit: 1600 }),
      ]),
    });
    platform.hasResourceProperties('AWS::ApiGateway::UsagePlan', { Throttle: { RateLimit: 120, BurstLimit: 240 } });
  });

  it('associates the web ACL with the API stage', () => {
    platform.hasResourceProperties('AWS::WAFv2::WebACLAssociation', { WebACLArn: WEB_ACL });
  });

  it('serves the API on the custom domain, with its alias record, and outputs the DNS target', () => {
    const [domain] = Object.keys(platform.findResources('AWS::ApiGateway::DomainName'));
    platform.hasResourceProperties('AWS::ApiGateway::DomainName', {
      DomainName: 'models.example.com',
      RegionalCertificateArn: CERTIFICATE,
      EndpointConfiguration: { Types: ['REGIONAL'] },
      SecurityPolicy: 'TLS_1_2',
    });
    platform.resourceCountIs('AWS::ApiGateway::BasePathMapping', 1);
    platform.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'models.example.com.',
      Type: 'A',
      HostedZoneId: 'Z0123456789ABCDEFGHIJ',
    });
    platform.hasOutput('CustomDomainTarget', {
      Value: { 'Fn::GetAtt': [domain, 'RegionalDomainName'] },
      Description: 'The regional domain to point models.example.com at (CNAME or alias)',
    });
  });

  it('outputs the web console at the root of the custom domain', () => {
    platform.hasOutput('ConsoleUrl', { Value: 'https://models.example.com/' });
  });
});

describe('the release serving tasks run', () => {
  /** The release the deploy workflow records for a deployment, from the synthesized definition. */
  const release = (context: Record<string, unknown>) => {
    const built = app(context);
    const platform = Template.fromStack(built.node.findChild('MlservePlatform') as Stack);
    const [machine] = Object.values(platform.findResources('AWS::StepFunctions::StateMachine')) as {
      Properties: { DefinitionString: unknown };
    }[];
    const text = JSON.stringify(machine?.Properties.DefinitionString);
    return /deployedRelease <> :release.*?\\":release\\":\{\\"S\\":\\"([0-9a-f]+)\\"/.exec(text)?.[1];
  };

  it('changes with the online stores, so a new configuration rolls every served model', () => {
    const without = release({});
    expect(without).toMatch(/^[0-9a-f]{16}$/);
    expect(release({})).toBe(without);
    expect(release({ 'mlserve:onlineStores': STORES })).not.toBe(without);
  });

  it('changes with the package index secret', () => {
    const without = release({});
    const secret = release({
      'mlserve:pipIndexSecretArn': 'arn:aws:secretsmanager:us-east-1:123456789012:secret:a-AbCdEf',
    });
    expect(secret).toMatch(/^[0-9a-f]{16}$/);
    expect(secret).not.toBe(without);
  });
});

describe('the app configuration', () => {
  it('accepts the online stores as an object (cdk.json) or as JSON text (-c)', () => {
    const fromObject = readAppConfig(new App({ context: { 'mlserve:onlineStores': STORES } }).node);
    const fromText = readAppConfig(new App({ context: { 'mlserve:onlineStores': JSON.stringify(STORES) } }).node);
    expect(fromObject.onlineStores).toEqual(STORES);
    expect(fromText.onlineStores).toEqual(STORES);
  });

  it('accepts the VPC as an object (cdk.json) or as JSON text (-c), and the defaults without context', () => {
    expect(readAppConfig(new App({ context: { 'mlserve:vpc': VPC } }).node).existingVpc).toEqual(VPC);
    expect(readAppConfig(new App({ context: { 'mlserve:vpc': JSON.stringify(VPC) } }).node).existingVpc).toEqual(VPC);
    expect(readAppConfig(new App().node)).toEqual({
      region: 'us-east-1',
      networkProfile: 'lean',
      interfaceEndpoints: false,
      ...DEFAULT_THROTTLES,
    });
    expect(DEFAULT_THROTTLES).toEqual({ stageRateLimit: 200, stageBurst: 400, tokenRateLimit: 50, tokenBurst: 100 });
  });

  it('fails synth on an online-store configuration that does not validate, naming the key and the problem', () => {
    const missingTable = JSON.stringify({ stores: { customers: { type: 'dynamodb' } } });
    expect(() => app({ 'mlserve:onlineStores': missingTable })).toThrow(
      /mlserve:onlineStores is not a valid online-store configuration: stores\.customers\.tableName: /,
    );
    expect(() => app({ 'mlserve:onlineStores': { stores: { c: { type: 'redis', tableName: 'x' } } } })).toThrow(
      /mlserve:onlineStores .*stores\.c\.type/,
    );
    expect(() => app({ 'mlserve:onlineStores': '{"stores": ' })).toThrow(/mlserve:onlineStores is not valid JSON/);
  });

  it('fails synth on other invalid options, naming each', () => {
    const attempt = (context: Record<string, unknown>) => () => app(context);
    expect(attempt({ 'mlserve:vpc': { vpcId: 'vpc-0123', availabilityZones: ['eu-west-1a'] } })).toThrow(
      /mlserve:vpc: give publicSubnetIds \(lean\) or privateSubnetIds \(hardened\)/,
    );
    expect(attempt({ 'mlserve:vpc': { ...VPC, privateSubnetIds: ['subnet-1111111111111111a'] } })).toThrow(
      /mlserve:vpc\.privateSubnetIds: 1 subnets is not a multiple of the 2 availability zones/,
    );
    expect(
      attempt({ 'mlserve:networkProfile': 'hardened', 'mlserve:vpc': { ...VPC, privateSubnetIds: undefined } }),
    ).toThrow(/hardened profile runs serving tasks in the VPC's private subnets/);
    expect(attempt({ 'mlserve:domainName': 'models.example.com' })).toThrow(/needs both domainName and certificateArn/);
    expect(attempt({ 'mlserve:webAclArn': 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/x/1' })).toThrow(
      /mlserve:webAclArn: a regional WAFv2 web ACL ARN/,
    );
    expect(
      attempt({
        'mlserve:domainName': 'models.example.com',
        'mlserve:certificateArn': CERTIFICATE,
        'mlserve:region': 'us-east-1',
      }),
    ).toThrow(/the certificate is in eu-west-1; a regional API's certificate must be in us-east-1/);
    expect(
      attempt({ 'mlserve:pipIndexSecretArn': 'arn:aws:secretsmanager:us-east-1:123456789012:secret:pip' }),
    ).toThrow(/mlserve:pipIndexSecretArn: the full ARN of a Secrets Manager secret/);
    expect(attempt({ 'mlserve:pipIndexSecretArn': 'arn:aws:ssm:us-east-1:123456789012:parameter/pip-AbCdEf' })).toThrow(
      /mlserve:pipIndexSecretArn: the full ARN of a Secrets Manager secret/,
    );
    expect(attempt({ 'mlserve:pipIndexSecretArn': PIP_INDEX_SECRET })).toThrow(
      /mlserve:pipIndexSecretArn: the secret is in eu-west-1; serving tasks read it in us-east-1 \(mlserve:region\)/,
    );
    expect(attempt({ 'mlserve:stageRateLimit': 'fast', 'mlserve:tokenBurst': '0' })).toThrow(
      /mlserve:stageRateLimit: a whole number of requests\n.*mlserve:tokenBurst: at least 1/,
    );
    expect(attempt({ 'mlserve:stageRateLimit': '20000' })).toThrow(/mlserve:stageRateLimit: at most 10000/);
    expect(attempt({ 'mlserve:tokenRateLimit': '300' })).toThrow(
      /mlserve:tokenRateLimit: 300\/s per token is above the stage's 200\/s \(mlserve:stageRateLimit\)/,
    );
    expect(attempt({ 'mlserve:stageRateLimit': '100', 'mlserve:stageBurst': '50' })).toThrow(
      /mlserve:stageBurst: 50 is below the stage's rate of 100\/s/,
    );
    expect(attempt({ 'mlserve:networkProfile': 'fortified', 'mlserve:artifactBucketName': 'No_Such' })).toThrow(
      /mlserve:networkProfile: .*\n.*mlserve:artifactBucketName: an S3 bucket name/,
    );
  });
});
