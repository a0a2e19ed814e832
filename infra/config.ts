/**
 * The app's configuration: every `mlserve:*` context value (`cdk.json` or `-c key=value`),
 * validated at synth time with one error naming every problem. Nothing is read from the
 * environment and nothing is looked up in an AWS account.
 */
import type { VpcAttributes } from 'aws-cdk-lib/aws-ec2';
import type { Node } from 'constructs';
import { z } from 'zod';
import type { OnlineStores } from '../core/features/online-stores';
import { parseOnlineStores } from '../core/features/online-stores';
import type { NetworkProfile } from './constructs/network';

export interface AppConfig {
  readonly region: string;
  readonly networkProfile: NetworkProfile;
  readonly interfaceEndpoints: boolean;
  readonly alarmEmail?: string;
  readonly webAclArn?: string;
  readonly domainName?: string;
  readonly certificateArn?: string;
  readonly hostedZoneId?: string;
  readonly hostedZoneName?: string;
  readonly existingVpc?: VpcAttributes;
  readonly artifactBucketName?: string;
  readonly onlineStores?: OnlineStores;
  /** The Secrets Manager secret holding the package index URL serving tasks install environments from. */
  readonly pipIndexSecretArn?: string;
  /** The API stage's request rate (per second) and burst, across all callers. */
  readonly stageRateLimit: number;
  readonly stageBurst: number;
  /** Each token's request rate (per second) and burst, through its usage plan. */
  readonly tokenRateLimit: number;
  readonly tokenBurst: number;
}

/** The throttles when the context does not set them. */
export const DEFAULT_THROTTLES = { stageRateLimit: 200, stageBurst: 400, tokenRateLimit: 50, tokenBurst: 100 } as const;

const SUBNET_IDS = z.array(z.string().regex(/^subnet-[0-9a-f]+$/, 'a subnet id (subnet-…)')).min(1);
const ROUTE_TABLE_IDS = z.array(z.string().regex(/^rtb-[0-9a-f]+$/, 'a route table id (rtb-…)')).min(1);

/** `mlserve:vpc`: what `Vpc.fromVpcAttributes` needs, so no lookup happens at synth time. */
const VpcContextSchema = z
  .strictObject({
    vpcId: z.string().regex(/^vpc-[0-9a-f]+$/, 'a VPC id (vpc-…)'),
    availabilityZones: z.array(z.string().min(1)).min(1),
    publicSubnetIds: SUBNET_IDS.optional(),
    privateSubnetIds: SUBNET_IDS.optional(),
    publicSubnetRouteTableIds: ROUTE_TABLE_IDS.optional(),
    privateSubnetRouteTableIds: ROUTE_TABLE_IDS.optional(),
  })
  .superRefine((vpc, ctx) => {
    if (!vpc.publicSubnetIds && !vpc.privateSubnetIds)
      ctx.addIssue({ code: 'custom', message: 'give publicSubnetIds (lean) or privateSubnetIds (hardened)' });
    for (const key of ['publicSubnetIds', 'privateSubnetIds'] as const) {
      const ids = vpc[key];
      if (ids && ids.length % vpc.availabilityZones.length !== 0)
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `${ids.length} subnets is not a multiple of the ${vpc.availabilityZones.length} availability zones (one per zone, in their order)`,
        });
    }
  });

/** A request rate or burst: a whole number of requests, within API Gateway's account-level ceiling. */
const REQUESTS = z.coerce
  .number({ error: 'a whole number of requests' })
  .int('a whole number of requests')
  .min(1, 'at least 1')
  .max(10_000, 'at most 10000 (API Gateway account limit per region)');

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

const ScalarContextSchema = z.object({
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as us-east-1'),
  networkProfile: z.enum(['lean', 'hardened']),
  interfaceEndpoints: z.enum(['true', 'false']),
  alarmEmail: z.email().optional(),
  webAclArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional\/webacl\/.+/, 'a regional WAFv2 web ACL ARN')
    .optional(),
  domainName: z.string().regex(DOMAIN, 'a lower-case domain name such as api.example.com').optional(),
  certificateArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/.+/, 'an ACM certificate ARN')
    .optional(),
  hostedZoneId: z
    .string()
    .regex(/^Z[A-Z0-9]+$/, 'a Route 53 hosted zone id (Z…)')
    .optional(),
  hostedZoneName: z.string().regex(DOMAIN, 'a domain name such as example.com').optional(),
  artifactBucketName: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name')
    .optional(),
  // The full ARN (with the 6 characters Secrets Manager appends to the name): the task role may
  // read exactly that secret.
  pipIndexSecretArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+-[A-Za-z0-9]{6}$/,
      'the full ARN of a Secrets Manager secret (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>)',
    )
    .optional(),
  stageRateLimit: REQUESTS,
  stageBurst: REQUESTS,
  tokenRateLimit: REQUESTS,
  tokenBurst: REQUESTS,
});

/** A context value that may be an object (cdk.json) or its JSON text (`-c key='{…}'`). */
function structured(value: unknown, key: string, problems: string[]): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch (error) {
    problems.push(`${key}: not valid JSON (${(error as Error).message})`);
    return undefined;
  }
}

/** Reads and validates the app's `mlserve:*` context; throws naming every problem. */
export function readAppConfig(node: Node): AppConfig {
  const context = (key: string): unknown => {
    const value = node.tryGetContext(`mlserve:${key}`);
    return value === '' || value === null ? undefined : value;
  };
  const text = (key: string, fallback?: string) => {
    const value = context(key);
    return value === undefined ? fallback : String(value);
  };
  const problems: string[] = [];
  const scalars = ScalarContextSchema.safeParse({
    region: text('region', 'us-east-1'),
    networkProfile: text('networkProfile', 'lean'),
    interfaceEndpoints: text('interfaceEndpoints', 'false'),
    alarmEmail: text('alarmEmail'),
    webAclArn: text('webAclArn'),
    domainName: text('domainName'),
    certificateArn: text('certificateArn'),
    hostedZoneId: text('hostedZoneId'),
    hostedZoneName: text('hostedZoneName'),
    artifactBucketName: text('artifactBucketName'),
    pipIndexSecretArn: text('pipIndexSecretArn'),
    stageRateLimit: text('stageRateLimit', String(DEFAULT_THROTTLES.stageRateLimit)),
    stageBurst: text('stageBurst', String(DEFAULT_THROTTLES.stageBurst)),
    tokenRateLimit: text('tokenRateLimit', String(DEFAULT_THROTTLES.tokenRateLimit)),
    tokenBurst: text('tokenBurst', String(DEFAULT_THROTTLES.tokenBurst)),
  });
  if (!scalars.success)
    for (const issue of scalars.error.issues) problems.push(`mlserve:${issue.path.join('.')}: ${issue.message}`);

  let existingVpc: VpcAttributes | undefined;
  const rawVpc = context('vpc');
  if (rawVpc !== undefined) {
    const before = problems.length;
    const value = structured(rawVpc, 'mlserve:vpc', problems);
    const vpc = VpcContextSchema.safeParse(value);
    if (vpc.success) existingVpc = vpc.data;
    else if (problems.length === before)
      for (const issue of vpc.error.issues)
        problems.push(`mlserve:vpc${issue.path.map((p) => `.${String(p)}`).join('')}: ${issue.message}`);
  }

  let onlineStores: OnlineStores | undefined;
  const rawStores = context('onlineStores');
  if (rawStores !== undefined) {
    try {
      onlineStores = parseOnlineStores(rawStores, 'mlserve:onlineStores');
    } catch (error) {
      problems.push((error as Error).message);
    }
  }

  if (scalars.success) {
    const { region, certificateArn, pipIndexSecretArn, stageRateLimit, stageBurst, tokenRateLimit, tokenBurst } =
      scalars.data;
    if (tokenRateLimit > stageRateLimit)
      problems.push(
        `mlserve:tokenRateLimit: ${tokenRateLimit}/s per token is above the stage's ${stageRateLimit}/s (mlserve:stageRateLimit); no token could reach it`,
      );
    if (stageBurst < stageRateLimit)
      problems.push(`mlserve:stageBurst: ${stageBurst} is below the stage's rate of ${stageRateLimit}/s`);
    if (tokenBurst < tokenRateLimit)
      problems.push(`mlserve:tokenBurst: ${tokenBurst} is below the token rate of ${tokenRateLimit}/s`);
    const certificateRegion = certificateArn?.split(':')[3];
    if (certificateRegion && certificateRegion !== region)
      problems.push(
        `mlserve:certificateArn: the certificate is in ${certificateRegion}; a regional API's certificate must be in ${region} (mlserve:region)`,
      );
    const secretRegion = pipIndexSecretArn?.split(':')[3];
    if (secretRegion && secretRegion !== region)
      problems.push(
        `mlserve:pipIndexSecretArn: the secret is in ${secretRegion}; serving tasks read it in ${region} (mlserve:region)`,
      );
  }
  if (problems.length > 0 || !scalars.success)
    throw new Error(`Invalid mlserve configuration (cdk.json context or -c):\n  ${problems.join('\n  ')}`);

  const { interfaceEndpoints, ...rest } = scalars.data;
  return { ...rest, interfaceEndpoints: interfaceEndpoints === 'true', existingVpc, onlineStores };
}
