/**
 * How every Lambda entry is bundled: one minified ES module for Node 22, dependencies included.
 * The one source of these options: `nodejsBundling` gives them to the CDK's NodejsFunction
 * (MlserveFunction), `lambdaBundleOptions` to esbuild directly (the bundle test, the benchmark).
 * One difference remains: the CDK leaves out the AWS SDK v3, which the Lambda runtime provides
 * (its default externals); a local bundle has no runtime to provide it, so it includes it.
 */
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';

export const LAMBDA_BUNDLE = {
  target: 'node22',
  minify: true,
  sourcemap: false,
  mainFields: ['module', 'main'],
  // CommonJS dependencies that call require() on Node built-ins need it in an ES module.
  banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
} as const;

/** The options for the CDK's NodejsFunction; esbuild runs locally, not in Docker. */
export function nodejsBundling(): BundlingOptions {
  return {
    format: OutputFormat.ESM,
    target: LAMBDA_BUNDLE.target,
    minify: LAMBDA_BUNDLE.minify,
    sourceMap: LAMBDA_BUNDLE.sourcemap,
    mainFields: [...LAMBDA_BUNDLE.mainFields],
    banner: LAMBDA_BUNDLE.banner,
    forceDockerBundling: false,
  };
}

/** The same options for esbuild's `build`, bundling `entry` into `outfile`. */
export function lambdaBundleOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: LAMBDA_BUNDLE.target,
    minify: LAMBDA_BUNDLE.minify,
    sourcemap: LAMBDA_BUNDLE.sourcemap,
    mainFields: [...LAMBDA_BUNDLE.mainFields],
    banner: { js: LAMBDA_BUNDLE.banner },
  };
}
