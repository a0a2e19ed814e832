/**
 * `npm run cost`: synthesizes the app in each network profile (offline) and prints its fixed
 * monthly cost with no model served, and what each served model adds by compute preset.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { COMPUTE_SIZES, type ComputeSize } from '../../core/registry/model';
import { buildApp } from '../app';
import type { NetworkProfile } from '../constructs/network';
import { type CfnTemplate, type CostLine, fixedCost, perModelCost, total } from './estimate';
import { PRICES } from './prices';

/** The app's templates for one profile. */
export function synthesize(profile: NetworkProfile, context: Record<string, string> = {}): CfnTemplate[] {
  const outdir = mkdtempSync(path.join(tmpdir(), 'mlserve-cost-'));
  try {
    // Lambda code is not bundled: only the template's resources count.
    const app = buildApp(
      new App({
        outdir,
        context: { 'mlserve:networkProfile': profile, 'aws:cdk:bundling-stacks': [], ...context },
      }),
    );
    const assembly = app.synth();
    return (app.node.children as Stack[])
      .filter((c) => 'templateFile' in c)
      .map((stack) => assembly.getStackByName(stack.stackName).template as CfnTemplate);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const money = (n: number) => `$${n.toFixed(2)}`;
const table = (lines: readonly CostLine[]) =>
  lines
    .map((l) => `  ${l.item.padEnd(40)} ${String(l.quantity).padStart(5)}  ${money(l.monthly).padStart(9)}`)
    .join('\n');

function main() {
  console.log(`mlserve monthly cost, ${PRICES.region} list prices recorded ${PRICES.recorded} (usage not included)\n`);
  for (const profile of ['lean', 'hardened'] as const) {
    const lines = fixedCost(synthesize(profile));
    console.log(`${profile}: fixed, no model served`);
    console.log(table(lines));
    console.log(`  ${'total'.padEnd(40)} ${''.padStart(5)}  ${money(total(lines)).padStart(9)}\n`);
    console.log(`${profile}: each served model (one live version)`);
    for (const size of Object.keys(COMPUTE_SIZES) as ComputeSize[]) {
      const { cpu, memoryMiB } = COMPUTE_SIZES[size];
      const model = perModelCost(size, profile === 'lean');
      console.log(
        `  ${`${size} (${cpu / 1024} vCPU, ${memoryMiB / 1024} GB)`.padEnd(40)} ${''.padStart(5)}  ${money(total(model)).padStart(9)}`,
      );
    }
    console.log('');
  }
  const endpoints = fixedCost(synthesize('hardened', { 'mlserve:interfaceEndpoints': 'true' }));
  console.log(
    `hardened with interface endpoints (-c mlserve:interfaceEndpoints=true): fixed ${money(total(endpoints))}`,
  );
  console.log(
    '\nUsage adds: API Gateway, Lambda, Step Functions and DynamoDB requests; data through the NAT\ngateway; logs ingested and stored; S3 storage.',
  );
}

if (process.argv[1]?.endsWith('main.ts')) main();
