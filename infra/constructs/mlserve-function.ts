import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { nodejsBundling } from '../build/lambda-bundle';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface MlserveFunctionProps {
  /** The handler's source, relative to the repository root (e.g. `lambdas/registry/handler.ts`). */
  readonly entry: string;
  readonly environment?: Record<string, string>;
  /**
   * @default 512
   */
  readonly memoryMiB?: number;
  /**
   * @default 29 - API Gateway's integration limit
   */
  readonly timeoutSeconds?: number;
  /**
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * Only ever invoked synchronously (API Gateway, a custom resource provider), so a dead-letter
   * queue would never receive anything.
   * @default false
   */
  readonly invokedSynchronously?: boolean;
  /**
   * Shell commands run after esbuild, in the repository root, given the bundle's folder: what
   * else the function's code needs beside its one module (e.g. the web console's built files).
   * @default - the bundle is the module alone
   */
  readonly afterBundling?: (bundleDir: string) => string[];
}

/**
 * Every mlserve Lambda: Node 22 on arm64, X-Ray tracing, a log group with retention, and one
 * ES module bundled by esbuild locally (no Docker), with the options of `infra/build/lambda-bundle.ts`.
 */
export class MlserveFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: MlserveFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An own role, writing only to its own log group (no AWS managed policy).
    const role = new Role(scope, `${id}Role`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    super(scope, id, {
      role,
      entry: path.join(REPO_ROOT, props.entry),
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      tracing: Tracing.ACTIVE,
      memorySize: props.memoryMiB ?? 512,
      timeout: Duration.seconds(props.timeoutSeconds ?? 29),
      logGroup,
      environment: props.environment,
      bundling: {
        ...nodejsBundling(),
        ...(props.afterBundling && {
          commandHooks: {
            beforeBundling: () => [],
            beforeInstall: () => [],
            afterBundling: (_inputDir: string, outputDir: string) => props.afterBundling?.(outputDir) ?? [],
          },
        }),
      },
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions::AwsSolutions-L1',
      reason: 'mlserve targets Node 22 (nodejs22.x) for its Lambdas and its serving image alike.',
    });
    Validations.of(this).acknowledge({
      id: 'Serverless::Serverless-LambdaLatestVersion',
      reason: 'mlserve targets Node 22 (nodejs22.x) for its Lambdas and its serving image alike.',
    });
    if (props.invokedSynchronously) {
      Validations.of(this).acknowledge({
        id: 'Serverless::Serverless-LambdaDLQ',
        reason:
          'Invoked synchronously (API Gateway, CloudFormation): the caller gets the error; a dead-letter queue only applies to asynchronous invocations.',
      });
    }
    Validations.of(role).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing (PutTraceSegments, PutTelemetryRecords) and CloudWatch GetMetricData take no resource.',
    });
  }
}
