// Where the browser tests write what CI keeps: screenshots and server logs.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `artifacts/` at the repository root (or CASTELLAN_ARTIFACTS). */
export const artifactsDir = process.env.CASTELLAN_ARTIFACTS ?? join(root, 'artifacts');

/** Screenshots: `artifacts/screenshots/`. */
export const screenshotsDir = join(artifactsDir, 'screenshots');

/** Accessibility reports (axe-core): `artifacts/a11y/`. */
export const a11yDir = join(artifactsDir, 'a11y');
