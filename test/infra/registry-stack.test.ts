import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app';
import { RegistryStack } from '../../infra/stacks/registry-stack';
import { REPO_ROOT } from '../helpers/paths';

/** The artifact bucket and its access-log bucket, as deployed: these ids must never change. */
const PINNED_BUCKETS = ['ArtifactsAccessLogs4D97777C', 'ArtifactsBucket88671897'];

describe('registry stack', () => {
  const app = new App();
  const stack = new RegistryStack(app, 'Registry');
  const template = Template.fromStack(stack);

  it('keeps the registry table under a pinned logical id (renaming it would replace the table)', () => {
    expect(Object.keys(template.findResources('AWS::DynamoDB::GlobalTable'))).toEqual(['ModelRegistryTable184BA7E1']);
  });

  it('keeps the artifact buckets under pinned logical ids (renaming them would replace the buckets)', () => {
    expect(Object.keys(template.findResources('AWS::S3::Bucket')).sort()).toEqual(PINNED_BUCKETS);
    for (const bucket of Object.values(template.findResources('AWS::S3::Bucket')))
      expect(bucket).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('retains the table, with deletion protection, point-in-time recovery and encryption', () => {
    template.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
      Replicas: [
        {
          DeletionProtectionEnabled: true,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        },
      ],
    });
  });

  it('has the key schema and indexes the registry code queries', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [
        { AttributeName: 'PK', KeyType: 'HASH' },
        { AttributeName: 'SK', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        { IndexName: 'ByKind', KeySchema: [{ AttributeName: 'GSI1PK' }, { AttributeName: 'GSI1SK' }] },
        { IndexName: 'ByRun', KeySchema: [{ AttributeName: 'GSI2PK' }, { AttributeName: 'GSI2SK' }] },
      ],
    });
  });

  it("passes cdk-nag's AWS Solutions and Serverless checks", () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'mlserve-nag-'));
    try {
      expect(() => buildApp(new App({ outdir })).synth()).not.toThrow();
      const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
        pluginReports: { pluginName: string; conclusion: string }[];
      };
      expect(report.pluginReports.map((r) => r.pluginName)).toEqual(
        expect.arrayContaining(['AwsSolutions', 'Serverless']),
      );
      expect(report.pluginReports.every((r) => r.conclusion === 'success')).toBe(true);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('npx cdk synth', () => {
  it('synthesizes offline, with no AWS credentials or configuration', () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'mlserve-synth-'));
    const home = mkdtempSync(path.join(tmpdir(), 'mlserve-home-'));
    try {
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
      const result = spawnSync(
        path.join(REPO_ROOT, 'node_modules/.bin/cdk'),
        ['synth', '--quiet', '--no-notices', '-o', outdir],
        {
          cwd: REPO_ROOT,
          env: { ...env, HOME: home, AWS_EC2_METADATA_DISABLED: 'true', CDK_DISABLE_VERSION_CHECK: 'true' },
          encoding: 'utf8',
          timeout: 240_000,
        },
      );
      expect(result.status, result.stderr).toBe(0);
      const template = JSON.parse(readFileSync(path.join(outdir, 'MlserveRegistry.template.json'), 'utf8')) as {
        Resources: Record<string, { Type: string }>;
      };
      expect(Object.values(template.Resources).map((r) => r.Type)).toContain('AWS::DynamoDB::GlobalTable');
    } finally {
      rmSync(outdir, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    }
  }, 240_000);
});
