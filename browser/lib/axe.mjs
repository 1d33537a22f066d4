// axe-core (from npm) run inside a page: the accessibility check of the browser tests.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { a11yDir } from './paths.mjs';

const require = createRequire(import.meta.url);
const axePath = require.resolve('axe-core/axe.min.js');

/**
 * Runs axe-core on the page as it is now (WCAG 2 A/AA rules and best practices), writes the full
 * report to artifacts/a11y/NAME.json and returns the serious and critical violations, each as
 * "rule: help (target, …)".
 */
export async function seriousViolations(page, name) {
  await page.addScriptTag({ path: axePath });
  const results = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    axe.run(document, { resultTypes: ['violations'] }),
  );
  mkdirSync(a11yDir, { recursive: true });
  writeFileSync(join(a11yDir, `${name}.json`), JSON.stringify(results.violations, null, 2));
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')})`);
}
