import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Validations } from 'aws-cdk-lib';
import { AuthorizationType, LambdaIntegration, type Method, type RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Construct } from 'constructs';
import { BUNDLED_SITE_FOLDER } from '../../lambdas/console/static-site';
import { MlserveFunction } from './mlserve-function';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface WebConsoleProps {
  /** The REST API the console is served from: the same origin as the APIs it calls. */
  readonly api: RestApi;
  /**
   * @default 256
   */
  readonly memoryMiB?: number;
}

const shellQuoted = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/**
 * The web console, same-origin with the APIs: `GET /` (its page) and `GET /assets/{proxy+}` (its
 * built script and styles) on the REST API, answered by one function whose bundle holds the
 * console, built at synth by `console/build.ts` into a folder beside the handler (esbuild, no
 * Docker, no network). These two methods are public — no authorizer, no API key: they serve
 * only static files, and every API call the console then makes carries the signed-in token,
 * which the authorizer checks as for any client.
 */
export class WebConsole extends Construct {
  public readonly function: MlserveFunction;
  /** `GET /`: the console's page. */
  public readonly pageMethod: Method;
  /** `GET /assets/{proxy+}`: its script, styles and other built files. */
  public readonly assetsMethod: Method;

  constructor(scope: Construct, id: string, props: WebConsoleProps) {
    super(scope, id);
    this.function = new MlserveFunction(this, 'Function', {
      invokedSynchronously: true,
      entry: 'lambdas/console/handler.ts',
      environment: { POWERTOOLS_SERVICE_NAME: 'mlserve' },
      memoryMiB: props.memoryMiB ?? 256,
      timeoutSeconds: 10,
      // The node running this synth runs the build too (tsx compiles it on the fly).
      afterBundling: (bundleDir) => [
        [
          shellQuoted(process.execPath),
          '--import',
          'tsx',
          shellQuoted(path.join(REPO_ROOT, 'console/build.ts')),
          shellQuoted(path.join(bundleDir, BUNDLED_SITE_FOLDER)),
        ].join(' '),
      ],
    });

    const integration = new LambdaIntegration(this.function);
    const open = { authorizationType: AuthorizationType.NONE, apiKeyRequired: false };
    this.pageMethod = props.api.root.addMethod('GET', integration, open);
    const assets = props.api.root.getResource('assets') ?? props.api.root.addResource('assets');
    this.assetsMethod = assets.addResource('{proxy+}').addMethod('GET', integration, open);
    const reason =
      'Public by design: the web console’s page and built static files (no data, no secrets); every API call the console makes carries a token the Lambda authorizer checks.';
    for (const method of [this.pageMethod, this.assetsMethod]) {
      Validations.of(method).acknowledge(
        { id: 'AwsSolutions::AwsSolutions-APIG4', reason },
        { id: 'AwsSolutions::AwsSolutions-COG4', reason },
      );
    }
  }
}
