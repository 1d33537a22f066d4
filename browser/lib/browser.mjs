// Debian's headless chromium driven by playwright-core, with a screenshot helper.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

import { screenshotsDir } from './paths.mjs';

/** Launches headless chromium from CASTELLAN_CHROMIUM (default /usr/bin/chromium). */
export async function launch() {
  const executablePath = process.env.CASTELLAN_CHROMIUM ?? '/usr/bin/chromium';
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
}

/** A fresh browser context (its own cookies: one logged-in user) with a laptop-sized viewport. */
export async function newPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  return context.newPage();
}

/** Saves a full-page screenshot as artifacts/screenshots/NAME.png. */
export async function screenshot(page, name) {
  mkdirSync(screenshotsDir, { recursive: true });
  await page.screenshot({ path: join(screenshotsDir, `${name}.png`), fullPage: true });
}
