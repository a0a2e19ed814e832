import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { type IVpc, Port, SecurityGroup, type SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { Cluster, ContainerInsights } from 'aws-cdk-lib/aws-ecs';
import {
  type ApplicationListener,
  ApplicationLoadBalancer,
  ApplicationProtocol,
  ListenerAction,
} from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface ServingClusterProps {
  readonly vpc: IVpc;
  /** Subnets of the load balancer (and, through the VPC link, of API Gateway's network interfaces). */
  readonly subnets: SubnetSelection;
}

/**
 * Where models are served: the ECS cluster (Container Insights on), the internal load balancer
 * whose listener gets one rule per enabled model from the deploy workflow, and the security
 * group of the serving tasks, which lets only the load balancer in.
 */
export class ServingCluster extends Construct {
  public readonly cluster: Cluster;
  public readonly loadBalancer: ApplicationLoadBalancer;
  public readonly listener: ApplicationListener;
  public readonly taskSecurityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: ServingClusterProps) {
    super(scope, id);
    this.cluster = new Cluster(this, 'Cluster', { vpc: props.vpc, containerInsightsV2: ContainerInsights.ENABLED });
    const albSecurityGroup = new SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc: props.vpc,
      description: 'mlserve internal load balancer: reached only through the API Gateway VPC link',
      allowAllOutbound: false,
    });
    this.loadBalancer = new ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      internetFacing: false,
      securityGroup: albSecurityGroup,
      dropInvalidHeaderFields: true,
    });
    const logs = new Bucket(this, 'LoadBalancerLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(logs).acknowledge({
      id: 'AwsSolutions::AwsSolutions-S1',
      reason: 'This bucket receives the load balancer’s access logs; logging it would recurse.',
    });
    this.loadBalancer.logAccessLogs(logs, 'alb');
    this.listener = this.loadBalancer.addListener('Http', {
      port: 80,
      protocol: ApplicationProtocol.HTTP,
      open: false,
      defaultAction: ListenerAction.fixedResponse(404, {
        contentType: 'application/json',
        messageBody:
          '{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "This model is not served: enable serving for it first."}',
      }),
    });
    this.taskSecurityGroup = new SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: props.vpc,
      description: 'mlserve serving tasks: only the load balancer may reach them',
      allowAllOutbound: true,
    });
    this.taskSecurityGroup.connections.allowFrom(this.loadBalancer, Port.tcp(8080), 'the load balancer');
  }
}
