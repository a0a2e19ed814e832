/** `npm start`: runs the local twin until interrupted. */
import { startTwin } from './twin';

const home = process.env.MLSERVE_HOME || './.mlserve';
const port = Number(process.env.MLSERVE_PORT || 8080);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`MLSERVE_PORT must be a port number, got '${process.env.MLSERVE_PORT}'\n`);
  process.exit(2);
}

/** What the printed curl authenticates with: the token just made, or the variable holding it. */
function tokenForCurl(): string {
  if (twin.generatedAdminToken) return twin.generatedAdminToken;
  return process.env.MLSERVE_ADMIN_TOKEN ? '$MLSERVE_ADMIN_TOKEN' : '$MLSERVE_TOKEN';
}

let announced = false;
const twin = await startTwin({
  home,
  port,
  sourceRoots: process.env.MLSERVE_SOURCE_ROOTS || undefined,
  demo: process.env.MLSERVE_DEMO !== 'false',
  adminToken: process.env.MLSERVE_ADMIN_TOKEN || undefined,
  onDeployOutcome: (outcome) => {
    if (outcome.status === 'SUCCEEDED' && outcome.modelName === twin?.demo?.model && !announced) {
      announced = true;
      process.stdout.write(`demo model '${outcome.modelName}' converged; try the curl above\n`);
    }
  },
});
process.stdout.write(
  [
    `mlserve local twin listening on ${twin.url}`,
    `  registry API:   ${twin.url}/api/2.0/mlflow/`,
    `  serving API:    ${twin.url}/api/2.0/preview/mlflow/endpoints/`,
    `  scoring:        ${twin.url}/model/<name>/<version|stage|@alias>/invocations`,
    `  data:           ${twin.home}`,
    `  artifacts:      ${twin.artifactDir} (allowed model sources: ${process.env.MLSERVE_SOURCE_ROOTS || `file://${twin.artifactDir}`})`,
    `  MLflow client:  export MLFLOW_REGISTRY_URI=${twin.url}`,
    ...(twin.generatedAdminToken
      ? [
          '',
          `  admin token (shown this once; keep it, or set MLSERVE_ADMIN_TOKEN): ${twin.generatedAdminToken}`,
          `  export MLSERVE_TOKEN=${twin.generatedAdminToken}`,
        ]
      : []),
    ...(twin.demo
      ? [
          `  demo model:     ${twin.demo.model} (serving starts in a few seconds)`,
          '',
          twin.demo.curl.replace('curl -s', `curl -s -u token:${tokenForCurl()}`),
        ]
      : []),
    '',
  ].join('\n'),
);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await twin.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
