import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { SubnetType, Vpc, type VpcAttributes } from 'aws-cdk-lib/aws-ec2';
import { describe, expect, it } from 'vitest';
import { Network, type NetworkProps } from '../../infra/constructs/network';

function network(props: NetworkProps, existing?: VpcAttributes) {
  const stack = new Stack(new App(), 'Net', { env: { account: '123456789012', region: 'us-east-1' } });
  const existingVpc = existing && Vpc.fromVpcAttributes(stack, 'Existing', existing);
  const net = new Network(stack, 'Network', { ...props, existingVpc });
  return {
    net,
    stack,
    get template() {
      return Template.fromStack(stack);
    },
  };
}

const EXISTING: VpcAttributes = {
  vpcId: 'vpc-0123456789abcdef0',
  availabilityZones: ['us-east-1a', 'us-east-1b'],
  publicSubnetIds: ['subnet-0000000000000000a', 'subnet-0000000000000000b'],
  privateSubnetIds: ['subnet-1111111111111111a', 'subnet-1111111111111111b'],
};

describe('Network', () => {
  it('lean: two AZs of public subnets, no NAT, no endpoints, tasks with public IPs, flow logs kept a month', () => {
    const { net, template } = network({ profile: 'lean' });
    template.resourceCountIs('AWS::EC2::Subnet', 2);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    template.hasResourceProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: true });
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL' });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    expect(net.assignPublicIp).toBe(true);
    expect(net.taskSubnets).toEqual({ subnetType: SubnetType.PUBLIC });
  });

  it('hardened: tasks in private subnets without public IPs, one NAT, S3 and DynamoDB gateway endpoints', () => {
    const { net, template } = network({ profile: 'hardened' });
    template.resourceCountIs('AWS::EC2::Subnet', 4);
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    const endpoints = Object.values(template.findResources('AWS::EC2::VPCEndpoint')) as {
      Properties: { VpcEndpointType: string; ServiceName: unknown };
    }[];
    expect(endpoints.map((e) => e.Properties.VpcEndpointType)).toEqual(['Gateway', 'Gateway']);
    const services = JSON.stringify(endpoints.map((e) => e.Properties.ServiceName));
    expect(services).toContain('.s3');
    expect(services).toContain('.dynamodb');
    expect(net.assignPublicIp).toBe(false);
    expect(net.taskSubnets).toEqual({ subnetType: SubnetType.PRIVATE_WITH_EGRESS });
  });

  it('hardened with interface endpoints: ECR (API and Docker) and logs in both AZs, HTTPS from the VPC only', () => {
    const { template } = network({ profile: 'hardened', interfaceEndpoints: true });
    const interfaces = Object.values(template.findResources('AWS::EC2::VPCEndpoint')).filter(
      (e) => (e as { Properties: { VpcEndpointType: string } }).Properties.VpcEndpointType === 'Interface',
    ) as { Properties: { ServiceName: string; SubnetIds: unknown[]; PrivateDnsEnabled: boolean } }[];
    expect(interfaces.map((e) => e.Properties.ServiceName).sort()).toEqual([
      'com.amazonaws.us-east-1.ecr.api',
      'com.amazonaws.us-east-1.ecr.dkr',
      'com.amazonaws.us-east-1.logs',
    ]);
    for (const e of interfaces) {
      expect(e.Properties.PrivateDnsEnabled).toBe(true);
      expect(e.Properties.SubnetIds).toHaveLength(2);
    }
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [
        Match.objectLike({ FromPort: 443, ToPort: 443, CidrIp: { 'Fn::GetAtt': [Match.anyValue(), 'CidrBlock'] } }),
      ],
    });
  });

  it('interface endpoints are ignored in lean (its tasks reach AWS directly)', () => {
    network({ profile: 'lean', interfaceEndpoints: true }).template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });

  it('an existing VPC: nothing is created in or for it', () => {
    const { net, stack } = network({ profile: 'hardened', interfaceEndpoints: true }, EXISTING);
    expect(net.vpc.vpcId).toBe(EXISTING.vpcId);
    expect(stack.node.findAll().filter((c) => c instanceof CfnResource)).toEqual([]);
  });

  it('an existing VPC still follows the profile: lean tasks in its public subnets, hardened in its private ones', () => {
    const lean = network({ profile: 'lean' }, EXISTING).net;
    expect(lean.vpc.selectSubnets(lean.taskSubnets).subnetIds).toEqual(EXISTING.publicSubnetIds);
    expect(lean.assignPublicIp).toBe(true);
    const hardened = network({ profile: 'hardened' }, EXISTING).net;
    expect(hardened.vpc.selectSubnets(hardened.taskSubnets).subnetIds).toEqual(EXISTING.privateSubnetIds);
    expect(hardened.assignPublicIp).toBe(false);
  });

  it('refuses an existing VPC without the subnets its profile needs', () => {
    expect(() => network({ profile: 'hardened' }, { ...EXISTING, privateSubnetIds: undefined })).toThrow(
      /hardened profile runs serving tasks in the VPC's private subnets.*give privateSubnetIds/,
    );
    expect(() => network({ profile: 'lean' }, { ...EXISTING, publicSubnetIds: undefined })).toThrow(
      /lean profile .* public subnets.*give publicSubnetIds/,
    );
  });
});
