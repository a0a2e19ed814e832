/**
 * A model host serving MLflow's iris scikit-learn model (version 1, Python worker) and an ONNX
 * iris model (version 2, native) of one registered model, against a real registry: what the
 * reliability tests and the benchmark drive.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type RunningHost, request, startModelHost } from './model-host';
import { buildOnnx } from './models';
import { IRIS_MODEL } from './paths';
import { type RegistryEnv, startRegistryEnv } from './registry-env';

export const IRIS_COLUMNS = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
export const IRIS_ROW = [5.1, 3.5, 1.4, 0.2];

export interface IrisHost {
  readonly env: RegistryEnv;
  readonly model: string;
  /** The first host started (more can be started with `startHost`). */
  readonly host: RunningHost;
  /** `/model/<name>/<ref>/invocations` on the first host. */
  url(ref: string | number): string;
  startHost(env?: Record<string, string>): Promise<RunningHost>;
  /** The host's status document. */
  status(host?: RunningHost): Promise<HostStatus>;
  close(): Promise<void>;
}

export interface HostStatus {
  readonly process: { readonly pid: number; readonly rssBytes: number; readonly peakRssBytes: number };
  readonly versions: readonly { readonly version: number; readonly state: string; readonly pids: number[] }[];
  readonly admission?: { readonly refusedTooLarge: number; readonly refusedBusy: number; readonly budgetBytes: number };
}

/** A Small task's CPU, memory and heap (0.5 vCPU, 1 GiB, half of it heap), as the deploy workflow and the image give them. */
export const SMALL_TASK_ENV = {
  MLSERVE_CPU_UNITS: '512',
  MLSERVE_MEMORY_MIB: '1024',
  NODE_OPTIONS: '--max-old-space-size=512',
};

export async function startIrisHost(options: { model?: string; env?: Record<string, string> } = {}): Promise<IrisHost> {
  const model = options.model ?? 'iris';
  const env = await startRegistryEnv();
  const caches: string[] = [];
  const hosts: RunningHost[] = [];
  try {
    await env.registry.createRegisteredModel({ name: model });
    const sklearnDir = path.join(env.artifacts.dir, 'iris-sklearn');
    await cp(IRIS_MODEL, sklearnDir, { recursive: true });
    const onnxDir = path.join(env.artifacts.dir, 'iris-onnx');
    buildOnnx('iris-linear', onnxDir);
    for (const dir of [sklearnDir, onnxDir]) {
      const v = await env.registry.createModelVersion({ name: model, source: pathToFileURL(dir).href });
      const ready = await env.ready(model, v.version);
      if (ready.status !== 'READY') throw new Error(`version ${v.version}: ${ready.statusMessage}`);
    }
    const startHost = async (extra: Record<string, string> = {}) => {
      const cache = await mkdtemp(path.join(tmpdir(), 'mlserve-iris-host-'));
      caches.push(cache);
      const host = await startModelHost({
        modelName: model,
        tableName: env.tableName,
        dynamoEndpoint: env.dynamo.endpoint,
        sourceRoots: env.artifacts.uri,
        artifactCache: cache,
        env: { MLSERVE_METRICS_INTERVAL_MS: '0', ...options.env, ...extra },
      });
      hosts.push(host);
      await host.healthy(60_000);
      return host;
    };
    const host = await startHost();
    return {
      env,
      model,
      host,
      url: (ref) => `${host.url}/model/${encodeURIComponent(model)}/${ref}/invocations`,
      startHost,
      status: async (which = host) => (await request(`${which.url}/status`, { method: 'GET' })).json as HostStatus,
      close: async () => {
        await Promise.all(hosts.map((h) => h.stop()));
        await env.close();
        await Promise.all(caches.map((c) => rm(c, { recursive: true, force: true })));
      },
    };
  } catch (error) {
    await Promise.all(hosts.map((h) => h.stop()));
    await env.close();
    throw error;
  }
}

/** A JSON body of about `bytes` bytes: single iris rows as `inputs` (ONNX) or `dataframe_split` (sklearn). */
export function largeIrisBody(bytes: number, format: 'inputs' | 'dataframe_split'): string {
  const rows = Math.floor(bytes / (JSON.stringify(IRIS_ROW).length + 1));
  const data = Array.from({ length: rows }, () => IRIS_ROW);
  return JSON.stringify(format === 'inputs' ? { inputs: data } : { dataframe_split: { columns: IRIS_COLUMNS, data } });
}
