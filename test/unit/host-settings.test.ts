import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { autoWorkers, HEAP_SHARE_PERCENT, heapLimitOption, readSettings } from '../../container/src/settings';
import { buildDeployModelDefinition } from '../../core/deploy/deploy-model';
import { DEFAULT_MAX_JSON_DEPTH } from '../../core/shared/json-limits';
import { twinDeploySettings } from '../../twin/twin';
import { REPO_ROOT } from '../helpers/paths';

const REQUIRED = { MLSERVE_MODEL_NAME: 'm', REGISTRY_TABLE: 't', MLSERVE_SOURCE_ROOTS: 'file:///tmp' };
const MIB = 1024 * 1024;

describe('the host’s request limits', () => {
  it('derive the memory budget from the task’s memory: 40 % of it', () => {
    const settings = readSettings({ ...REQUIRED, MLSERVE_MEMORY_MIB: '1024' });
    expect(settings.memoryBytes).toBe(1024 * MIB);
    expect(settings.requestMemoryBytes).toBe(Math.floor(1024 * MIB * 0.4));
    expect(settings.maxJsonDepth).toBe(DEFAULT_MAX_JSON_DEPTH);
    expect(settings.admissionWaitMs).toBe(10_000);
  });

  it('take an explicit budget, depth and wait', () => {
    const settings = readSettings({
      ...REQUIRED,
      MLSERVE_MEMORY_MIB: '4096',
      MLSERVE_REQUEST_MEMORY_MIB: '100',
      MLSERVE_MAX_JSON_DEPTH: '10',
      MLSERVE_ADMISSION_WAIT_MS: '0',
    });
    expect(settings.requestMemoryBytes).toBe(100 * MIB);
    expect(settings.maxJsonDepth).toBe(10);
    expect(settings.admissionWaitMs).toBe(0);
  });

  it('refuse a depth below 2 or a memory below 64 MiB, naming the variable', () => {
    expect(() => readSettings({ ...REQUIRED, MLSERVE_MAX_JSON_DEPTH: '1' })).toThrow(/MLSERVE_MAX_JSON_DEPTH/);
    expect(() => readSettings({ ...REQUIRED, MLSERVE_MEMORY_MIB: '10' })).toThrow(/MLSERVE_MEMORY_MIB/);
  });

  it('size the heap as the image does: the same share in the Dockerfile and for the twin’s tasks', () => {
    const dockerfile = readFileSync(path.join(REPO_ROOT, 'container/Dockerfile'), 'utf8');
    expect(dockerfile).toContain(`--max-old-space-size-percentage=${HEAP_SHARE_PERCENT}`);
    expect(heapLimitOption(1024)).toBe(`--max-old-space-size=${(1024 * HEAP_SHARE_PERCENT) / 100}`);
  });

  it('get the task’s memory from the deploy workflow’s task definition', () => {
    const definition = JSON.stringify(buildDeployModelDefinition(twinDeploySettings('file:///tmp', 1)));
    expect(definition).toContain('{"Name":"MLSERVE_MEMORY_MIB","Value.$":"$.model.Item.servingMemory.S"}');
  });
});

describe('Python workers per version', () => {
  it('are one per vCPU beyond the host’s own, at least one, at most eight', () => {
    expect([0.5, 1, 2, 4, 16].map(autoWorkers)).toEqual([1, 1, 1, 3, 8]);
    expect(readSettings({ ...REQUIRED, MLSERVE_CPU_UNITS: '4096' }).workersPerVersion).toBe(3);
    expect(readSettings({ ...REQUIRED, MLSERVE_WORKERS_PER_VERSION: '5' }).workersPerVersion).toBe(5);
  });
});

describe('Python environments', () => {
  it('default to the installer found, no Python downloads, isolated environments, the default index', () => {
    const { python } = readSettings(REQUIRED);
    expect(python).toMatchObject({
      installer: 'auto',
      pythonDownloads: false,
      systemPackages: false,
      index: { url: undefined, findLinks: undefined, noIndex: false },
      indexUrlSecretArn: undefined,
    });
  });

  it('take the installer, downloads, index, wheel directory and secret', () => {
    const { python } = readSettings({
      ...REQUIRED,
      MLSERVE_PYTHON_INSTALLER: 'pip',
      MLSERVE_PYTHON_DOWNLOADS: 'true',
      MLSERVE_ENV_SYSTEM_PACKAGES: 'yes',
      MLSERVE_PIP_FIND_LINKS: '/wheels',
      MLSERVE_PIP_NO_INDEX: '1',
      MLSERVE_PIP_INDEX_URL_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:pip-AbCdEf',
    });
    expect(python).toMatchObject({
      installer: 'pip',
      pythonDownloads: true,
      systemPackages: true,
      index: { findLinks: '/wheels', noIndex: true },
      indexUrlSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:pip-AbCdEf',
    });
    const url = 'https://u:secret-token@pypi.example.com/simple';
    expect(readSettings({ ...REQUIRED, MLSERVE_PIP_INDEX_URL: url }).python.index.url).toBe(url);
  });

  it('refuse an unknown installer, and an index URL given both ways, without showing it', () => {
    expect(() => readSettings({ ...REQUIRED, MLSERVE_PYTHON_INSTALLER: 'conda' })).toThrow(/MLSERVE_PYTHON_INSTALLER/);
    const both = () =>
      readSettings({
        ...REQUIRED,
        MLSERVE_PIP_INDEX_URL: 'https://u:secret-token@pypi.example.com/simple',
        MLSERVE_PIP_INDEX_URL_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:pip-AbCdEf',
      });
    expect(both).toThrow(/MLSERVE_PIP_INDEX_URL or MLSERVE_PIP_INDEX_URL_SECRET_ARN, not both/);
    expect(() => readSettings({ ...REQUIRED, MLSERVE_PIP_INDEX_URL: 'not a url secret-token' })).toThrow(
      /^(?!.*secret-token).*MLSERVE_PIP_INDEX_URL/,
    );
  });
});

describe('the environment archive', () => {
  it('is off unless MLSERVE_ENV_ARCHIVE says where, and then is that bucket and prefix', () => {
    expect(readSettings(REQUIRED).python.archive).toBeUndefined();
    expect(
      readSettings({ ...REQUIRED, MLSERVE_ENV_ARCHIVE: 's3://models-bucket/environments/' }).python.archive,
    ).toEqual({
      bucket: 'models-bucket',
      prefix: 'environments',
    });
  });

  it('refuses an archive that is not an S3 location, naming the variable', () => {
    expect(() => readSettings({ ...REQUIRED, MLSERVE_ENV_ARCHIVE: '/tmp/envs' })).toThrow(/MLSERVE_ENV_ARCHIVE/);
  });

  it('keys environments by the release the deploy workflow gives the task', () => {
    const settings = twinDeploySettings('file:///tmp', 1);
    const definition = JSON.stringify(buildDeployModelDefinition(settings));
    expect(definition).toContain(`{"Name":"MLSERVE_RELEASE","Value":"${settings.release}"}`);
    expect(readSettings({ ...REQUIRED, MLSERVE_RELEASE: 'r7' }).release).toBe('r7');
  });
});
