/**
 * A model's Versions and Permissions tabs in a real browser against a real twin: the demo's
 * version in Production, a version's detail (flavors, signature), moving a version and setting
 * an alias through the UI, the server's error shown in the dialog, new versions appearing on
 * their own, a CAN_READ principal seeing no controls, and editing the model's access list.
 */
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { accessibilityProblems, type ConsolePage, consoleSuite, screenshot, textOf, until } from '../helpers/browser';
import type { TestTwin } from '../helpers/twin';

const DEMO = 'iris-demo';
/** A model of its own (serving never enabled), so moving its versions deploys nothing. */
const MODEL = 'versions-ui';

let demoSource: string;

const suite = consoleSuite({ demo: true });
let twin: TestTwin;

const open = (token = twin.adminToken): Promise<ConsolePage> => suite.open(token);

/** Registers a version of MODEL from the demo's artifact and waits until it is READY. */
async function registerVersion(): Promise<string> {
  const created = await twin.call('POST', '/api/2.0/mlflow/model-versions/create', { name: MODEL, source: demoSource });
  expect(created.status).toBe(200);
  const version = (created.json.model_version as { version: string }).version;
  await until(async () => {
    const got = await twin.call('GET', '/api/2.0/mlflow/model-versions/get', { name: MODEL, version });
    expect((got.json.model_version as { status: string }).status).toBe('READY');
  });
  return version;
}

async function tokenFor(principal: string): Promise<string> {
  const created = await twin.call('POST', '/api/2.0/tokens/create', {
    principal,
    description: `${principal} in tests`,
  });
  return created.json.token_value as string;
}

async function grant(principal: string, level: string): Promise<void> {
  const answer = await twin.call('POST', '/api/2.0/permissions/registered-models/update', {
    name: MODEL,
    access_control_list: [{ principal, permission_level: level }],
  });
  expect(answer.status).toBe(200);
}

/** Goes to a model's tab (the token stays in this tab's sessionStorage across the load). */
async function goToModel(page: Page, name: string, tab = 'versions', query = ''): Promise<void> {
  await page.goto(`${twin.url}/#/models/${encodeURIComponent(name)}/${tab}${query}`);
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

const versionRow = (page: Page, version: string) =>
  page.getByRole('row', { name: new RegExp(`Version ${version}\\b`) });

beforeAll(async () => {
  twin = suite.twin;
  const demo = await twin.call('GET', '/api/2.0/mlflow/model-versions/get', { name: DEMO, version: '1' });
  demoSource = (demo.json.model_version as { source: string }).source;
  await twin.call('POST', '/api/2.0/mlflow/registered-models/create', { name: MODEL });
  await registerVersion();
  await registerVersion();
}, 120_000);

describe('the Versions tab', () => {
  it("lists the demo model's version 1 in Production, Ready", async () => {
    const { page, problems } = await open();
    await goToModel(page, DEMO);
    expect(await page.getByRole('tab', { name: 'Versions' }).getAttribute('aria-selected')).toBe('true');
    await until(async () => expect(await page.title()).toBe(`${DEMO} · Versions · mlserve`));
    const row = versionRow(page, '1');
    await until(async () => expect(await textOf(row)).toMatch(/Ready[\s\S]*Production/));
    expect(await page.getByRole('columnheader').allInnerTexts()).toEqual(
      expect.arrayContaining(['Status', 'Stage', 'Aliases', 'Registered at', 'Source', 'Run ID', 'Description']),
    );
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, 'versions');
    expect(problems).toEqual([]);
  });

  it("shows a version's flavors, MLflow version and signature when it is selected", async () => {
    const { page, problems } = await open();
    await goToModel(page, DEMO);
    await page.getByRole('link', { name: 'Version 1' }).click();
    expect(page.url()).toContain('version=1');
    const detail = page.getByRole('region', { name: 'Version 1' });
    await until(async () => expect(await textOf(detail)).toMatch(/onnx[\s\S]*python_function/));
    expect(await textOf(detail)).toMatch(/MLflow version\s*2\.17\.2/);
    const inputs = detail.getByRole('table', { name: 'Inputs' });
    expect(await textOf(inputs)).toMatch(/tensor of float32\s*\(-1, 4\)/);
    expect(await textOf(detail.getByRole('table', { name: 'Params' }))).toMatch(/declares no params/);
    const outputs = detail.getByRole('table', { name: 'Outputs' });
    expect(await outputs.getByRole('row').allInnerTexts()).toEqual([
      expect.stringMatching(/Name/),
      expect.stringMatching(/label\s*tensor of int64\s*\(-1\)/),
      expect.stringMatching(/probabilities\s*tensor of float32\s*\(-1, 3\)/),
    ]);
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, 'version-detail');
    expect(problems).toEqual([]);
  });

  it('moves a version to Staging and sets an alias on it through the UI', async () => {
    const { page, problems } = await open();
    await goToModel(page, MODEL);
    const row = versionRow(page, '2');
    await row.getByRole('button', { name: 'Transition stage' }).click();
    const stage = page.getByRole('dialog', { name: 'Stage Transition' });
    await stage.getByLabel('Transition to').selectOption('Staging');
    await stage.getByLabel('Archive existing versions').check();
    expect(await accessibilityProblems(page, 'dialog')).toEqual([]);
    await stage.getByRole('button', { name: 'Transition' }).click();
    await stage.waitFor({ state: 'hidden' });
    // The closed dialog hands focus back to the control that opened it.
    expect(await page.locator(':focus').innerText()).toBe('Transition stage');
    await until(async () => expect(await textOf(row)).toMatch(/Staging/));
    expect(await textOf(page.getByRole('status'))).toMatch(/Version 2 moved to Staging/);

    await row.getByRole('button', { name: 'Set alias' }).click();
    const alias = page.getByRole('dialog', { name: 'Set Alias' });
    await alias.getByLabel('Alias').fill('champion');
    expect(await accessibilityProblems(page, 'dialog')).toEqual([]);
    await alias.getByRole('button', { name: 'Set alias' }).click();
    await until(async () => expect(await textOf(row)).toMatch(/@champion/));

    const byAlias = await twin.call('GET', '/api/2.0/mlflow/registered-models/alias', {
      name: MODEL,
      alias: 'champion',
    });
    expect(byAlias.json.model_version).toMatchObject({ version: '2', current_stage: 'Staging' });
    expect(problems).toEqual([]);
  });

  it('edits a description, and deletes an alias after confirmation', async () => {
    await twin.call('POST', '/api/2.0/mlflow/registered-models/alias', { name: MODEL, alias: 'old', version: '1' });
    const { page, problems } = await open();
    await goToModel(page, MODEL);
    const row = versionRow(page, '1');
    await row.getByRole('button', { name: 'Edit description' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit Description' });
    await edit.getByLabel('Description of version 1').fill('trained on the 2026 data');
    await edit.getByRole('button', { name: 'Save' }).click();
    await until(async () => expect(await textOf(row)).toMatch(/trained on the 2026 data/));

    await row.getByRole('button', { name: 'Delete alias old' }).click();
    const remove = page.getByRole('dialog', { name: 'Delete Alias' });
    expect(await accessibilityProblems(page, 'dialog')).toEqual([]);
    await remove.getByRole('button', { name: 'Delete alias' }).click();
    await until(async () => expect(await textOf(row)).not.toMatch(/@old/));
    const model = await twin.call('GET', '/api/2.0/mlflow/registered-models/get', { name: MODEL });
    expect((model.json.registered_model as { aliases?: { alias: string }[] }).aliases ?? []).not.toContainEqual(
      expect.objectContaining({ alias: 'old' }),
    );
    expect(problems).toEqual([]);
  });

  it("shows the server's error_code and message when it refuses an action", async () => {
    const { page, problems } = await open();
    await goToModel(page, MODEL);
    await versionRow(page, '1').getByRole('button', { name: 'Set alias' }).click();
    const alias = page.getByRole('dialog', { name: 'Set Alias' });
    await alias.getByLabel('Alias').fill('not an alias!');
    await alias.getByRole('button', { name: 'Set alias' }).click();
    expect(await textOf(alias.getByRole('alert'))).toMatch(/^INVALID_PARAMETER_VALUE: \S/);
    await alias.getByRole('button', { name: 'Cancel' }).click();
    await alias.waitFor({ state: 'hidden' });
    expect(problems).toEqual([]);
  });

  it('shows a version registered elsewhere without a reload', async () => {
    const { page, problems } = await open();
    await goToModel(page, MODEL);
    await versionRow(page, '2').waitFor();
    const version = await registerVersion();
    await until(async () => expect(await textOf(versionRow(page, version))).toMatch(/Ready/), 15_000);
    expect(problems).toEqual([]);
  });

  it('shows a CAN_READ principal no stage, alias or description controls, and no Permissions tab', async () => {
    const token = await tokenFor('reader');
    await grant('reader', 'CAN_READ');
    const { page, problems } = await open(token);
    const level = page.waitForResponse((r) => r.url().includes('/get-my-permission'));
    await goToModel(page, MODEL);
    expect((await (await level).json()).permission_level).toBe('CAN_READ');
    await versionRow(page, '1').waitFor();
    for (const name of ['Transition stage', 'Set alias', 'Edit description', /^Delete alias/]) {
      expect(await page.getByRole('button', { name }).count()).toBe(0);
    }
    expect(await page.getByRole('tab', { name: 'Permissions' }).count()).toBe(0);
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('offers a CAN_MANAGE_STAGING_VERSIONS principal stage moves outside Production only', async () => {
    await twin.call('POST', '/api/2.0/mlflow/model-versions/transition-stage', {
      name: MODEL,
      version: '1',
      stage: 'Production',
    });
    const token = await tokenFor('stager');
    await grant('stager', 'CAN_MANAGE_STAGING_VERSIONS');
    const { page, problems } = await open(token);
    await goToModel(page, MODEL);
    const staged = versionRow(page, '2');
    await staged.getByRole('button', { name: 'Transition stage' }).click();
    const options = await page.getByRole('dialog').getByLabel('Transition to').locator('option').allInnerTexts();
    expect(options).toEqual(['None', 'Archived']);
    expect(await versionRow(page, '1').getByRole('button', { name: 'Transition stage' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Set alias' }).count()).toBe(0);
    expect(problems).toEqual([]);
  });
});

describe('the Permissions tab', () => {
  it('adds a principal, changes its level and removes it, each confirmed', async () => {
    const { page, problems } = await open();
    await goToModel(page, MODEL, 'permissions');
    expect(await page.getByRole('tab', { name: 'Permissions' }).getAttribute('aria-selected')).toBe('true');
    await page.getByRole('button', { name: 'Add permission' }).click();
    const add = page.getByRole('dialog', { name: 'Add Permission' });
    await add.getByLabel('Principal').fill('analyst');
    await add.getByLabel('Permission level').selectOption('CAN_READ');
    expect(await accessibilityProblems(page, 'dialog')).toEqual([]);
    await add.getByRole('button', { name: 'Add' }).click();
    const row = page.getByRole('row', { name: /^analyst\b/ });
    await until(async () => expect(await textOf(row)).toMatch(/Can Read/));

    await row.getByRole('button', { name: 'Change level' }).click();
    const change = page.getByRole('dialog', { name: 'Change Permission of analyst' });
    await change.getByLabel('Permission level').selectOption('CAN_EDIT');
    await change.getByRole('button', { name: 'Save' }).click();
    await until(async () => expect(await textOf(row)).toMatch(/Can Edit/));
    const acl = async () =>
      (await twin.call('GET', '/api/2.0/permissions/registered-models/get', { name: MODEL })).json
        .access_control_list as { principal: string; permission_level: string }[];
    expect(await acl()).toContainEqual({ principal: 'analyst', permission_level: 'CAN_EDIT' });
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, 'permissions');

    await row.getByRole('button', { name: 'Remove' }).click();
    const remove = page.getByRole('dialog', { name: 'Remove Permission' });
    expect(await accessibilityProblems(page, 'dialog')).toEqual([]);
    await remove.getByRole('button', { name: 'Remove' }).click();
    await row.waitFor({ state: 'detached' });
    expect((await acl()).map((e) => e.principal)).not.toContain('analyst');
    expect(problems).toEqual([]);
  });
});
