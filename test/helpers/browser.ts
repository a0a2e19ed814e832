/**
 * The web console in a real browser: Debian's Chromium driven by playwright-core (no browser is
 * ever downloaded). A fresh context per test, every "Refused to …" (CSP) message and page error
 * collected, axe-core run against a page or dialog, and screenshots written where asked.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { REPO_ROOT } from './paths';
import { startTestTwin, type TestTwin } from './twin';

export const CHROMIUM = '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface ConsolePage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** CSP refusals and uncaught errors seen so far. */
  readonly problems: string[];
  close(): Promise<void>;
}

/** A fresh browser context on the console; signed in with `token` when given. */
export async function openConsole(browser: Browser, url: string, token?: string): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: url });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const problems: string[] = [];
  page.on('console', (message) => {
    if (/Refused to/.test(message.text())) problems.push(`CSP: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  await page.goto(url);
  if (token) await signIn(page, token);
  return { context, page, problems, close: () => context.close() };
}

export interface ConsoleSuite {
  /** The twin (started before the file's tests). */
  readonly twin: TestTwin;
  /** A fresh context on the console, signed in with `token` (none: the sign-in page), at `hash` when given. */
  open(token?: string, hash?: string): Promise<ConsolePage>;
}

/**
 * One browser test file's twin and browser: both started before its tests; every context it
 * opened, the browser and the twin closed after them.
 */
export function consoleSuite(options: { readonly demo?: boolean } = {}): ConsoleSuite {
  let twin: TestTwin | undefined;
  let browser: Browser | undefined;
  const opened: ConsolePage[] = [];
  beforeAll(async () => {
    [twin, browser] = await Promise.all([startTestTwin({ demo: options.demo }), launchBrowser()]);
  }, 120_000);
  afterAll(async () => {
    for (const o of opened) await o.close().catch(() => undefined);
    await browser?.close();
    await twin?.close();
  });
  const started = () => {
    if (!twin || !browser) throw new Error('the twin and the browser start in beforeAll');
    return { twin, browser };
  };
  return {
    get twin() {
      return started().twin;
    },
    async open(token, hash) {
      const { twin: running, browser: chromium } = started();
      const consolePage = await openConsole(chromium, running.url, token);
      opened.push(consolePage);
      if (hash) await consolePage.page.goto(`${running.url}/${hash}`);
      return consolePage;
    },
  };
}

export async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/**
 * Polls `check` until it passes (plain playwright-core has no web-first assertions); the last
 * failure is thrown when time runs out.
 */
export async function until<T>(check: () => Promise<T>, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}

/** The text of a locator, once it is visible. */
export async function textOf(locator: Locator): Promise<string> {
  await locator.waitFor();
  return (await locator.innerText()).trim();
}

const require = createRequire(import.meta.url);
let axeSource: string | undefined;

export interface AxeViolation {
  readonly id: string;
  readonly impact: string;
  readonly help: string;
  readonly nodes: number;
}

/**
 * Runs axe-core in the page (evaluated through the DevTools protocol, which the page's CSP
 * does not govern) on the whole page or one element; answers the serious and critical findings.
 */
export async function accessibilityProblems(page: Page, selector?: string): Promise<AxeViolation[]> {
  axeSource ??= await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async (within) => {
    const page = globalThis as unknown as {
      axe: { run: (context: unknown) => Promise<{ violations: unknown[] }> };
      document: unknown;
    };
    const result = await page.axe.run(within ?? page.document);
    return result.violations as { id: string; impact: string; help: string; nodes: unknown[] }[];
  }, selector);
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length }));
}

/**
 * A screenshot of the page. With UPDATE_SCREENSHOTS=1 it replaces the docs' copy under
 * docs/screenshots/; otherwise it goes to test-results/screenshots/ (not tracked).
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir =
    process.env.UPDATE_SCREENSHOTS === '1'
      ? path.join(REPO_ROOT, 'docs/screenshots')
      : path.join(REPO_ROOT, 'test-results/screenshots');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
