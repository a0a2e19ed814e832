/** `npm start`: runs the local twin until interrupted. */
import { existsSync } from 'node:fs';
import { DEFAULT_RATE_LIMIT, parseRateLimit, type RateLimit } from '../core/auth/rate-limit';
import { STATE } from '../core/deploy/deploy-model';
import { type OnlineStores, parseOnlineStores } from '../core/features/online-stores';
import { parseSourceRoots } from '../core/registry/sources';
import { LOCAL_MYSQL_CLUSTER_ARN, LOCAL_MYSQL_SECRET_ARN } from './local-online-stores';
import { startTwin, type Twin } from './twin';

const home = process.env.MLSERVE_HOME || './.mlserve';
const port = Number(process.env.MLSERVE_PORT || 8080);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`MLSERVE_PORT must be a port number, got '${process.env.MLSERVE_PORT}'\n`);
  process.exit(2);
}

let rateLimit: RateLimit | 'off' | undefined;
let stageRateLimit: RateLimit | 'off' | undefined;
try {
  rateLimit = parseRateLimit(process.env.MLSERVE_RATE_LIMIT);
  stageRateLimit = parseRateLimit(process.env.MLSERVE_STAGE_RATE_LIMIT, 'MLSERVE_STAGE_RATE_LIMIT');
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(2);
}
const limitShown = rateLimit ?? DEFAULT_RATE_LIMIT;

let onlineStores: OnlineStores;
try {
  onlineStores = parseOnlineStores(process.env.MLSERVE_ONLINE_STORES);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(2);
}
if (process.env.MLSERVE_SOURCE_ROOTS) {
  try {
    parseSourceRoots(process.env.MLSERVE_SOURCE_ROOTS);
  } catch (error) {
    process.stderr.write(
      `MLSERVE_SOURCE_ROOTS must be comma-separated file:///… and s3://bucket/prefix URIs: ${(error as Error).message}\n`,
    );
    process.exit(2);
  }
}
/** MariaDB for Aurora MySQL lookups: on where it is installed, unless MLSERVE_LOCAL_MYSQL=false. */
const localMysql =
  process.env.MLSERVE_LOCAL_MYSQL === 'true' ||
  (process.env.MLSERVE_LOCAL_MYSQL !== 'false' && existsSync('/usr/sbin/mariadbd'));

/** What the printed curl authenticates with: the token just made, or the variable holding it. */
function tokenForCurl(): string {
  if (twin.generatedAdminToken) return twin.generatedAdminToken;
  return process.env.MLSERVE_ADMIN_TOKEN ? '$MLSERVE_ADMIN_TOKEN' : '$MLSERVE_TOKEN';
}

/** Whether a demo is on its way up, or was turned off since (and how to turn it back on). */
function servingNote(demo: { readonly model: string; readonly servingDisabled?: boolean }): string {
  return demo.servingDisabled
    ? `serving is disabled; enable it with: npx mlserve serving enable ${demo.model}`
    : 'serving starts in a few seconds';
}

const announced = new Set<string>();
/** Models a run converged (only the run that held the claim converges; a late start leaves it to that run). */
const converged = new Set<string>();
let started: Twin | undefined;
/** Says once for each demo model that it converged, after the banner with its curl. */
const announceDemos = () => {
  for (const model of [started?.demo?.model, started?.demo?.features?.model]) {
    if (!model || !converged.has(model) || announced.has(model)) continue;
    announced.add(model);
    process.stdout.write(`demo model '${model}' converged; try the curl above\n`);
  }
};
const twin = await startTwin({
  home,
  port,
  sourceRoots: process.env.MLSERVE_SOURCE_ROOTS || undefined,
  demo: process.env.MLSERVE_DEMO !== 'false',
  adminToken: process.env.MLSERVE_ADMIN_TOKEN || undefined,
  rateLimit,
  stageRateLimit,
  onlineStores,
  localMysql,
  onDeployOutcome: (outcome) => {
    if (outcome.states.at(-1) !== STATE.converged) return;
    converged.add(outcome.modelName);
    announceDemos();
  },
});
process.stdout.write(
  [
    `mlserve local twin listening on ${twin.url}`,
    twin.console.problem
      ? `  web console:    not built (the twin runs on without it): ${twin.console.problem}`
      : `  web console:    ${twin.url}/`,
    `  registry API:   ${twin.url}/api/2.0/mlflow/`,
    `  serving API:    ${twin.url}/api/2.0/preview/mlflow/endpoints/`,
    `  scoring:        ${twin.url}/model/<name>/<version|stage|@alias>/invocations`,
    `  data:           ${twin.home}`,
    `  artifacts:      ${twin.artifactDir} (allowed model sources: ${process.env.MLSERVE_SOURCE_ROOTS || `file://${twin.artifactDir}`})`,
    `  MLflow client:  export MLFLOW_REGISTRY_URI=${twin.url}`,
    limitShown === 'off'
      ? '  rate limit:     off (MLSERVE_RATE_LIMIT)'
      : `  rate limit:     ${limitShown.perSecond} requests/s per token, bursts of ${limitShown.burst} (MLSERVE_RATE_LIMIT)`,
    stageRateLimit === undefined || stageRateLimit === 'off'
      ? '  stage limit:    off (MLSERVE_STAGE_RATE_LIMIT)'
      : `  stage limit:    ${stageRateLimit.perSecond} requests/s across all callers, bursts of ${stageRateLimit.burst} (MLSERVE_STAGE_RATE_LIMIT)`,
    `  online stores:  ${Object.keys(twin.onlineStores.config.stores).join(', ') || 'none (set MLSERVE_ONLINE_STORES)'}`,
    ...(twin.onlineStores.mysql
      ? [
          `  local MySQL:    127.0.0.1:${twin.onlineStores.mysql.port} (user ${twin.onlineStores.mysql.user}, password ${twin.onlineStores.mysql.password}),`,
          `                  as Aurora cluster ${LOCAL_MYSQL_CLUSTER_ARN} with secret ${LOCAL_MYSQL_SECRET_ARN}`,
        ]
      : []),
    ...(twin.generatedAdminToken
      ? [
          '',
          `  admin token (shown this once; keep it, or set MLSERVE_ADMIN_TOKEN): ${twin.generatedAdminToken}`,
          `  export MLSERVE_TOKEN=${twin.generatedAdminToken}`,
        ]
      : []),
    ...(twin.demo
      ? [
          `  demo model:     ${twin.demo.model} (${servingNote(twin.demo)})`,
          '',
          twin.demo.curl.replace('curl -s', `curl -s -u token:${tokenForCurl()}`),
          ...(twin.demo.features
            ? [
                '',
                `  feature-lookup demo: ${twin.demo.features.model} (requests carry flower_id; sepals from DynamoDB, petals from MySQL; ${servingNote(twin.demo.features)})`,
                '',
                twin.demo.features.curl.replace('curl -s', `curl -s -u token:${tokenForCurl()}`),
              ]
            : []),
        ]
      : []),
    // Why a demo is not served, and the fix; the twin runs on regardless.
    ...(twin.demoProblems ?? []).flatMap((p) => [
      '',
      `  demo model${p.models.length > 1 ? 's' : ''} ${p.models.join(', ')}: ${p.problem}.`,
      ...p.fix.map((line) => `    ${line}`),
    ]),
    '',
  ].join('\n'),
);
started = twin;
announceDemos();

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await twin.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
