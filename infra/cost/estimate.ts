/**
 * Monthly cost from synthesized CloudFormation templates and the dated price table: the fixed
 * cost of a deployment with no model served, and what each served model adds by compute preset.
 */
import { COMPUTE_SIZES, type ComputeSize } from '../../core/registry/model';
import { CONTAINER_INSIGHTS_METRICS, HOST_METRICS_PER_VERSION, IMAGE_GB, PRICES } from './prices';

export interface CfnTemplate {
  readonly Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

export interface CostLine {
  readonly item: string;
  readonly quantity: number;
  readonly monthly: number;
}

const month = (hourly: number) => hourly * PRICES.hoursPerMonth;
const round = (n: number) => Math.round(n * 100) / 100;

function resources(templates: readonly CfnTemplate[], type: string) {
  return templates.flatMap((t) => Object.values(t.Resources ?? {}).filter((r) => r.Type === type));
}

/** How many metrics an alarm reads (a metric-math alarm: each metric it uses). */
function alarmMetrics(properties: Record<string, unknown> | undefined): number {
  const metrics = properties?.Metrics as { MetricStat?: unknown }[] | undefined;
  return metrics ? metrics.filter((m) => m.MetricStat).length : 1;
}

/** The fixed monthly cost of the deployment the templates describe, with no model served. */
export function fixedCost(templates: readonly CfnTemplate[]): CostLine[] {
  const lines: CostLine[] = [];
  const add = (item: string, quantity: number, unitMonthly: number) => {
    if (quantity > 0) lines.push({ item, quantity, monthly: round(quantity * unitMonthly) });
  };
  add(
    'Application Load Balancer',
    resources(templates, 'AWS::ElasticLoadBalancingV2::LoadBalancer').length,
    month(PRICES.albHour),
  );
  const nats = resources(templates, 'AWS::EC2::NatGateway').length;
  add('NAT gateway', nats, month(PRICES.natGatewayHour));
  add('Public IPv4 address (NAT)', resources(templates, 'AWS::EC2::EIP').length, month(PRICES.publicIpv4Hour));
  const endpointAzs = resources(templates, 'AWS::EC2::VPCEndpoint')
    .filter((r) => r.Properties?.VpcEndpointType === 'Interface')
    .reduce((n, r) => n + ((r.Properties?.SubnetIds as unknown[] | undefined)?.length ?? 1), 0);
  add('Interface VPC endpoint (per AZ)', endpointAzs, month(PRICES.interfaceEndpointAzHour));
  add('Secrets Manager secret', resources(templates, 'AWS::SecretsManager::Secret').length, PRICES.secretMonth);
  add('KMS key', resources(templates, 'AWS::KMS::Key').length, PRICES.kmsKeyMonth);
  add('CloudWatch dashboard', resources(templates, 'AWS::CloudWatch::Dashboard').length, PRICES.dashboardMonth);
  add(
    'CloudWatch alarm metrics',
    resources(templates, 'AWS::CloudWatch::Alarm').reduce((n, r) => n + alarmMetrics(r.Properties), 0),
    PRICES.alarmMetricMonth,
  );
  const insights = resources(templates, 'AWS::ECS::Cluster').filter((r) =>
    JSON.stringify(r.Properties?.ClusterSettings ?? []).includes('containerInsights'),
  ).length;
  add('Container Insights metrics (cluster)', insights * CONTAINER_INSIGHTS_METRICS.cluster, PRICES.customMetricMonth);
  add('ECR image storage (GB)', IMAGE_GB, PRICES.ecrGbMonth);
  return lines;
}

/** What one served model adds per month: its Fargate task, its public IP (lean), its metrics. */
export function perModelCost(size: ComputeSize, publicIp: boolean, liveVersions = 1): CostLine[] {
  const { cpu, memoryMiB } = COMPUTE_SIZES[size];
  const lines: CostLine[] = [
    {
      item: `Fargate ${cpu / 1024} vCPU`,
      quantity: cpu / 1024,
      monthly: round((cpu / 1024) * month(PRICES.fargateVcpuHour)),
    },
    {
      item: `Fargate ${memoryMiB / 1024} GB`,
      quantity: memoryMiB / 1024,
      monthly: round((memoryMiB / 1024) * month(PRICES.fargateGbHour)),
    },
  ];
  if (publicIp)
    lines.push({ item: 'Public IPv4 address (task)', quantity: 1, monthly: round(month(PRICES.publicIpv4Hour)) });
  lines.push({
    item: 'Container Insights metrics (service)',
    quantity: CONTAINER_INSIGHTS_METRICS.service,
    monthly: round(CONTAINER_INSIGHTS_METRICS.service * PRICES.customMetricMonth),
  });
  lines.push({
    item: 'Model-host metrics',
    quantity: HOST_METRICS_PER_VERSION * liveVersions,
    monthly: round(HOST_METRICS_PER_VERSION * liveVersions * PRICES.customMetricMonth),
  });
  return lines;
}

export const total = (lines: readonly CostLine[]) => round(lines.reduce((n, l) => n + l.monthly, 0));
