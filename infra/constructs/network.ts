import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  FlowLogDestination,
  GatewayVpcEndpointAwsService,
  InterfaceVpcEndpointAwsService,
  IpAddresses,
  type IVpc,
  type SubnetSelection,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/**
 * `lean`: public subnets only, serving tasks with public IPs, no NAT (lowest idle cost).
 * `hardened`: tasks in private subnets, egress through one NAT gateway, S3 and DynamoDB through
 * (free) gateway endpoints; interface endpoints for ECR and logs on request.
 */
export type NetworkProfile = 'lean' | 'hardened';

export interface NetworkProps {
  /** @default 'lean' */
  readonly profile?: NetworkProfile;
  /**
   * An existing VPC to use instead of creating one (e.g. `Vpc.fromVpcAttributes`, no lookup).
   * Serving tasks, the load balancer and the VPC link go into its public subnets (`lean`) or its
   * private subnets with egress (`hardened`), which it must have; no flow logs or endpoints are
   * added to it.
   * @default - a new VPC across two availability zones
   */
  readonly existingVpc?: IVpc;
  /**
   * `hardened` only: interface endpoints for ECR (API and Docker) and CloudWatch Logs, so image
   * pulls and logs never leave the VPC. Each costs an hourly fee per availability zone (see
   * `npm run cost`).
   * @default false - that traffic goes through the NAT gateway
   */
  readonly interfaceEndpoints?: boolean;
}

export class Network extends Construct {
  public readonly vpc: IVpc;
  public readonly profile: NetworkProfile;
  /** Where serving tasks (and the VPC link) go. */
  public readonly taskSubnets: SubnetSelection;
  public readonly assignPublicIp: boolean;

  constructor(scope: Construct, id: string, props: NetworkProps = {}) {
    super(scope, id);
    this.profile = props.profile ?? 'lean';
    const hardened = this.profile === 'hardened';
    this.assignPublicIp = !hardened;
    this.taskSubnets = { subnetType: hardened ? SubnetType.PRIVATE_WITH_EGRESS : SubnetType.PUBLIC };
    if (props.existingVpc) {
      const wanted = hardened ? props.existingVpc.privateSubnets : props.existingVpc.publicSubnets;
      if (wanted.length === 0)
        throw new Error(
          `Network: the ${this.profile} profile runs serving tasks in the VPC's ${hardened ? 'private' : 'public'} subnets, and the existing VPC ${props.existingVpc.vpcId} has none (give ${hardened ? 'privateSubnetIds' : 'publicSubnetIds'})`,
        );
      this.vpc = props.existingVpc;
      return;
    }
    const vpc = new Vpc(this, 'Vpc', {
      ipAddresses: IpAddresses.cidr('10.42.0.0/16'),
      maxAzs: 2,
      natGateways: hardened ? 1 : 0,
      subnetConfiguration: hardened
        ? [
            { name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 24 },
            { name: 'private', subnetType: SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
          ]
        : [{ name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 22 }],
    });
    vpc.addFlowLog('FlowLog', {
      destination: FlowLogDestination.toCloudWatchLogs(
        new LogGroup(this, 'FlowLogs', { retention: RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
      ),
    });
    if (hardened) {
      vpc.addGatewayEndpoint('S3', { service: GatewayVpcEndpointAwsService.S3 });
      vpc.addGatewayEndpoint('DynamoDB', { service: GatewayVpcEndpointAwsService.DYNAMODB });
      if (props.interfaceEndpoints) {
        for (const [name, service] of [
          ['Ecr', InterfaceVpcEndpointAwsService.ECR],
          ['EcrDocker', InterfaceVpcEndpointAwsService.ECR_DOCKER],
          ['Logs', InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS],
        ] as const) {
          const endpoint = vpc.addInterfaceEndpoint(name, { service });
          Validations.of(endpoint).acknowledge({
            id: 'AwsSolutions::AwsSolutions-EC23',
            reason:
              "The endpoint takes HTTPS from the VPC's own CIDR block only (a reference, which the rule cannot read).",
          });
        }
      }
    }
    this.vpc = vpc;
  }
}
