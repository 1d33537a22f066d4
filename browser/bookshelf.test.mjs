// Bookshelf in headless chromium: each role sees exactly the buttons its permissions allow, can do
// what it may, is refused what it may not, and logs out.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { launch, newPage, screenshot } from './lib/browser.mjs';
import { choose, unchoose } from './lib/selector.mjs';
import { scratchDir, startServer } from './lib/server.mjs';

const PASSWORD = 'browser-test-password';

let server;
let browser;

before(async () => {
  const dir = scratchDir('bookshelf');
  server = await startServer({
    name: 'bookshelf',
    bin: process.env.BOOKSHELF_BIN,
    args: ['--demo', '--database-url', `sqlite://${dir}/bookshelf.sqlite3`],
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
  assert.ok(!page.url().includes('/accounts/login/'), `${username} could not log in (still on ${page.url()})`);
}

async function logOut(page) {
  await Promise.all([page.waitForNavigation(), page.click('[data-action="logout"]')]);
}

/** The data-action names of the buttons and links in the book's action area, sorted. */
async function bookActions(page) {
  const actions = await page.$$eval('[data-testid="book-detail"] [data-testid="actions"] [data-action]', (els) =>
    els.map((el) => el.getAttribute('data-action')),
  );
  return [...new Set(actions)].sort();
}

/** The detail URL of the first book on the list whose title contains TEXT. */
async function bookUrl(page, text) {
  await page.goto(`${server.url}/books/`);
  const link = page.locator('[data-testid="book-list"] a', { hasText: text }).first();
  const href = await link.getAttribute('href');
  assert.ok(href, `no book titled like "${text}" on the list`);
  return new URL(href, server.url).toString();
}

async function click(page, selector) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

async function messages(page) {
  return page.$$eval('[data-testid="messages"] li', (els) => els.map((el) => el.textContent.trim()));
}

// The guide's matrix plus the library roles: the buttons each role sees on a published book it has
// not borrowed. Publish needs change_book and can_publish_book; Return shows only with a borrow.
const EVERYTHING = ['archive', 'borrow', 'delete', 'edit', 'feature', 'premium', 'publish'];
const ROLES = {
  viewer: [],
  editor: ['edit'],
  publisher: ['edit', 'publish'],
  admin: EVERYTHING,
  member: ['borrow'],
  librarian: ['borrow', 'edit'],
  author: [],
  root: EVERYTHING,
};

describe('bookshelf in a browser', () => {
  test('anonymous visitors see published books, no buttons, and are sent to log in', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}/books/`);
    assert.equal(await page.locator('[data-testid="add-book"]').count(), 0);
    const titles = await page.$$eval('[data-testid="book-list"] a', (els) => els.map((el) => el.textContent));
    assert.ok(titles.includes('Dune'), `published books are listed: ${titles}`);
    assert.ok(!titles.some((t) => t.startsWith('Draft')), `drafts are hidden from anonymous visitors: ${titles}`);
    await page.goto(await bookUrl(page, 'Dune'));
    assert.deepEqual(await bookActions(page), []);
    await screenshot(page, 'bookshelf-anonymous-book');

    await page.goto(`${server.url}/books/add/`);
    const url = new URL(page.url());
    assert.equal(url.pathname, '/accounts/login/');
    assert.equal(url.searchParams.get('next'), '/books/add/');
    await page.context().close();
  });

  for (const [role, expected] of Object.entries(ROLES)) {
    test(`${role} sees exactly the buttons the role allows`, async () => {
      const page = await newPage(browser);
      await logIn(page, role);
      assert.equal(await page.textContent('[data-testid="username"]'), role);
      await page.goto(await bookUrl(page, 'The Dispossessed'));
      assert.deepEqual(await bookActions(page), expected);
      await screenshot(page, `bookshelf-${role}-book`);
      const canAdd = (await page.goto(`${server.url}/books/`), await page.locator('[data-testid="add-book"]').count());
      assert.equal(canAdd > 0, ['editor', 'publisher', 'admin', 'librarian', 'root'].includes(role));
      await screenshot(page, `bookshelf-${role}-books`);
      await logOut(page);
      assert.equal(await page.locator('[data-testid="login-link"]').count(), 1, 'logged out');
      await page.context().close();
    });
  }

  test('an editor edits a book and is refused deleting it', async () => {
    const page = await newPage(browser);
    await logIn(page, 'editor');
    await page.goto(await bookUrl(page, 'Neuromancer'));
    await click(page, '[data-action="edit"]');
    await page.fill('input[name="title"]', 'Neuromancer (2nd edition)');
    await click(page, '[data-testid="book-form"] [data-action="save"]');
    assert.equal(await page.textContent('[data-testid="book-detail"] h1'), 'Neuromancer (2nd edition)');
    assert.ok((await messages(page)).length > 0, 'a message confirms the change');
    await screenshot(page, 'bookshelf-editor-edited');

    const id = await page.getAttribute('[data-testid="book-detail"]', 'data-book-id');
    const res = await page.goto(`${server.url}/books/${id}/delete/`);
    assert.equal(res.status(), 403);
    assert.match(await page.textContent('[data-testid="forbidden"]'), /bookshelf\.delete_book/);
    await screenshot(page, 'bookshelf-editor-forbidden');
    await page.context().close();
  });

  test('a publisher publishes the draft; anonymous visitors then see it', async () => {
    const page = await newPage(browser);
    await logIn(page, 'publisher');
    await page.goto(await bookUrl(page, 'Draft'));
    assert.deepEqual(await bookActions(page), ['edit', 'publish']);
    await click(page, '[data-action="publish"]');
    assert.equal(await page.locator('[data-testid="book-detail"] .badge.published').count(), 1);
    await page.context().close();

    const anonymous = await newPage(browser);
    await anonymous.goto(`${server.url}/books/`);
    const titles = await anonymous.$$eval('[data-testid="book-list"] a', (els) => els.map((el) => el.textContent));
    assert.ok(titles.some((t) => t.startsWith('Draft')), `the published draft is listed: ${titles}`);
    await anonymous.context().close();
  });

  test('a member borrows and returns a book; a viewer cannot borrow', async () => {
    const page = await newPage(browser);
    await logIn(page, 'member');
    const url = await bookUrl(page, 'Dune');
    await page.goto(url);
    const before = await page.textContent('[data-testid="copies"]');
    await click(page, '[data-action="borrow"]');
    await page.goto(url);
    const during = await page.textContent('[data-testid="copies"]');
    assert.equal(parseInt(during, 10), parseInt(before, 10) - 1, `${before} -> ${during}`);
    assert.deepEqual(await bookActions(page), ['borrow', 'return']);
    await screenshot(page, 'bookshelf-member-borrowed');
    await click(page, '[data-action="return"]');
    await page.goto(url);
    assert.equal(await page.textContent('[data-testid="copies"]'), before);
    await page.context().close();

    const viewer = await newPage(browser);
    await logIn(viewer, 'viewer');
    const id = new URL(url).pathname.split('/')[2];
    // A crafted POST without the permission: refused, and the stock is unchanged.
    const token = (await viewer.context().cookies()).find((c) => c.name === 'csrftoken')?.value;
    assert.ok(token, 'the viewer has a CSRF cookie');
    const res = await viewer.request.post(`${server.url}/books/${id}/borrow/`, {
      form: { csrfmiddlewaretoken: token },
      headers: { Referer: url },
      maxRedirects: 0,
    });
    assert.equal(res.status(), 403);
    await viewer.goto(url);
    assert.equal(await viewer.textContent('[data-testid="copies"]'), before);
    await viewer.context().close();
  });

  test('the books admin list sorts, filters, and links each book to its page on the site', async () => {
    const root = await newPage(browser);
    await logIn(root, 'root');
    await root.goto(`${server.url}/admin/bookshelf/book/`);
    // Title, descending: click the heading twice.
    await click(root, '[data-testid="sort-title"]');
    await click(root, '[data-testid="sort-title"]');
    const titles = await root.locator('[data-testid="object-table"] tbody tr td:nth-child(2) a').allTextContents();
    assert.ok(titles.length > 1);
    assert.deepEqual(titles, [...titles].sort((a, b) => b.localeCompare(a, 'en', { sensitivity: 'base' })));
    // Published only, keeping the order.
    await root.selectOption('[data-testid="filter-is_published"]', 'true');
    await click(root, '[data-testid="object-search-apply"]');
    assert.match(root.url(), /is_published=true/);
    assert.match(root.url(), /o=-title/);
    await screenshot(root, 'bookshelf-admin-books-sorted');
    // A required field left empty: the error beside the field, Django's note above, nothing saved.
    await root.goto(`${server.url}/admin/bookshelf/book/add/`);
    await root.fill('#f-author', 'Nobody');
    await click(root, '[data-testid="save"]');
    assert.match(await root.textContent('[data-testid="errors"]'), /Please correct the errors? below\./);
    assert.match(await root.textContent('[data-testid="field-error-title"]'), /This field is required\./);
    assert.equal(await root.getAttribute('#f-title', 'aria-invalid'), 'true');
    assert.equal(await root.inputValue('#f-author'), 'Nobody', 'what was typed is kept');
    await screenshot(root, 'bookshelf-admin-book-errors');
    await root.goto(`${server.url}/admin/bookshelf/book/?is_published=true&o=-title`);
    // A book's change page: "View on site" opens its page in the application.
    await click(root, '[data-testid="object-table"] tbody tr:first-child td:nth-child(2) a');
    const title = await root.inputValue('#f-title');
    await click(root, '[data-testid="view-on-site"]');
    assert.match(new URL(root.url()).pathname, /^\/books\/\d+\/$/);
    assert.equal((await root.textContent('h1')).trim(), title);
    await root.context().close();
  });

  test("in /admin/, root grants Viewers add_book and a viewer's next request has it", async () => {
    const viewer = await newPage(browser);
    await logIn(viewer, 'viewer');
    await viewer.goto(`${server.url}/books/`);
    assert.equal(await viewer.locator('[data-testid="add-book"]').count(), 0);
    assert.equal(await viewer.locator('[data-testid="nav-admin"]').count(), 0, 'no Admin link for non-staff');

    // A staff member of Admins sees the bookshelf models, not auth's users and groups.
    const admin = await newPage(browser);
    await logIn(admin, 'admin');
    await click(admin, '[data-testid="nav-admin"]');
    assert.equal(await admin.locator('[data-testid="app-bookshelf"]').count(), 1);
    assert.equal(await admin.locator('[data-testid="app-auth"]').count(), 0);
    await screenshot(admin, 'bookshelf-admin-staff-index');
    await admin.context().close();

    const root = await newPage(browser);
    await logIn(root, 'root');
    await root.goto(`${server.url}/admin/auth/group/`);
    await click(root, '[data-testid="group-row-Viewers"] a');
    await choose(root, 'permissions', 'bookshelf.add_book');
    await click(root, '[data-testid="review"]');
    assert.match(await root.textContent('[data-testid="review-add"]'), /bookshelf\.add_book/);
    await click(root, '[data-testid="save-form"] [data-testid="save-continue"]');
    assert.match(await root.textContent('[data-testid="messages"]'), /was changed successfully/);

    await viewer.reload();
    assert.equal(await viewer.locator('[data-testid="add-book"]').count(), 1, 'the grant shows on the next request');
    await screenshot(viewer, 'bookshelf-viewer-after-grant');

    // And the revocation too.
    await unchoose(root, 'permissions', 'bookshelf.add_book');
    await click(root, '[data-testid="review"]');
    assert.match(await root.textContent('[data-testid="review-remove"]'), /bookshelf\.add_book/);
    await click(root, '[data-testid="save-form"] [data-testid="save"]');
    const res = await viewer.goto(`${server.url}/books/add/`);
    assert.equal(res.status(), 403, 'the revocation shows on the next request');
    await viewer.context().close();
    await root.context().close();
  });
});
