/** The CDK app: creates the stacks from its configuration and applies cdk-nag's checks. Nothing else. */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { readAppConfig } from './config';
import { PlatformStack } from './stacks/platform-stack';
import { RegistryStack } from './stacks/registry-stack';

export function buildApp(app = new App()): App {
  // Every setting is context (cdk.json or -c), validated here; nothing comes from the environment.
  const config = readAppConfig(app.node);
  const env = { region: config.region };
  const registry = new RegistryStack(app, 'MlserveRegistry', {
    env,
    description: 'mlserve: model registry and artifacts (stateful)',
    existingArtifactBucketName: config.artifactBucketName,
  });
  new PlatformStack(app, 'MlservePlatform', {
    env,
    description: `mlserve: API, serving and deploy workflow (${config.networkProfile} network)`,
    table: registry.registry.table,
    artifactBucket: registry.artifacts.bucket,
    artifactReadPolicy: registry.artifacts.readPolicy,
    environmentArchive: { uri: registry.artifacts.environmentsUri, policy: registry.artifacts.environmentsPolicy },
    networkProfile: config.networkProfile,
    interfaceEndpoints: config.interfaceEndpoints,
    alarmEmail: config.alarmEmail,
    existingVpc: config.existingVpc,
    onlineStores: config.onlineStores,
    pipIndexSecretArn: config.pipIndexSecretArn,
    throttles: {
      stageRatePerSecond: config.stageRateLimit,
      stageBurst: config.stageBurst,
      perTokenRatePerSecond: config.tokenRateLimit,
      perTokenBurst: config.tokenBurst,
    },
    webAclArn: config.webAclArn,
    domainName: config.domainName,
    certificateArn: config.certificateArn,
    hostedZoneId: config.hostedZoneId,
    hostedZoneName: config.hostedZoneName,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return app;
}

if (process.argv[1]?.endsWith('app.ts')) buildApp().synth();
