/**
 * How every Lambda entry is bundled: one ESM file for Node 22, dependencies included.
 * The CDK function construct and the bundle test both use these options.
 */
import type { BuildOptions } from 'esbuild';

export const LAMBDA_RUNTIME_TARGET = 'node22';

export function lambdaBundleOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: LAMBDA_RUNTIME_TARGET,
    format: 'esm',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    mainFields: ['module', 'main'],
    // CommonJS dependencies that call require() on Node built-ins need it in an ES module.
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  };
}
