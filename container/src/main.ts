/** The model host's entry point: the program each serving task (and the local twin's host process) runs. */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { NO_EVENTS } from '../../core/events/domain-events';
import { parseSourceRoots, SourcePolicy } from '../../core/registry';
import { createServingControl } from '../../core/serving/index';
import { documentClient } from '../../core/table/dynamo';
import { MemoryAdmission } from './admission';
import { DataPlane } from './data-plane';
import { ModelHost } from './host';
import { HostServer } from './http-server';
import { EnvironmentStore } from './runtimes/env-archive';
import { readIndexUrlSecret } from './runtimes/package-index';
import type { HostServing } from './serving-port';
import { type HostSettings, readSettings } from './settings';

const settings = await withIndexUrl(readSettings());
const logger = new Logger({
  serviceName: 'mlserve-host',
  persistentKeys: { model: settings.modelName, host: settings.hostId },
});

// What the host reads from and reports to (serving-port.ts).
const serving: HostServing = createServingControl({ tableName: settings.registryTable, events: NO_EVENTS });

// Built Python environments are shared through S3 when MLSERVE_ENV_ARCHIVE says where.
const archive = settings.python.archive;
const environments =
  archive &&
  new EnvironmentStore({
    s3: new S3Client({}),
    location: archive,
    table: documentClient(new DynamoDBClient({})),
    tableName: settings.registryTable,
    release: settings.release,
  });

const host = new ModelHost({
  serving,
  sources: new SourcePolicy(parseSourceRoots(settings.sourceRoots)),
  settings,
  logger,
  environments,
});
const plane = new DataPlane(host, {
  timeoutMs: settings.requestTimeoutMs,
  logger,
  maxJsonDepth: settings.maxJsonDepth,
});
const admission = new MemoryAdmission({
  budgetBytes: settings.requestMemoryBytes,
  maxWaitMs: settings.admissionWaitMs,
});
const server = new HostServer(host, plane, {
  port: settings.port,
  bind: settings.bind,
  maxBodyBytes: settings.maxBodyBytes,
  drainTimeoutMs: settings.drainTimeoutMs,
  logger,
  admission,
});

/** The settings with the package index URL read from its secret, when one is named. */
async function withIndexUrl(read: HostSettings): Promise<HostSettings> {
  const arn = read.python.indexUrlSecretArn;
  if (!arn) return read;
  const url = await readIndexUrlSecret(new SecretsManagerClient({}), arn);
  return { ...read, python: { ...read.python, index: { ...read.python.index, url } } };
}

const url = await server.listen();
logger.info('model host listening', {
  url,
  memoryMiB: Math.round(settings.memoryBytes / 1024 / 1024),
  requestMemoryMiB: Math.round(settings.requestMemoryBytes / 1024 / 1024),
});
await host.start();

const flushMetrics = () => {
  for (const served of host.servedVersions()) {
    const line = served.metrics.emf(settings.metricsNamespace, settings.modelName, served.version);
    if (line) process.stdout.write(`${line}\n`);
  }
};
const metricsTimer =
  settings.metricsIntervalMs > 0 ? setInterval(flushMetrics, settings.metricsIntervalMs).unref() : undefined;

let stopping = false;
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));

async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info('stopping: draining requests in flight', { signal });
  await server.drain();
  clearInterval(metricsTimer);
  flushMetrics();
  await host.stop();
  logger.info('stopped');
  process.exit(0);
}
