// Driving the admin's two-pane selectors (Available ↔ Chosen) as a user does: filter, pick, move.

/** Moves the entry starting with `code` in the `name` selector (permissions, groups) to Chosen. */
export async function choose(page, name, code) {
  await move(page, name, 'available', 'choose', code);
}

/** Moves the entry starting with `code` in the `name` selector back to Available. */
export async function unchoose(page, name, code) {
  await move(page, name, 'chosen', 'remove', code);
}

async function move(page, name, pane, button, code) {
  const sel = `[data-testid="selector-${name}-${pane}"]`;
  await page.fill(`[data-testid="selector-${name}-${pane}-filter"]`, code);
  const value = await page.locator(`${sel} option`).filter({ hasText: code }).first().getAttribute('value');
  await page.selectOption(sel, value);
  await page.click(`[data-testid="selector-${name}-${button}"]`);
  await page.fill(`[data-testid="selector-${name}-${pane}-filter"]`, '');
}

/** The entries of one pane, as shown. */
export async function entries(page, name, pane) {
  return page.locator(`[data-testid="selector-${name}-${pane}"] option`).allTextContents();
}
