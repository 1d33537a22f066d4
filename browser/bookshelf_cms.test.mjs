// Bookshelf's CMS on object rules, in headless chromium: an author edits and submits their own
// draft (and sees no Edit button on anything else); a reviewer sees the article in review and
// approves it but cannot edit it; a chief editor publishes it; the public list then shows it.
// A book granted to one co-editor (castellan user grant --object) shows them Edit there only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { seriousViolations } from './lib/axe.mjs';
import { launch, newPage, screenshot } from './lib/browser.mjs';
import { scratchDir, startServer } from './lib/server.mjs';
import { castellan } from './lib/cli.mjs';

const PASSWORD = 'browser-test-password';

let server;
let browser;
let databaseUrl;

before(async () => {
  const dir = scratchDir('bookshelf-cms');
  databaseUrl = `sqlite://${dir}/bookshelf.sqlite3`;
  server = await startServer({
    name: 'bookshelf',
    bin: process.env.BOOKSHELF_BIN,
    args: ['--demo', '--database-url', databaseUrl],
    env: { BOOKSHELF_DEMO_PASSWORD: PASSWORD, RUST_LOG: 'info' },
    readyPath: '/books/',
  });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  const code = await server?.stop();
  assert.equal(code, 0, `bookshelf did not shut down cleanly on SIGINT:\n${server?.output()}`);
});

async function logIn(page, username) {
  await page.goto(`${server.url}/accounts/login/`);
  await page.fill('input[name="username"]', username);
  await page.fill('input[name="password"]', PASSWORD);
  await Promise.all([page.waitForNavigation(), page.click('[data-testid="login-form"] [type="submit"]')]);
  assert.ok(!page.url().includes('/accounts/login/'), `${username} could not log in`);
}

async function click(page, selector) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

async function listed(page) {
  await page.goto(`${server.url}/articles/`);
  return page.$$eval('[data-testid="article-list"] li > a', (els) => els.map((el) => el.textContent.trim()));
}

describe('bookshelf CMS in a browser', () => {
  test('author → reviewer → chief editor, each only what the rules allow', async () => {
    const page = await newPage(browser);
    // The author: their own draft has Edit and Submit; their article in review has neither.
    await logIn(page, 'author');
    const mine = await listed(page);
    assert.ok(mine.some((t) => t.includes('Reading group notes')), `author's list: ${mine}`);
    await page.goto(`${server.url}/articles/3/`);
    assert.ok(await page.isVisible('[data-testid="edit-article"]'));
    await click(page, '[data-testid="edit-article"]');
    await page.fill('input[name="title"]', 'Reading group notes: Le Guin');
    await click(page, '[data-testid="save"]');
    assert.match(page.url(), /\/articles\/3\/$/);
    await screenshot(page, 'cms-author-own-draft');
    await click(page, '[data-testid="submit"]');
    assert.equal(await page.getAttribute('[data-testid="article-detail"]', 'data-status'), 'review');
    assert.ok(!(await page.isVisible('[data-testid="edit-article"]')), 'no Edit once in review');
    const refused = await page.goto(`${server.url}/articles/3/edit/`);
    assert.equal(refused.status(), 403);
    await screenshot(page, 'cms-author-refused-in-review');
    await click(page, '[data-action="logout"]');

    // The reviewer: sees it in review, approves it, cannot edit it.
    await logIn(page, 'reviewer');
    await page.goto(`${server.url}/articles/3/`);
    assert.ok(!(await page.isVisible('[data-testid="edit-article"]')));
    await click(page, '[data-testid="approve"]');
    assert.match(await page.textContent('[data-testid="article-detail"]'), /approved by reviewer/);
    await screenshot(page, 'cms-reviewer-approved');
    assert.equal((await page.goto(`${server.url}/articles/3/edit/`)).status(), 403);
    await click(page, '[data-action="logout"]');

    // The chief editor publishes; the public then sees it.
    await logIn(page, 'chief');
    await page.goto(`${server.url}/articles/3/`);
    assert.ok(await page.isVisible('[data-testid="edit-article"]'), 'chief editors edit any article');
    await click(page, '[data-testid="publish-article"]');
    assert.equal(await page.getAttribute('[data-testid="article-detail"]', 'data-status'), 'published');
    await click(page, '[data-action="logout"]');
    const publicList = await listed(page);
    assert.ok(publicList.some((t) => t.includes('Reading group notes: Le Guin')), `public list: ${publicList}`);
    assert.ok(!publicList.some((t) => t.includes('New arrivals')), 'the article in review stays hidden');
    await page.close();
  });

  test('a book granted to one co-editor: Edit there, nowhere else', async () => {
    const page = await newPage(browser);
    await logIn(page, 'viewer');
    await page.goto(`${server.url}/books/2/`);
    assert.ok(!(await page.isVisible('[data-testid="edit"]')));
    const granted = castellan(databaseUrl, [
      'user', 'grant', '--object', 'bookshelf.book:2', '--', 'viewer', 'bookshelf.change_book',
    ]);
    assert.match(granted, /Granted 1 permission/);
    await page.goto(`${server.url}/books/2/`);
    assert.ok(await page.isVisible('[data-testid="edit"]'), 'the grant shows on the next request');
    await click(page, '[data-testid="edit"]');
    assert.match(page.url(), /\/books\/2\/edit\/$/);
    await screenshot(page, 'cms-co-editor-book');
    await page.goto(`${server.url}/books/1/`);
    assert.ok(!(await page.isVisible('[data-testid="edit"]')));
    assert.equal((await page.goto(`${server.url}/books/1/edit/`)).status(), 403);
    await page.close();
  });

  test("the admin's object-permissions page grants a book to a co-editor (axe: no serious violation)", async () => {
    const page = await newPage(browser);
    await logIn(page, 'admin');
    await page.goto(`${server.url}/admin/bookshelf/book/1/change/`);
    await click(page, '[data-testid="object-permissions"]');
    assert.match(page.url(), /\/admin\/bookshelf\/book\/1\/permissions\/$/);
    await page.fill('[data-testid="holder-name"]', 'member');
    await page.check('[data-testid="perm-change_book"]');
    await click(page, '[data-testid="grant"]');
    assert.ok(await page.isVisible('[data-testid="object-user-member"]'), 'the grant is listed');
    await screenshot(page, 'admin-object-permissions');
    const problems = await seriousViolations(page, 'admin-object-permissions');
    assert.deepEqual(problems, [], problems.join('\n'));
    await click(page, '[data-testid="logout"]');
    await logIn(page, 'member');
    assert.equal((await page.goto(`${server.url}/books/1/edit/`)).status(), 200);
    assert.equal((await page.goto(`${server.url}/books/2/edit/`)).status(), 403);
    await page.close();
  });
});
