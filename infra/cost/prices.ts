/**
 * AWS list prices for us-east-1 that mlserve's idle and per-model cost depend on, as published
 * on AWS's pricing pages when this table was recorded. Prices change: check the pages before
 * relying on a figure, and update the table and its date together.
 */
export const PRICES = {
  region: 'us-east-1',
  recorded: '2026-11-22',
  hoursPerMonth: 730,
  /** Application Load Balancer, per hour (LCUs are usage: an idle balancer uses next to none). */
  albHour: 0.0225,
  /** NAT gateway, per hour (data processed, $0.045/GB, is usage). */
  natGatewayHour: 0.045,
  /** Public IPv4 address (a NAT gateway's, a lean task's), per hour. */
  publicIpv4Hour: 0.005,
  /** Interface VPC endpoint, per availability zone and hour (gateway endpoints are free). */
  interfaceEndpointAzHour: 0.01,
  /** Fargate, Linux x86_64: per vCPU-hour and per GB-hour. */
  fargateVcpuHour: 0.04048,
  fargateGbHour: 0.004445,
  /** Secrets Manager, per secret and month. */
  secretMonth: 0.4,
  /** KMS customer managed key, per month. */
  kmsKeyMonth: 1,
  /** CloudWatch dashboard per month (an account's first three are free; counted here). */
  dashboardMonth: 3,
  /** CloudWatch standard alarm, per metric it reads and month. */
  alarmMetricMonth: 0.1,
  /** CloudWatch custom metric per month (first 10,000 metrics). */
  customMetricMonth: 0.3,
  /** ECR storage per GB-month. */
  ecrGbMonth: 0.1,
} as const;

/** Container Insights (standard) metrics counted per cluster and per service. */
export const CONTAINER_INSIGHTS_METRICS = { cluster: 8, service: 10 } as const;
/** What the model host publishes per live version: Requests, ClientErrors, ServerErrors, Latency. */
export const HOST_METRICS_PER_VERSION = 4;
/** The model-host image (Node 22, Python with scikit-learn and pandas), compressed in ECR. */
export const IMAGE_GB = 1;
