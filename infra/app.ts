/** The CDK app: creates the stacks and applies cdk-nag's AWS Solutions checks. Nothing else. */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { RegistryStack } from './stacks/registry-stack';

export function buildApp(app = new App()): App {
  new RegistryStack(app, 'MlserveRegistry', {
    description: 'mlserve: model registry (stateful)',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}

if (process.argv[1]?.endsWith('app.ts')) buildApp().synth();
