/**
 * The Tokens page in a real browser against a real twin: the caller's tokens, creating one
 * (its secret shown once, copyable, then gone), revoking one after confirmation, the server's
 * error in the dialog, and the admin's principal filter (kept in the URL) that others lack.
 */
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { accessibilityProblems, type ConsolePage, consoleSuite, screenshot, textOf, until } from '../helpers/browser';
import type { TestTwin } from '../helpers/twin';

const suite = consoleSuite({ demo: false });
let twin: TestTwin;

const open = (token = twin.adminToken): Promise<ConsolePage> => suite.open(token);

async function goToTokens(page: Page): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tokens' }).click();
  await page.getByRole('heading', { level: 1, name: 'Tokens' }).waitFor();
}

interface TokenInfo {
  token_id: string;
  principal: string;
  description: string;
  revoked_time?: number;
}

async function tokensOf(principal: string): Promise<TokenInfo[]> {
  return (await twin.call('GET', '/api/2.0/tokens/list', { principal })).json.token_infos as TokenInfo[];
}

beforeAll(async () => {
  twin = suite.twin;
}, 120_000);

describe('the Tokens page', () => {
  it('creates a token whose secret is shown once, with a copy button, then gone', async () => {
    const { page, problems } = await open();
    await goToTokens(page);
    await until(async () => expect(await page.title()).toBe('Tokens · mlserve'));
    await until(async () => expect(await textOf(page.getByRole('row', { name: /this session/ }))).toMatch(/admin/));
    expect(await page.getByRole('table').getByRole('columnheader').allInnerTexts()).toEqual(
      expect.arrayContaining(['ID', 'Description', 'Created', 'Expires', 'Last used']),
    );
    expect(await accessibilityProblems(page)).toEqual([]);

    await page.getByRole('button', { name: 'Create Token' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create Token' });
    await dialog.getByLabel('Description').fill('ci pipeline');
    await dialog.getByLabel('Lifetime (days)').fill('30');
    expect(await accessibilityProblems(page, 'dialog')).toEqual([]);
    await dialog.getByRole('button', { name: 'Create' }).click();

    const shown = page.getByRole('region', { name: 'Your new token' });
    const secret = await textOf(shown.locator('code'));
    expect(secret).toMatch(/^mlsv_/);
    expect(await textOf(shown)).toMatch(/will not be shown again/);
    await until(async () => expect(await page.locator(':focus').innerText()).toBe('Your new token'));
    await shown.getByRole('button', { name: 'Copy the new token' }).click();
    await until(async () => expect(await textOf(shown)).toMatch(/Copied/));
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(secret);
    const row = page.getByRole('row', { name: /ci pipeline/ });
    await until(async () => expect(await textOf(row)).toMatch(/\d{4}/));
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, 'tokens');

    const whoami = await twin.call('GET', '/api/2.0/tokens/whoami', undefined, { Authorization: `Bearer ${secret}` });
    expect(whoami.json).toMatchObject({ principal: 'admin' });
    await shown.getByRole('button', { name: 'Done' }).click();
    await shown.waitFor({ state: 'detached' });
    expect(await page.content()).not.toContain(secret);
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Tokens' }).waitFor();
    await row.waitFor();
    expect(await page.content()).not.toContain(secret);
    expect(problems).toEqual([]);
  });

  it('revokes a token after confirmation', async () => {
    const created = await twin.call('POST', '/api/2.0/tokens/create', { description: 'to revoke' });
    const tokenId = (created.json.token_info as TokenInfo).token_id;
    const { page, problems } = await open();
    await goToTokens(page);
    const row = page.getByRole('row', { name: /to revoke/ });
    await row.getByRole('button', { name: 'Revoke' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke Token' });
    expect(await textOf(dialog)).toContain(tokenId);
    expect(await accessibilityProblems(page, 'dialog')).toEqual([]);
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    await row.waitFor({ state: 'detached' });
    expect(await textOf(page.getByRole('status'))).toMatch(`Token ${tokenId} revoked`);
    const revoked = (await tokensOf('admin')).find((t) => t.token_id === tokenId);
    expect(revoked?.revoked_time).toEqual(expect.any(Number));
    expect(problems).toEqual([]);
  });

  it("shows the server's error_code and message when it refuses a token", async () => {
    const { page, problems } = await open();
    await goToTokens(page);
    await page.getByRole('button', { name: 'Create Token' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create Token' });
    await dialog.getByLabel('Lifetime (days)').fill('5000');
    await dialog.getByRole('button', { name: 'Create' }).click();
    expect(await textOf(dialog.getByRole('alert'))).toMatch(/^INVALID_PARAMETER_VALUE: lifetime_seconds/);
    expect(await page.getByRole('region', { name: 'Your new token' }).count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it('lets an admin filter by principal (kept in the URL); others see only their own, with no filter', async () => {
    const reader = await twin.call('POST', '/api/2.0/tokens/create', {
      principal: 'reader',
      description: 'reader key',
    });
    const admin = await open();
    await goToTokens(admin.page);
    await admin.page.getByLabel('Principal').fill('reader');
    await admin.page.getByRole('button', { name: 'Filter' }).click();
    await until(async () => {
      const principals = await admin.page.locator('tbody tr td:nth-child(2)').allInnerTexts();
      expect(principals).toEqual(['reader']);
    });
    expect(admin.page.url()).toContain('principal=reader');

    const { page, problems } = await open(reader.json.token_value as string);
    await goToTokens(page);
    await page.getByRole('row', { name: /reader key/ }).waitFor();
    expect(await page.getByLabel('Principal').count()).toBe(0);
    expect(await page.locator('tbody tr').count()).toBe((await tokensOf('reader')).length);
    expect(await page.content()).not.toContain('bootstrap admin token');
    expect(await accessibilityProblems(page)).toEqual([]);
    expect([...admin.problems, ...problems]).toEqual([]);
  });
});
