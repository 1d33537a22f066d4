// Side by side with Django: Django 6.1's own admin (from the interop venv) over the very database
// `castellan serve` uses, both screenshotted on the same pages — index, user list, user change,
// group change — as artifacts/screenshots/side-by-side-{castellan,django}-PAGE.png.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { launch, newPage, screenshot } from './lib/browser.mjs';
import { castellan } from './lib/cli.mjs';
import { scratchDir, startServer } from './lib/server.mjs';

const PASSWORD = 'browser-test-password';
const python = process.env.CASTELLAN_DJANGO_PYTHON;
const required = process.env.CASTELLAN_REQUIRE_DJANGO === '1';
const serveScript = join(dirname(fileURLToPath(import.meta.url)), '..', 'interop', 'django_admin', 'serve.py');

let ours;
let django;
let browser;

describe('the admin side by side with Django 6.1', { skip: !python && !required && 'CASTELLAN_DJANGO_PYTHON is not set (scripts/django-venv.sh)' }, () => {
  before(async () => {
    assert.ok(python, 'CASTELLAN_REQUIRE_DJANGO=1 but CASTELLAN_DJANGO_PYTHON is not set: run scripts/django-venv.sh');
    const file = resolve(scratchDir('side-by-side'), 'db.sqlite3');
    const db = `sqlite://${file}`;
    castellan(db, ['migrate']);
    castellan(db, ['createsuperuser', '--username', 'root', '--email', 'root@example.org', '--no-input'], {
      env: { CASTELLAN_SUPERUSER_PASSWORD: PASSWORD },
    });
    castellan(db, ['user', 'create', 'staffer', '--staff', '--email', 'staffer@example.org', '--password-stdin'], { input: PASSWORD });
    castellan(db, ['user', 'create', 'carol', '--email', 'carol@example.org', '--password-stdin'], { input: PASSWORD });
    castellan(db, ['group', 'create', 'Helpdesk']);
    castellan(db, ['group', 'grant', 'Helpdesk', 'auth.view_user', 'auth.change_user', 'auth.view_group']);
    castellan(db, ['user', 'add-group', 'staffer', 'Helpdesk']);
    ours = await startServer({
      name: 'side-by-side-castellan',
      bin: process.env.CASTELLAN_BIN,
      args: ['--database-url', db, 'serve', '--insecure-dev-key'],
      readyPath: '/accounts/login/',
    });
    django = await startServer({
      name: 'side-by-side-django',
      bin: python,
      args: [serveScript],
      env: { SIDE_BY_SIDE_DB: file },
      readyPath: '/admin/login/',
    });
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await ours?.stop();
    await django?.stop();
  });

  async function logIn(page, base, loginPath) {
    await page.goto(`${base}${loginPath}?next=/admin/`);
    await page.fill('input[name="username"]', 'root');
    await page.fill('input[name="password"]', PASSWORD);
    await Promise.all([page.waitForNavigation(), page.press('input[name="password"]', 'Enter')]);
    assert.equal(new URL(page.url()).pathname, '/admin/', `logged in to ${base}`);
  }

  test('both admins show the same users and groups on the same pages', async () => {
    const mine = await newPage(browser);
    await logIn(mine, ours.url, '/accounts/login/');
    const theirs = await newPage(browser);
    await logIn(theirs, django.url, '/admin/login/');
    // Django's URLs use ids: follow its own list links to the same user and group.
    const linkIn = async (list, text) => {
      await theirs.goto(`${django.url}${list}`);
      return new URL(await theirs.locator('#result_list a', { hasText: text }).first().getAttribute('href'), django.url).pathname;
    };
    const pages = [
      ['index', '/admin/', '/admin/'],
      ['user-list', '/admin/auth/user/', '/admin/auth/user/'],
      ['user-change', '/admin/auth/user/staffer/change/', await linkIn('/admin/auth/user/', 'staffer')],
      ['group-change', '/admin/auth/group/Helpdesk/change/', await linkIn('/admin/auth/group/', 'Helpdesk')],
    ];
    for (const [name, ourPath, theirPath] of pages) {
      const a = await mine.goto(`${ours.url}${ourPath}`);
      assert.equal(a.status(), 200, `Castellan ${ourPath}`);
      await screenshot(mine, `side-by-side-castellan-${name}`);
      const b = await theirs.goto(`${django.url}${theirPath}`);
      assert.equal(b.status(), 200, `Django ${theirPath}`);
      await screenshot(theirs, `side-by-side-django-${name}`);
    }
    // The same data on both: Django lists the users Castellan made.
    await theirs.goto(`${django.url}/admin/auth/user/`);
    for (const u of ['root', 'staffer', 'carol']) {
      assert.match(await theirs.textContent('#result_list'), new RegExp(u));
    }
    await mine.context().close();
    await theirs.context().close();
  });
});
