import { describe, expect, it } from 'vitest';
import { fixedCost, perModelCost, total } from '../../infra/cost/estimate';
import { synthesize } from '../../infra/cost/main';
import { PRICES } from '../../infra/cost/prices';

const items = (lines: { item: string; quantity: number }[]) =>
  Object.fromEntries(lines.map((l) => [l.item, l.quantity]));

describe('npm run cost', () => {
  // Each synthesis runs cdk-nag too (buildApp adds it): a profile that is not nag-clean throws here.
  const lean = fixedCost(synthesize('lean'));
  const hardened = fixedCost(synthesize('hardened'));
  const endpoints = fixedCost(synthesize('hardened', { 'mlserve:interfaceEndpoints': 'true' }));

  it('counts what each profile holds: lean has no NAT, hardened one NAT with its address', () => {
    expect(items(lean)).toEqual({
      'Application Load Balancer': 1,
      'Secrets Manager secret': 1,
      'CloudWatch dashboard': 1,
      // 5xx rate (2), p99 latency, failed deploys (2), restart loop, dead letters
      'CloudWatch alarm metrics': 7,
      'Container Insights metrics (cluster)': 8,
      'ECR image storage (GB)': 1,
    });
    expect(items(hardened)).toMatchObject({ 'NAT gateway': 1, 'Public IPv4 address (NAT)': 1 });
    expect(items(endpoints)['Interface VPC endpoint (per AZ)']).toBe(6);
  });

  it('prices lines from the dated table, and keeps both profiles within their idle aims', () => {
    expect(PRICES.recorded).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const alb = lean.find((l) => l.item === 'Application Load Balancer');
    expect(alb?.monthly).toBe(Math.round(PRICES.albHour * 730 * 100) / 100);
    expect(total(lean)).toBeLessThanOrEqual(25);
    expect(total(hardened)).toBeLessThanOrEqual(60);
    expect(total(endpoints)).toBeCloseTo(total(hardened) + 6 * PRICES.interfaceEndpointAzHour * 730, 1);
  });

  it('prices a served model by its compute preset, with a public address only in lean', () => {
    const small = perModelCost('Small', true);
    expect(items(small)).toMatchObject({ 'Fargate 0.5 vCPU': 0.5, 'Fargate 1 GB': 1, 'Public IPv4 address (task)': 1 });
    expect(items(perModelCost('Small', false))['Public IPv4 address (task)']).toBeUndefined();
    const fargate = (vcpu: number, gb: number) => (vcpu * PRICES.fargateVcpuHour + gb * PRICES.fargateGbHour) * 730;
    expect(total(perModelCost('Large', false)) - total(perModelCost('Small', false))).toBeCloseTo(
      fargate(2, 8) - fargate(0.5, 1),
      1,
    );
  });
}, 180_000);
