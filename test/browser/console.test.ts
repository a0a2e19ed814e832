/**
 * The console's shell in a real browser against a real twin: signing in (the token kept in
 * sessionStorage only), the Models list with the demo model Ready, filtering and creating a
 * model, signing out, a revoked token sending the user back to sign-in with the reason, the
 * strict CSP (no refusals), and axe on each page.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { accessibilityProblems, type ConsolePage, consoleSuite, screenshot, textOf, until } from '../helpers/browser';
import type { TestTwin } from '../helpers/twin';

const suite = consoleSuite({ demo: true });
let twin: TestTwin;

const open = (token?: string): Promise<ConsolePage> => suite.open(token);

beforeAll(async () => {
  twin = suite.twin;
}, 120_000);

describe('the console shell', () => {
  it('signs in with a token kept in sessionStorage only, and lists the demo model Ready', async () => {
    const { page, problems } = await open();
    await until(async () => expect(await page.title()).toBe('Sign in · mlserve'));
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByLabel('Token').fill(twin.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Models' }).waitFor();
    const row = page.getByRole('row', { name: /iris-demo/ });
    await until(async () => expect(await textOf(row)).toMatch(/Ready/), 60_000);
    expect(await page.evaluate(() => ({ ...sessionStorage }))).toEqual({ 'mlserve.token': twin.adminToken });
    expect(await page.evaluate(() => ({ ...localStorage }))).toEqual({});
    expect(await page.context().cookies()).toEqual([]);
    expect(page.url()).not.toContain(twin.adminToken);
    expect(await accessibilityProblems(page)).toEqual([]);
    await screenshot(page, 'models');
    expect(problems).toEqual([]);
  }, 90_000);

  it('filters models by name and creates one, which opens its page', async () => {
    const { page, problems } = await open(twin.adminToken);
    await page.getByRole('button', { name: 'Create Model' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create Model' });
    await dialog.getByLabel('Name').fill('console-made');
    expect(await accessibilityProblems(page, 'dialog')).toEqual([]);
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { level: 1, name: 'console-made' }).waitFor();
    await until(async () => expect(await page.title()).toMatch(/^console-made · /));
    await page.getByRole('link', { name: 'Models' }).first().click();
    await page.getByLabel('Filter by name').fill('made');
    await page.getByRole('button', { name: 'Filter' }).click();
    await until(async () => {
      const names = await page.locator('tbody tr td:first-child').allInnerTexts();
      expect(names).toEqual(['console-made']);
    });
    expect(page.url()).toContain('filter=made');
    expect(problems).toEqual([]);
  }, 60_000);

  it('signs out, forgetting the token', async () => {
    const { page } = await open(twin.adminToken);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Token').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it('goes back to sign-in with the reason when the server refuses the token (401)', async () => {
    const created = await twin.call('POST', '/api/2.0/tokens/create', { description: 'short-lived' });
    const secret = created.json.token_value as string;
    const tokenId = (created.json.token_info as { token_id: string }).token_id;
    const { page } = await open(secret);
    await twin.call('POST', '/api/2.0/tokens/revoke', { token_id: tokenId });
    await until(async () => expect(await textOf(page.getByRole('alert').first())).toMatch(/signed out/i), 30_000);
    await page.getByLabel('Token').waitFor();
  }, 60_000);

  it('refuses a wrong token on the sign-in page with the server’s error', async () => {
    const { page } = await open();
    await page.getByLabel('Token').fill('mlsv_not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(await textOf(page.getByRole('alert'))).toMatch(/UNAUTHENTICATED/);
  });
});
