/**
 * The local twin: the whole system on one machine, from the same code as on AWS. A
 * DynamoDB-API server in-process (data under MLSERVE_HOME), an in-process bus in place of
 * EventBridge with the same rules and targets, the deploy-model state machine run by a local ASL
 * interpreter against stand-ins for ECS (model hosts as child processes) and the load
 * balancer, and a loopback gateway in front of the real Lambda handlers.
 */

import { randomUUID } from 'node:crypto';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AccessControl } from '../core/auth/access';
import { DEFAULT_RATE_LIMIT, type RateLimit, RateLimiter } from '../core/auth/rate-limit';
import { createControlPlane } from '../core/control-plane';
import { buildDeployModelDefinition, type DeployModelSettings } from '../core/deploy/deploy-model';
import { InProcessBus } from '../core/events/in-process-bus';
import type { OnlineStores } from '../core/features/online-stores';
import type { ModelRegistry } from '../core/registry/registry';
import { parseSourceRoots, SourcePolicy } from '../core/registry/sources';
import type { ServingControl } from '../core/serving/serving';
import { MlflowError } from '../core/shared/errors';
import { createAccessHandler } from '../lambdas/access/app';
import { PERMISSIONS_PREFIX, TOKENS_PREFIX } from '../lambdas/access/routes';
import { authorizeRequest } from '../lambdas/authorizer/decide';
import { createRegistryHandler } from '../lambdas/registry/app';
import { createServingHandler } from '../lambdas/serving/app';
import { SERVING_PREFIX } from '../lambdas/serving/routes';
import { logger } from '../lambdas/shared/logger';
import { HostTask } from './aws/host-task';
import { type EcsState, LocalEcs } from './aws/local-ecs';
import { type LoadBalancerState, LocalLoadBalancer } from './aws/local-load-balancer';
import { prepareConsole, type TwinConsole } from './console';
import { FEATURE_DEMO_MODEL, FEATURE_DEMO_STORES, featureDemoCurl, featureDemoModel } from './demo-features';
import { type DemoModel, type DemoProblem, demoSourceRefusal, serveDemoModel } from './demo-model';
import { DeployRunner, type ExecutionOutcome } from './deploy-runner';
import { type EventWiring, wireEvents } from './event-wiring';
import { type Gateway, startGateway } from './gateway';
import { ensureRegistryTable, type LocalDynamo, startLocalDynamo } from './local-dynamodb';
import { type LocalOnlineStores, startLocalOnlineStores } from './local-online-stores';
import { modelProxy } from './model-proxy';
import { modelLogFile, TwinObservability } from './observability';

export interface TwinOptions {
  /** Folder for the twin's data (registry database, artifacts, logs, serving state). */
  readonly home: string;
  /** Port for the gateway; 0 picks a free one. */
  readonly port: number;
  /** Allowed source roots; defaults to the twin's own artifact folder. */
  readonly sourceRoots?: string;
  /** Keep the registry in memory instead of under `home` (tests of the registry alone). */
  readonly inMemory?: boolean;
  /** Register, serve and announce the demo model when the registry is empty. */
  readonly demo?: boolean;
  /** How long the deploy workflow's waits last, in ms. */
  readonly deployWaitMs?: number;
  /** How many times the deploy workflow checks on a new task before it gives up. */
  readonly deployMaxPolls?: number;
  /** Extra environment for every serving task started from now on (read at each start). */
  readonly taskEnvironment?: () => Record<string, string>;
  /** The admin token (MLSERVE_ADMIN_TOKEN); without it one is generated on the first start. */
  readonly adminToken?: string;
  /**
   * Requests per second per token, and the burst above it (API Gateway usage plans on AWS), or
   * `off` for no per-token limit. Default: DEFAULT_RATE_LIMIT (100/s, bursts of 200).
   */
  readonly rateLimit?: RateLimit | 'off';
  /**
   * Requests per second across all callers, and the burst above it (the API stage's throttle on
   * AWS), or `off`. Default: off.
   */
  readonly stageRateLimit?: RateLimit | 'off';
  /** How long authentication and permission decisions are cached, in ms. */
  readonly authCacheTtlMs?: number;
  /** How often every served model is reconciled, in ms (0: only at start). */
  readonly reconcileMs?: number;
  readonly onDeployOutcome?: (outcome: ExecutionOutcome) => void;
  /** The online stores feature lookups may read (MLSERVE_ONLINE_STORES). */
  readonly onlineStores?: OnlineStores;
  /**
   * Run a local MariaDB server behind a local RDS Data API endpoint (the cluster
   * LOCAL_MYSQL_CLUSTER_ARN), for Aurora MySQL lookups; with `demo`, also the feature-lookup demo.
   */
  readonly localMysql?: boolean;
}

export interface Twin {
  readonly url: string;
  readonly home: string;
  readonly artifactDir: string;
  readonly registry: ModelRegistry;
  readonly serving: ServingControl;
  readonly bus: InProcessBus;
  readonly dynamo: LocalDynamo;
  readonly ecs: LocalEcs;
  readonly deployments: DeployRunner;
  readonly access: AccessControl;
  readonly onlineStores: LocalOnlineStores;
  /** The admin token generated on this start (the first on an empty home); shown once. */
  readonly generatedAdminToken?: string;
  /** The demo model's name and a ready-to-paste curl, when the twin registered it. */
  readonly demo?: {
    readonly model: string;
    readonly curl: string;
    /** Serving was turned off on the demo after it was set up (the twin leaves it so). */
    readonly servingDisabled?: boolean;
    /** The feature-lookup demo, when the local MySQL server runs. */
    readonly features?: { readonly model: string; readonly curl: string; readonly servingDisabled?: boolean };
  };
  /** What keeps a demo from being served (e.g. MLSERVE_SOURCE_ROOTS leaving out the artifact folder), and the fix. */
  readonly demoProblems?: readonly DemoProblem[];
  /** The web console at `/`: its files (built into `<home>/console`), or why it could not be built. */
  readonly console: Pick<TwinConsole, 'files' | 'problem'>;
  close(): Promise<void>;
}

export const TWIN_TABLE = 'mlserve-registry';
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEMO_MODEL = 'iris-demo';

/** The deploy workflow's settings in the twin: local names where AWS has ARNs. */
export function twinDeploySettings(sourceRoots: string, maxPolls: number): DeployModelSettings {
  return {
    tableName: TWIN_TABLE,
    clusterArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/mlserve-local',
    listenerArn: 'arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/mlserve-local/local/local',
    vpcId: 'vpc-local',
    subnetIds: ['subnet-local'],
    securityGroupIds: ['sg-local'],
    assignPublicIp: false,
    image: 'mlserve-model-host:local',
    executionRoleArn: 'arn:aws:iam::000000000000:role/mlserve-local-execution',
    taskRoleArn: 'arn:aws:iam::000000000000:role/mlserve-local-task',
    logGroupName: '/mlserve/local/model-hosts',
    region: 'us-east-1',
    containerPort: 8080,
    environment: { MLSERVE_SOURCE_ROOTS: sourceRoots },
    // The twin's tasks run this checkout's code and restart with the twin.
    release: 'local',
    pollSeconds: 5,
    maxPolls,
  };
}

interface SavedAwsState {
  readonly ecs?: EcsState;
  readonly loadBalancer?: LoadBalancerState;
}

export async function startTwin(options: TwinOptions): Promise<Twin> {
  const home = path.resolve(options.home);
  const artifactDir = path.join(home, 'artifacts');
  await mkdir(artifactDir, { recursive: true });
  const dbPath = path.join(home, 'dynamodb');
  if (!options.inMemory) await mkdir(dbPath, { recursive: true });
  const sourceRoots = options.sourceRoots ?? pathToFileURL(artifactDir).href;

  // The console builds while the rest starts; it never fails the start.
  const consoleReady = prepareConsole(path.join(home, 'console'));
  const dynamo = await startLocalDynamo({ path: options.inMemory ? undefined : dbPath });
  let gateway: Gateway | undefined;
  let ecs: LocalEcs | undefined;
  let stores: LocalOnlineStores | undefined;
  let wiring: EventWiring | undefined;
  try {
    await ensureRegistryTable(dynamo.clientConfig, TWIN_TABLE);
    stores = await startLocalOnlineStores({
      config: options.onlineStores,
      mysql: options.localMysql ? { dataDir: options.inMemory ? undefined : path.join(home, 'mysql') } : false,
      extra: options.localMysql && options.demo ? FEATURE_DEMO_STORES : undefined,
    });
    const onlineStores = stores;
    const bus = new InProcessBus({
      onHandlerError: (error, event) =>
        logger.error('event handler failed', {
          error: error as Error,
          source: event.source,
          detailType: event['detail-type'],
        }),
    });
    const { registry, serving, access } = createControlPlane({
      tableName: TWIN_TABLE,
      sourceRoots,
      events: bus,
      dynamodb: dynamo.clientConfig,
      authCacheTtlMs: options.authCacheTtlMs,
    });
    const bootstrap = await access.bootstrapAdmin('admin', options.adminToken);

    // ---- the AWS stand-ins, their state kept under MLSERVE_HOME
    const stateFile = path.join(home, 'serving-state.json');
    const saved = await readFile(stateFile, 'utf8')
      .then((t) => JSON.parse(t) as SavedAwsState)
      .catch(() => ({}) as SavedAwsState);
    let saving = Promise.resolve();
    const save = () => {
      saving = saving.then(() =>
        writeFile(stateFile, JSON.stringify({ ecs: ecs?.state(), loadBalancer: loadBalancer.state() }, null, 2)).catch(
          (error: unknown) => logger.warn('could not save serving state', { error: error as Error }),
        ),
      );
    };
    const loadBalancer = new LocalLoadBalancer(saved.loadBalancer, save);
    const deploySettings = twinDeploySettings(sourceRoots, options.deployMaxPolls ?? 480);
    const localEcs = new LocalEcs({
      loadBalancer,
      clusterArn: deploySettings.clusterArn,
      putEvents: (entries) => bus.put(entries),
      state: saved.ecs,
      onChange: save,
      healthTimeoutMs: 120_000,
      newTask: (serviceName, taskDefinitionArn, env) => {
        const taskId = `${serviceName}/${LocalEcs.taskId()}`;
        return new HostTask(taskId, taskDefinitionArn, {
          repoRoot: REPO_ROOT,
          logFile: modelLogFile(home, env.MLSERVE_MODEL_NAME ?? serviceName),
          env: {
            ...env,
            PORT: '0',
            MLSERVE_BIND: '127.0.0.1',
            MLSERVE_ARTIFACT_CACHE: path.join(home, 'cache', 'artifacts'),
            MLSERVE_ENV_CACHE: path.join(home, 'cache', 'envs'),
            MLSERVE_HOST_ID: taskId,
            AWS_REGION: 'us-east-1',
            AWS_ACCESS_KEY_ID: 'local',
            AWS_SECRET_ACCESS_KEY: 'local',
            AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
            POWERTOOLS_LOG_LEVEL: 'INFO',
            // An EMF line per version every 10 s (60 s on AWS), so the twin's metric series have points.
            MLSERVE_METRICS_INTERVAL_MS: '10000',
            ...onlineStores.taskEnvironment(),
            ...options.taskEnvironment?.(),
          },
          onUnexpectedExit: (t, reason) => localEcs.taskExited(serviceName, t, reason),
        });
      },
    });
    ecs = localEcs;

    // ---- the deploy workflow, and the rules that start it (and the registration check)
    const runner = new DeployRunner({
      definition: buildDeployModelDefinition(deploySettings),
      dynamodb: dynamo.clientConfig,
      ecs: localEcs,
      loadBalancer,
      waitMs: options.deployWaitMs ?? 250,
      onOutcome: (outcome) => {
        const { states, ...execution } = outcome;
        if (outcome.status === 'FAILED')
          logger.warn('deploy-model execution failed', { ...execution, at: states.at(-1) });
        options.onDeployOutcome?.(outcome);
      },
    });
    wiring = wireEvents({ bus, registry, serving, starter: runner, clusterArn: deploySettings.clusterArn, logger });
    const events = wiring;
    // Versions left pending by an earlier run that stopped mid-check: their ModelVersionCreated
    // is delivered again (as EventBridge retries a target), through the same rule and check.
    const pending = await registry.pendingVersions();
    await bus.publish(
      pending.map((v) => ({
        type: 'ModelVersionCreated' as const,
        id: randomUUID(),
        time: Date.now(),
        modelName: v.name,
        version: v.version,
        source: v.source,
      })),
    );
    await bus.drained();

    const observability = new TwinObservability(home, (model) => localEcs.tasksForModel(model));
    const rateLimit = options.rateLimit ?? DEFAULT_RATE_LIMIT;
    const limiter = rateLimit === 'off' ? undefined : new RateLimiter(rateLimit.perSecond, rateLimit.burst);
    const stageLimit = options.stageRateLimit ?? 'off';
    const stageLimiter = stageLimit === 'off' ? undefined : new RateLimiter(stageLimit.perSecond, stageLimit.burst);
    const accessHandler = createAccessHandler({ access });
    const webConsole = await consoleReady;
    gateway = await startGateway(
      [
        // The console's page and files need no token (no authorizer on AWS either).
        { prefix: '/', exact: true, public: true, functionName: 'mlserve-console', handler: webConsole.handler },
        { prefix: '/assets/', public: true, functionName: 'mlserve-console', handler: webConsole.handler },
        {
          prefix: '/api/2.0/mlflow/',
          functionName: 'mlserve-registry',
          handler: createRegistryHandler(registry, access),
        },
        {
          prefix: SERVING_PREFIX,
          functionName: 'mlserve-serving',
          handler: createServingHandler({ registry, serving, observability, access }),
        },
        { prefix: TOKENS_PREFIX, functionName: 'mlserve-access', handler: accessHandler },
        { prefix: PERMISSIONS_PREFIX, functionName: 'mlserve-access', handler: accessHandler },
        { prefix: '/model/', forward: modelProxy(loadBalancer) },
      ],
      options.port,
      '127.0.0.1',
      // The stage's limit, the authorizer's decision, then the per-token limit, before any route runs.
      async (req, path) => {
        if (stageLimiter && !stageLimiter.take('stage')) {
          throw new MlflowError(
            'REQUEST_LIMIT_EXCEEDED',
            `Too many requests for this API (limit ${stageLimiter.perSecond}/s, burst ${stageLimiter.burst}); retry shortly.`,
          );
        }
        const { caller } = await authorizeRequest(access, { path, authorization: req.headers.authorization });
        if (limiter && !limiter.take(caller.tokenId)) {
          throw new MlflowError(
            'REQUEST_LIMIT_EXCEEDED',
            `Too many requests for this token (limit ${limiter.perSecond}/s, burst ${limiter.burst}); retry shortly.`,
          );
        }
        return { principalId: caller.principal, admin: String(caller.admin), tokenId: caller.tokenId };
      },
    );
    const started = gateway;

    // ---- enabled models come back up on their own; the periodic reconcile catches anything missed
    localEcs.resume();
    await events.reconcile();
    events.schedule(options.reconcileMs ?? 60_000);

    const demo = options.demo
      ? await registerDemo(registry, serving, artifactDir, started.url, dynamo, stores, sourceRoots)
      : undefined;

    return {
      url: started.url,
      home,
      artifactDir,
      registry,
      serving,
      bus,
      dynamo,
      ecs: localEcs,
      deployments: runner,
      access,
      onlineStores,
      generatedAdminToken: bootstrap.secret,
      demo: demo?.served,
      demoProblems: demo?.problems,
      console: { files: webConsole.files, problem: webConsole.problem },
      close: async () => {
        events.stop();
        await started.close();
        await bus.drained();
        await runner.close();
        await localEcs.close();
        await saving;
        await onlineStores.close();
        await dynamo.close();
      },
    };
  } catch (error) {
    wiring?.stop();
    await gateway?.close();
    await ecs?.close();
    await stores?.close();
    await dynamo.close();
    throw error;
  }
}

// ---- the demo models ----------------------------------------------------------------

/** What `registerDemo` leaves: the demos served, and what keeps any from being served. */
interface DemoOutcome {
  readonly served?: Twin['demo'];
  readonly problems: readonly DemoProblem[];
}

/**
 * The demo iris model (an ONNX model the repository ships, so it needs nothing beyond `npm
 * ci`), and with the local MySQL server the feature-lookup demo: on an empty registry, registers
 * them, moves them to Production and enables serving; on a later start, finishes a demo an
 * earlier start left half-registered. A demo the user deleted is not made again. Nothing is
 * registered when the source policy would refuse the demos' artifact folder; that, and any
 * other failure, comes back as a problem to print, never as an error (the twin keeps running).
 */
async function registerDemo(
  registry: ModelRegistry,
  serving: ServingControl,
  artifactDir: string,
  url: string,
  dynamo: LocalDynamo,
  stores: LocalOnlineStores,
  sourceRoots: string,
): Promise<DemoOutcome> {
  const curl = `curl -s -X POST ${url}/model/${DEMO_MODEL}/Production/invocations -H 'Content-Type: application/json' -d '{"inputs": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}'`;
  const exists = (name: string) =>
    registry.getRegisteredModel(name).then(
      () => true,
      () => false,
    );
  const isEmpty = async () => (await registry.searchRegisteredModels({ maxResults: 1 })).items.length === 0;
  const fresh = await isEmpty();
  if (!fresh && !(await exists(DEMO_MODEL))) return { problems: [] };

  const demoDir = path.join(REPO_ROOT, 'twin/demo/iris-onnx');
  const irisDir = path.join(artifactDir, DEMO_MODEL, '1');
  const iris: DemoModel = {
    name: DEMO_MODEL,
    dir: irisDir,
    description: 'Demo: an iris classifier (ONNX), registered and served by the local twin on first start.',
    prepare: () => cp(demoDir, irisDir, { recursive: true }),
  };
  const mysql = stores.mysql;
  const features =
    mysql && (fresh || (await exists(FEATURE_DEMO_MODEL)))
      ? featureDemoModel(demoDir, artifactDir, { dynamodb: dynamo.clientConfig, mysql })
      : undefined;

  // The registry would refuse a source outside MLSERVE_SOURCE_ROOTS: then register nothing.
  const policy = new SourcePolicy(parseSourceRoots(sourceRoots));
  const refused: string[] = [];
  for (const demo of features ? [iris, features] : [iris]) {
    if (await demoSourceRefusal(policy, demo.dir)) refused.push(demo.name);
  }
  if (refused.length > 0) {
    return { problems: [sourceRootsProblem(refused, fresh, policy, artifactDir, sourceRoots)] };
  }

  /** Why `name` is not served after `error`, and what the next start will do about it. */
  const setupProblem = async (name: string, error: unknown): Promise<DemoProblem> => {
    logger.error('demo model setup failed', { error: error as Error, model: name });
    const retry = (await exists(name))
      ? 'Once the cause is fixed, restart the twin: it finishes the demo on its next start.'
      : (await isEmpty())
        ? 'Once the cause is fixed, restart the twin: it registers the demo on its next start.'
        : 'The twin registers demos on an empty registry only: start it with a new MLSERVE_HOME to get this one.';
    return { models: [name], problem: `could not be set up: ${(error as Error).message}`, fix: [retry] };
  };

  let irisServing: Awaited<ReturnType<typeof serveDemoModel>>;
  try {
    irisServing = await serveDemoModel(registry, serving, iris);
  } catch (error) {
    return { problems: [await setupProblem(DEMO_MODEL, error)] };
  }
  const problems: DemoProblem[] = [];
  let featuresServed: NonNullable<Twin['demo']>['features'];
  if (features) {
    try {
      const featuresServing = await serveDemoModel(registry, serving, features);
      featuresServed = {
        model: FEATURE_DEMO_MODEL,
        curl: featureDemoCurl(url),
        ...(featuresServing === 'disabled' ? { servingDisabled: true } : {}),
      };
    } catch (error) {
      problems.push(await setupProblem(FEATURE_DEMO_MODEL, error));
    }
  }
  return {
    served: {
      model: DEMO_MODEL,
      curl,
      ...(irisServing === 'disabled' ? { servingDisabled: true } : {}),
      features: featuresServed,
    },
    problems,
  };
}

/** The demos' artifact folder is outside the allowed source roots: what that means, and the exact fix. */
function sourceRootsProblem(
  models: readonly string[],
  fresh: boolean,
  policy: SourcePolicy,
  artifactDir: string,
  sourceRoots: string,
): DemoProblem {
  const root = pathToFileURL(artifactDir).href;
  const roots = [
    ...sourceRoots
      .split(',')
      .map((r) => r.trim())
      .filter((r) => r.length > 0),
    root,
  ];
  return {
    models,
    problem:
      `${fresh ? 'not registered' : 'not served'}: MLSERVE_SOURCE_ROOTS (${policy.describeRoots()}) leaves out ` +
      `the twin's artifact folder ${root}, where the demo's files are, so the registry would refuse them`,
    fix: [
      `Add the artifact folder to MLSERVE_SOURCE_ROOTS (a comma-separated list) and restart, e.g.`,
      `  MLSERVE_SOURCE_ROOTS='${roots.join(',')}' npm start`,
      `or leave MLSERVE_SOURCE_ROOTS unset (its default is ${root}). The next start ${fresh ? 'registers and serves' : 'serves'} the demo.`,
    ],
  };
}
