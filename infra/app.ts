/** The CDK app: creates the stacks and applies cdk-nag's AWS Solutions checks. Nothing else. */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { NetworkProfile } from './constructs/network';
import { PlatformStack } from './stacks/platform-stack';
import { RegistryStack } from './stacks/registry-stack';

export function buildApp(app = new App()): App {
  const profile = (app.node.tryGetContext('mlserve:networkProfile') as NetworkProfile | undefined) ?? 'lean';
  // The region is part of the configuration (cdk.json or -c), never read from the environment.
  const region = (app.node.tryGetContext('mlserve:region') as string | undefined) ?? 'us-east-1';
  const env = { region };
  const registry = new RegistryStack(app, 'MlserveRegistry', {
    env,
    description: 'mlserve: model registry and artifacts (stateful)',
  });
  new PlatformStack(app, 'MlservePlatform', {
    env,
    description: `mlserve: API, serving and deploy workflow (${profile} network)`,
    table: registry.registry.table,
    artifactBucket: registry.artifacts.bucket,
    artifactReadPolicy: registry.artifacts.readPolicy,
    networkProfile: profile,
    alarmEmail: app.node.tryGetContext('mlserve:alarmEmail') as string | undefined,
    interfaceEndpoints: String(app.node.tryGetContext('mlserve:interfaceEndpoints')) === 'true',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return app;
}

if (process.argv[1]?.endsWith('app.ts')) buildApp().synth();
