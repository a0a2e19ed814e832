/**
 * `npm run bench` (second part): the authorizer Lambda as it ships — its bundled size, its cold
 * start (a fresh Node process importing the bundle and answering one request against a real
 * DynamoDB-API server), and the latency of decisions once warm.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { createAccessControl } from '../core/auth/index';
import { newTokenSecret } from '../core/auth/secrets';
import { lambdaBundleOptions } from '../infra/build/lambda-bundle';
import { REPO_ROOT } from '../test/helpers/paths';
import { ensureRegistryTable, startLocalDynamo } from '../twin/local-dynamodb';

const dir = await mkdtemp(path.join(tmpdir(), 'mlserve-authorizer-bench-'));
const dynamo = await startLocalDynamo();
try {
  const bundle = path.join(dir, 'authorizer.mjs');
  await build(lambdaBundleOptions(path.join(REPO_ROOT, 'lambdas/authorizer/handler.ts'), bundle));
  const size = (await stat(bundle)).size;

  await ensureRegistryTable(dynamo.clientConfig, 'bench-registry');
  const secret = newTokenSecret();
  await createAccessControl({ tableName: 'bench-registry', dynamodb: dynamo.clientConfig }).bootstrapAdmin(
    'admin',
    secret,
  );

  // A fresh process: import the bundle, answer one request, then 1000 more with the cache warm.
  const driver = path.join(dir, 'drive.mjs');
  await writeFile(
    driver,
    `const t0 = performance.now();
const { handler } = await import(${JSON.stringify(pathToFileURL(bundle).href)});
const loaded = performance.now();
const event = (p) => ({ type: 'REQUEST', methodArn: 'arn:aws:execute-api:eu-west-1:123456789012:api/prod/POST' + p, path: p,
  headers: { Authorization: 'Bearer ' + process.env.TOKEN }, requestContext: {} });
const first = await handler(event('/model/iris/1/invocations'), {});
const answered = performance.now();
const times = [];
for (let i = 0; i < 1000; i++) { const s = performance.now(); await handler(event('/model/iris/1/invocations'), {}); times.push(performance.now() - s); }
times.sort((a, b) => a - b);
console.log(JSON.stringify({ effect: first.policyDocument.Statement[0].Effect, importMs: loaded - t0, firstMs: answered - loaded,
  p50: times[500], p99: times[990] }));`,
  );
  const started = performance.now();
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [driver], {
      env: {
        ...process.env,
        TOKEN: secret,
        REGISTRY_TABLE: 'bench-registry',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
        POWERTOOLS_LOG_LEVEL: 'SILENT',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    child.stdout.on('data', (c: Buffer) => {
      text += c.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(text);
      else reject(new Error(`driver exited ${code}`));
    });
  });
  const wall = performance.now() - started;
  const r = JSON.parse(out) as { effect: string; importMs: number; firstMs: number; p50: number; p99: number };
  console.log('\nmlserve authorizer Lambda (lambdas/authorizer/handler.ts, esbuild, minified, AWS SDK included)');
  console.log(`bundle size:            ${(size / 1024).toFixed(0)} KiB`);
  console.log(
    `cold start (new process to first decision): ${wall.toFixed(0)} ms wall; import ${r.importMs.toFixed(0)} ms + first decision ${r.firstMs.toFixed(1)} ms`,
  );
  console.log(
    `warm decision:          p50 ${(r.p50 * 1000).toFixed(0)} µs, p99 ${(r.p99 * 1000).toFixed(0)} µs (cache hit, ${r.effect})`,
  );
} finally {
  await dynamo.close();
  await rm(dir, { recursive: true, force: true });
}
