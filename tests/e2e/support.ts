import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { ARTIFACTS, launchChromium } from '../support/browser.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const WEB_BUILD = path.join(REPO, 'desktop/dist-web/index.html');

/** The back office's browser build, built once if this checkout has none (a clean clone). */
export function ensureWebBuild(): void {
  if (!existsSync(WEB_BUILD)) execFileSync('npm', ['run', 'build:web', '-w', '@orders/desktop'], { cwd: REPO, stdio: 'inherit' });
}

export interface ChromiumSuite<Env> {
  /** What `start` returned; available inside tests and hooks declared after this call. */
  readonly env: Env;
  readonly browser: Browser;
  /** A tab in a browser context of its own (its own cookies and storage, as a second window would be). */
  newTab(options?: BrowserContextOptions): Promise<Page>;
  /**
   * A screenshot into tests/artifacts/<name>.png (git-ignored). Test runs never write docs/: the
   * README's pictures are copied from there by hand after looking at them.
   */
  shot(page: Page, name: string, options?: { fullPage?: boolean }): Promise<void>;
}

/**
 * A browser suite's set-up and tear-down, written once: call it at the top of a `describe`. It starts
 * the server environment (`start`), then Debian's Chromium, and closes both, browser first.
 */
export function useChromiumSuite<Env extends { close(): Promise<void> }>(
  start: () => Promise<Env>,
  options: { webBuild?: boolean } = {},
): ChromiumSuite<Env> {
  let env: Env | undefined;
  let chrome: Awaited<ReturnType<typeof launchChromium>> | undefined;
  beforeAll(async () => {
    if (options.webBuild) ensureWebBuild();
    env = await start();
    chrome = await launchChromium();
  });
  afterAll(async () => {
    await chrome?.close();
    await env?.close();
  });
  const started = () => {
    if (!env || !chrome) throw new Error('the Chromium suite is not started yet (use it inside tests or later hooks)');
    return { env, chrome };
  };
  return {
    get env() {
      return started().env;
    },
    get browser() {
      return started().chrome.browser;
    },
    async newTab(contextOptions) {
      const context = await started().chrome.browser.newContext(contextOptions);
      return context.newPage();
    },
    async shot(page, name, shotOptions = {}) {
      await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: shotOptions.fullPage ?? false });
    },
  };
}

/** Fills and sends the back office's login form (the page must be showing it). */
export async function submitLogin(page: Page, who: { email: string; password: string }): Promise<void> {
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Log in' }).click();
}
