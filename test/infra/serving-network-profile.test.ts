/**
 * The serving function learns the app's network profile (it prices served models by it:
 * `list-compute-sizes`), and the registry function may read artifacts (input examples).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app';
import { ApiFunctions } from '../../infra/constructs/api-functions';
import { ArtifactStore } from '../../infra/constructs/artifact-store';
import { ModelRegistry } from '../../infra/constructs/model-registry';
import type { NetworkProfile } from '../../infra/constructs/network';

interface FunctionResource {
  Properties: { Environment?: { Variables?: Record<string, unknown> }; Role?: { 'Fn::GetAtt'?: string[] } };
}
interface RoleResource {
  Properties: { ManagedPolicyArns?: unknown[] };
}

function functionsStack(networkProfile?: NetworkProfile) {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Api', {
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  const artifacts = new ArtifactStore(stack, 'Artifacts');
  const functions = new ApiFunctions(stack, 'ApiFunctions', {
    table: new ModelRegistry(stack, 'Registry').table,
    eventBus: new EventBus(stack, 'Bus'),
    artifactReadPolicy: artifacts.readPolicy,
    sourceRoots: 's3://bucket/models',
    servingLogGroupName: '/mlserve/model-hosts',
    networkProfile,
  });
  const id = (element: unknown) => stack.getLogicalId(element as CfnElement);
  return { template: Template.fromStack(stack), stack, functions, artifacts, id };
}

/** The environment of the function whose logical id is `logicalId`. */
function environment(template: Template, logicalId: string): Record<string, unknown> {
  const fn = template.findResources('AWS::Lambda::Function')[logicalId] as FunctionResource | undefined;
  return fn?.Properties.Environment?.Variables ?? {};
}

describe('the serving function’s network profile', () => {
  it('is lean by default and the profile given otherwise', () => {
    for (const [given, expected] of [
      [undefined, 'lean'],
      ['hardened', 'hardened'],
      ['lean', 'lean'],
    ] as const) {
      const { template, functions, id } = functionsStack(given);
      expect(environment(template, id(functions.serving.node.defaultChild)).MLSERVE_NETWORK_PROFILE).toBe(expected);
    }
  });

  it("comes from the app's mlserve:networkProfile", () => {
    for (const profile of ['hardened', 'lean'] as const) {
      const outdir = mkdtempSync(path.join(tmpdir(), 'mlserve-profile-'));
      try {
        buildApp(
          new App({ outdir, context: { 'mlserve:networkProfile': profile, 'aws:cdk:bundling-stacks': [] } }),
        ).synth();
        const template = JSON.parse(readFileSync(path.join(outdir, 'MlservePlatform.template.json'), 'utf8')) as {
          Resources: Record<string, { Type: string } & FunctionResource>;
        };
        const serving = Object.values(template.Resources).filter(
          (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.SERVING_LOG_GROUP,
        );
        expect(serving.length).toBe(1);
        expect(serving[0]?.Properties.Environment?.Variables?.MLSERVE_NETWORK_PROFILE).toBe(profile);
      } finally {
        rmSync(outdir, { recursive: true, force: true });
      }
    }
  }, 240_000);
});

describe('the registry function', () => {
  it('may read the artifact bucket (a version’s input example), as the registration check may', () => {
    const { template, functions, artifacts, id } = functionsStack();
    const roles = template.findResources('AWS::IAM::Role') as Record<string, RoleResource>;
    const readPolicy = { Ref: id(artifacts.readPolicy.node.defaultChild) };
    for (const fn of [functions.registry, functions.registrationCheck]) {
      const role = roles[id(fn.role?.node.defaultChild)];
      expect(role?.Properties.ManagedPolicyArns).toContainEqual(readPolicy);
    }
    const serving = roles[id(functions.serving.role?.node.defaultChild)];
    expect(serving?.Properties.ManagedPolicyArns ?? []).not.toContainEqual(readPolicy);
  });
});
