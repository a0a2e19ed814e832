import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { accessibilityProblems, type ConsolePage, consoleSuite, screenshot, textOf, until } from '../helpers/browser';
import { runCli } from '../helpers/cli';
import { REPO_ROOT } from '../helpers/paths';
import type { TestTwin } from '../helpers/twin';

const MODEL = 'iris-demo';
const EXAMPLE = {
  inputs: [
    [5.1, 3.5, 1.4, 0.2],
    [6.7, 3.0, 5.2, 2.3],
  ],
};

const suite = consoleSuite({ demo: true });
let twin: TestTwin;

const open = (token: string, hash: string): Promise<ConsolePage> => suite.open(token, hash);

const serving = (sub = 'model-versions', query = '') => `#/models/${MODEL}/serving/${sub}${query}`;

/** The "Status: …" line of the Serving tab. */
const statusLine = (page: Page) => page.getByRole('status').filter({ hasText: 'Status:' });

/** A token for `principal` (made by the admin), with `level` on each of `models`. */
async function tokenFor(principal: string, level: string, models: readonly string[]): Promise<string> {
  for (const name of models) {
    const granted = await twin.call('POST', '/api/2.0/permissions/registered-models/update', {
      name,
      access_control_list: [{ principal, permission_level: level }],
    });
    expect(granted.status).toBe(200);
  }
  const created = await twin.call('POST', '/api/2.0/tokens/create', { principal });
  expect(created.status).toBe(200);
  return created.json.token_value as string;
}

async function servingState(): Promise<string> {
  const answer = await twin.call('GET', '/api/2.0/preview/mlflow/endpoints/get-status', {
    registered_model_name: MODEL,
  });
  return (answer.json.endpoint_status as { state: string }).state;
}

/** The `mlserve` CLI against the twin, as a user runs it. */
const mlserve = (...args: string[]) =>
  runCli(args, {
    env: { MLSERVE_URL: twin.url, MLSERVE_TOKEN: twin.adminToken, MLSERVE_ARTIFACT_ROOT: twin.artifactDir },
  });

/**
 * A copy of the demo's ONNX iris model with an input example, as MLflow 2.17 saves one for a
 * tensor input (`serving_input_example.json` and `saved_input_example_info` in MLmodel).
 */
async function onnxWithExample(dir: string): Promise<void> {
  await cp(path.join(REPO_ROOT, 'twin/demo/iris-onnx'), dir, { recursive: true });
  await writeFile(path.join(dir, 'input_example.json'), JSON.stringify(EXAMPLE));
  await writeFile(path.join(dir, 'serving_input_example.json'), JSON.stringify(EXAMPLE, null, 2));
  const mlmodel = await readFile(path.join(dir, 'MLmodel'), 'utf8');
  await writeFile(
    path.join(dir, 'MLmodel'),
    `${mlmodel}saved_input_example_info:\n  artifact_path: input_example.json\n  serving_input_path: serving_input_example.json\n  type: ndarray\n  format: tf-serving\n`,
  );
}

beforeAll(async () => {
  twin = suite.twin;
}, 120_000);

describe('the Serving tab', () => {
  it("shows the demo model Ready with its version's model URLs, and no Load Example without an input example", async () => {
    const { page, problems } = await open(twin.adminToken, serving());
    await until(async () => expect(await textOf(statusLine(page))).toMatch(/Status:\s*Ready/), 60_000);
    expect(await textOf(page.getByText(/^Compute size:\s*\w+$/))).toMatch(/Small/);
    await until(async () =>
      expect(await textOf(page.getByRole('row', { name: /Version 1/ }))).toMatch(/Ready.*Production/s),
    );
    const urls = page.getByRole('list', { name: 'Model URL' }).locator('code');
    expect(await urls.allInnerTexts()).toEqual([
      `${twin.url}/model/${MODEL}/1/invocations`,
      `${twin.url}/model/${MODEL}/Production/invocations`,
    ]);
    await page.getByRole('button', { name: `Copy the model URL by stage Production` }).click();
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(
      `${twin.url}/model/${MODEL}/Production/invocations`,
    );
    await page.getByText('This version was logged without an input example').waitFor();
    expect(await page.getByRole('button', { name: 'Load Example' }).isDisabled()).toBe(true);
    expect(await page.getByRole('heading', { level: 1 }).count()).toBe(1);
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(problems).toEqual([]);
  }, 90_000);

  it('shows a version registered from the CLI meanwhile in Model Versions on its own, with its alias URL', async () => {
    const { page, problems } = await open(twin.adminToken, serving());
    await page.getByRole('row', { name: /Version 1/ }).waitFor();
    const local = await mkdtemp(path.join(tmpdir(), 'mlserve-cli-model-'));
    await onnxWithExample(local);
    // The CLI copies the model into the twin's artifact folder, registers it and waits for READY.
    const created = await mlserve('versions', 'create', '--name', MODEL, '--from', local);
    expect(created.code, created.stderr).toBe(0);
    const alias = await mlserve('alias', 'set', MODEL, 'challenger', '2');
    expect(alias.code, alias.stderr).toBe(0);
    await rm(local, { recursive: true, force: true });
    const row = page.getByRole('row', { name: /Version 2/ });
    await until(async () => expect(await textOf(row)).toMatch(/Ready.*@challenger/s), 30_000);
    await row.getByRole('link', { name: 'Version 2' }).click();
    await until(async () =>
      expect(await page.getByRole('list', { name: 'Model URL' }).locator('code').allInnerTexts()).toEqual([
        `${twin.url}/model/${MODEL}/2/invocations`,
        `${twin.url}/model/${MODEL}/@challenger/invocations`,
      ]),
    );
    expect(page.url()).toContain('version=2');
    expect(problems).toEqual([]);
  }, 60_000);

  it('loads the input example and sends it, showing the predictions with the status and time', async () => {
    const { page, problems } = await open(twin.adminToken, serving('model-versions', '?version=2'));
    const load = page.getByRole('button', { name: 'Load Example' });
    await until(async () => expect(await load.isEnabled()).toBe(true));
    await load.click();
    await until(async () => expect(JSON.parse(await page.getByLabel('Request').inputValue())).toEqual(EXAMPLE));
    await page.getByRole('button', { name: 'Send Request' }).click();
    const response = page.getByRole('region', { name: 'Response', exact: true });
    expect(await textOf(response.locator('.response-meta'))).toMatch(/^Status 200 · [0-9.]+ ms$/);
    const body = JSON.parse(await textOf(response.getByRole('region', { name: 'Response body' })));
    expect(body.predictions.label).toEqual([0, 2]);
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, 'serving');
    expect(problems).toEqual([]);
  }, 60_000);

  it('shows an error answer as an error, with its status', async () => {
    const { page, problems } = await open(twin.adminToken, serving('model-versions', '?version=2'));
    await page.getByLabel('Request').fill('{"inputs": "not a tensor"}');
    await page.getByRole('button', { name: 'Send Request' }).click();
    const response = page.getByRole('region', { name: 'Response', exact: true });
    expect(await textOf(response.locator('.response-meta'))).toMatch(/^Status 400 \(error\) · /);
    expect(await response.getAttribute('class')).toContain('response-error');
    expect(problems).toEqual([]);
  });

  it('gives ready-to-run curl and Python snippets that read $MLSERVE_TOKEN, never the token', async () => {
    const { page, problems } = await open(twin.adminToken, serving('model-versions', '?version=2'));
    await page.getByRole('tab', { name: 'Curl' }).click();
    const curl = await textOf(page.getByRole('region', { name: 'curl snippet' }));
    expect(curl).toContain(`curl -u token:$MLSERVE_TOKEN -X POST '${twin.url}/model/${MODEL}/2/invocations'`);
    expect(curl).toContain('"inputs"');
    expect(page.url()).toContain('call=curl');
    await page.getByRole('tab', { name: 'Python' }).click();
    const python = await textOf(page.getByRole('region', { name: 'Python snippet' }));
    expect(python).toContain('os.environ["MLSERVE_TOKEN"]');
    expect(python).toContain(`requests.post(\n    "${twin.url}/model/${MODEL}/2/invocations"`);
    expect(`${curl}${python}${await page.content()}`).not.toContain(twin.adminToken);
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('charts requests, errors and latency per version, with a data table behind each chart', async () => {
    for (let i = 0; i < 3; i++) {
      const scored = await twin.call('POST', `/model/${MODEL}/2/invocations`, EXAMPLE);
      expect(scored.status).toBe(200);
    }
    const { page, problems } = await open(twin.adminToken, serving('metrics'));
    const totals = page.getByRole('table', { name: 'Totals over the window, by version' });
    await until(async () =>
      expect(
        Number(
          await textOf(
            totals
              .getByRole('row', { name: /Version 2/ })
              .getByRole('cell')
              .nth(1),
          ),
        ),
      ).toBeGreaterThanOrEqual(3),
    );
    expect(await page.getByRole('img', { name: /^(Requests|Errors|Latency) by version over time/ }).count()).toBe(3);
    expect(await page.locator('.chart canvas').count()).toBe(3);
    await page.getByLabel('Window').selectOption('15m');
    const requests = page.locator('details', { hasText: 'Data table: Requests' });
    await page.getByText('Data table: Requests').click();
    // The hosts write their metric lines every 10 s in the twin: the series catches up within that.
    await until(async () => {
      const cells = await requests.locator('tbody td:not(:first-child)').allInnerTexts();
      expect(cells.map(Number).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0)).toBeGreaterThanOrEqual(3);
    }, 30_000);
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, 'serving-metrics');
    expect(problems).toEqual([]);
  }, 60_000);

  it('saves a new compute size after a confirmation, and the rollout shows in Model Events', async () => {
    const { page, problems } = await open(twin.adminToken, serving('compute-settings'));
    const size = page.getByLabel('Compute size');
    await until(async () => expect(await size.isEnabled()).toBe(true));
    expect(await size.locator('option').allInnerTexts()).toEqual([
      expect.stringMatching(/^Small — 0\.5 vCPU, 1 GiB memory, about \$\d+ a month$/),
      expect.stringMatching(/^Medium — 1 vCPU, 4 GiB memory/),
      expect.stringMatching(/^Large — 2 vCPU, 8 GiB memory/),
      expect.stringMatching(/^XLarge — 4 vCPU, 16 GiB memory/),
    ]);
    await size.selectOption('Medium');
    await page.getByLabel('Tag key').fill('team');
    await page.getByLabel('Tag value').fill('fraud');
    await page.getByRole('button', { name: 'Add' }).click();
    await page.getByLabel('Value of tag team').fill('risk');
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, 'serving-compute-settings');
    await page.getByRole('button', { name: 'Save' }).click();
    const dialog = page.getByRole('dialog', { name: 'Save compute settings' });
    expect(await textOf(dialog)).toContain(
      'A new task starts with these settings; the current one serves until it is ready',
    );
    expect(await accessibilityProblems(page, 'dialog')).toEqual([]);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await until(async () => expect(await textOf(page.getByText(/^Compute size:\s*\w+$/))).toMatch(/Medium/));

    await page.getByRole('tab', { name: 'Model Events' }).click();
    const table = page.getByRole('table', { name: `Serving events of ${MODEL}` });
    await table.waitFor();
    expect(await table.getByRole('columnheader').allInnerTexts()).toEqual([
      'Timestamp',
      'Event Type',
      'Version',
      'Message',
    ]);
    await until(async () => {
      const types = await table.locator('tbody tr td:nth-child(2)').allInnerTexts();
      const newest = types.slice(0, types.indexOf('SERVING_RECONFIGURED') + 1);
      expect(newest).toContain('SERVING_RECONFIGURED');
      expect(newest).toContain('MODEL_READY');
    }, 60_000);
    await until(async () => expect(await textOf(statusLine(page))).toMatch(/Status:\s*Ready/), 30_000);
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, 'serving-model-events');
    expect(problems).toEqual([]);
  }, 90_000);

  it('sets batching and workers per version after a confirmation; the running task applies them, no new task', async () => {
    const config = async () => (await twin.serving.modelServingStatus(MODEL)).config;
    const endpointStatus = async () =>
      (await twin.call('GET', '/api/2.0/preview/mlflow/endpoints/get-status', { registered_model_name: MODEL })).json
        .endpoint_status as Record<string, unknown>;
    const revision = (await config())?.revision;
    const { page, problems } = await open(twin.adminToken, serving('compute-settings'));
    const batching = page.getByLabel('Batching', { exact: true });
    await until(async () => expect(await batching.isEnabled()).toBe(true));
    expect(await batching.evaluate((box) => (box as { indeterminate?: boolean }).indeterminate)).toBe(true);
    expect(await textOf(page.getByText("Not set: the model host's default applies."))).toBeTruthy();
    expect(await page.getByLabel('Workers per version').inputValue()).toBe('auto');

    await batching.check();
    await page.getByLabel('Max batch rows').fill('64');
    await page.getByLabel('Max wait (ms)').fill('500');
    expect(await textOf(page.getByRole('alert').filter({ hasText: 'from 0 to 100 ms' }))).toBe(
      "A whole number from 0 to 100 ms, or empty for the host's default.",
    );
    expect(await page.getByRole('button', { name: 'Save' }).isDisabled()).toBe(true);
    await page.getByLabel('Max wait (ms)').fill('5');
    await page.getByLabel('Workers per version').selectOption('4');
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByRole('button', { name: 'Save' }).click();
    const dialog = page.getByRole('dialog', { name: 'Save compute settings' });
    expect(await textOf(dialog)).toContain(
      'The running task applies batching and workers at once; no new task starts.',
    );
    expect(await textOf(dialog)).not.toContain('A new task starts');
    expect(await dialog.getByRole('listitem').allInnerTexts()).toEqual([
      'Batching: on',
      'Max batch rows: 64',
      'Max wait: 5 ms',
      'Workers per version: 4',
    ]);
    expect(await accessibilityProblems(page, 'dialog')).toEqual([]);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await endpointStatus()).toMatchObject({
      batching: { enabled: true, max_batch_rows: 64, max_wait_ms: 5 },
      workers_per_version: 4,
    });
    expect((await config())?.revision).toBe(revision);

    await page.getByLabel('Max batch rows').fill('');
    await page.getByLabel('Workers per version').selectOption({ label: "Automatic (from the task's vCPUs)" });
    await page.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor();
    expect(await dialog.getByRole('listitem').allInnerTexts()).toEqual([
      "Max batch rows: the host's default",
      'Workers per version: Automatic',
    ]);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const now = await endpointStatus();
    expect(now.batching).toEqual({ enabled: true, max_wait_ms: 5 });
    expect(now).not.toHaveProperty('workers_per_version');
    expect((await config())?.revision).toBe(revision);
    expect(await textOf(statusLine(page))).toMatch(/Status:\s*Ready/);
    expect(problems).toEqual([]);
  }, 60_000);

  it('lets a CAN_READ token score but not enable, stop or reconfigure serving', async () => {
    await twin.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'not-served' });
    const reader = await tokenFor('reader', 'CAN_READ', [MODEL, 'not-served']);
    const { page, problems } = await open(reader, serving('model-versions', '?version=1'));
    const stop = page.getByRole('button', { name: 'Stop' });
    await stop.waitFor();
    expect(await stop.isDisabled()).toBe(true);
    expect(await textOf(page.getByText('Stopping serving requires CAN_MANAGE on this model.'))).toBeTruthy();
    await page.getByLabel('Request').fill(JSON.stringify(EXAMPLE));
    await page.getByRole('button', { name: 'Send Request' }).click();
    const response = page.getByRole('region', { name: 'Response', exact: true });
    expect(await textOf(response.locator('.response-meta'))).toMatch(/^Status 200 · /);

    await page.getByRole('tab', { name: 'Compute Settings' }).click();
    const save = page.getByRole('button', { name: 'Save' });
    await save.waitFor();
    expect(await save.isDisabled()).toBe(true);
    expect(await page.getByLabel('Compute size').isDisabled()).toBe(true);
    for (const field of ['Batching', 'Max batch rows', 'Max wait (ms)', 'Workers per version']) {
      expect(await page.getByLabel(field, { exact: true }).isDisabled()).toBe(true);
    }
    expect(await textOf(page.getByText('Changing compute settings requires CAN_MANAGE on this model.'))).toBeTruthy();

    await page.goto(`${twin.url}/#/models/not-served/serving`);
    const enable = page.getByRole('button', { name: 'Enable Serving' });
    await enable.waitFor();
    expect(await enable.isDisabled()).toBe(true);
    expect(await textOf(page.getByText('Enabling serving requires CAN_MANAGE on this model.'))).toBeTruthy();
    expect(problems).toEqual([]);
  }, 60_000);

  it('leaves a model out of the Models list for a token without access to it', async () => {
    await twin.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'outsiders-own' });
    const outsider = await tokenFor('outsider', 'CAN_READ', ['outsiders-own']);
    const { page, problems } = await open(outsider, '#/models');
    await until(async () =>
      expect(await page.locator('tbody tr td:first-child').allInnerTexts()).toEqual(['outsiders-own']),
    );
    expect(problems).toEqual([]);
  });

  it('stops serving after a confirmation saying what stops', async () => {
    const { page, problems } = await open(twin.adminToken, serving());
    const stop = page.getByRole('button', { name: 'Stop' });
    await until(async () => expect(await stop.isEnabled()).toBe(true), 30_000);
    await stop.click();
    const dialog = page.getByRole('dialog', { name: 'Stop serving' });
    expect(await textOf(dialog)).toMatch(/Serving of every version of iris-demo stops and its task is removed/);
    expect(await accessibilityProblems(page, 'dialog')).toEqual([]);
    await dialog.getByRole('button', { name: 'Stop' }).click();
    await until(async () => expect(await textOf(statusLine(page))).toMatch(/Status:\s*Stopped/), 60_000);
    expect(await page.getByRole('button', { name: 'Enable Serving' }).isEnabled()).toBe(true);
    expect(await page.getByRole('tab', { name: 'Model Versions' }).count()).toBe(0);
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(problems).toEqual([]);
  }, 90_000);

  it('enables serving, showing Pending and then Ready without a reload', async () => {
    if ((await servingState()) !== 'ENDPOINT_STATE_STOPPED') {
      await twin.call('POST', '/api/2.0/preview/mlflow/endpoints/disable', { registered_model_name: MODEL });
      await until(async () => expect(await servingState()).toBe('ENDPOINT_STATE_STOPPED'), 60_000);
    }
    const { page, problems } = await open(twin.adminToken, serving());
    await page.getByRole('button', { name: 'Enable Serving' }).click();
    // The status line shows Pending first (checked at every frame, so a short Pending is not missed).
    await page.waitForFunction(
      () => {
        const dom = globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } };
        return /Status:\s*Pending/.test(
          dom.document.querySelector('[role="status"].serving-status-line')?.textContent ?? '',
        );
      },
      undefined,
      { polling: 'raf' },
    );
    await until(async () => expect(await textOf(statusLine(page))).toMatch(/Status:\s*Ready/), 60_000);
    await until(
      async () => expect(await textOf(page.getByRole('row', { name: /Version 1/ }))).toMatch(/Ready/),
      30_000,
    );
    expect(problems).toEqual([]);
  }, 90_000);
});
