/**
 * The web console in the local twin: built from `console/` into `<home>/console` at each start
 * (esbuild, well under a second) and answered by the same handler as the console Lambda on AWS.
 * A console that does not build leaves the twin running: its routes then answer a JSON 503 with
 * the build's error, and `problem` says it at start.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { buildConsole, type ConsoleBuild } from '../console/build';
import { MlflowError } from '../core/shared/errors';
import { createConsoleHandler, toProxyResult } from '../lambdas/console/app';
import { errorAnswer, StaticSite } from '../lambdas/console/static-site';
import type { ProxyHandler } from './gateway';

export interface TwinConsole {
  /** Answers `/` and `/assets/…`. */
  readonly handler: ProxyHandler;
  /** The built files, relative to the console's folder. */
  readonly files: readonly string[];
  /** Why the console could not be built or read, when it could not. */
  readonly problem?: string;
}

/** Builds the console into `dir` and loads it; never throws. */
export async function prepareConsole(
  dir: string,
  build: (outDir: string) => Promise<ConsoleBuild> = buildConsole,
): Promise<TwinConsole> {
  try {
    await build(dir);
    const site = await StaticSite.load(dir);
    return { handler: createConsoleHandler(site), files: site.names };
  } catch (error) {
    const problem = (error as Error).message;
    const refusal = new MlflowError(
      'TEMPORARILY_UNAVAILABLE',
      `The console could not be built when the twin started: ${problem}`,
    );
    return {
      handler: async (event: APIGatewayProxyEvent) => toProxyResult(errorAnswer(refusal, event.httpMethod)),
      files: [],
      problem,
    };
  }
}
