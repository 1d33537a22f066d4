// The admin UI (`castellan serve`) in headless chromium: a staff user with limited permissions sees only
// what they may and cannot escalate; a superuser's change to a group reaches a member's next request.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { seriousViolations } from './lib/axe.mjs';
import { launch, newPage, screenshot } from './lib/browser.mjs';
import { choose, entries } from './lib/selector.mjs';
import { castellan } from './lib/cli.mjs';
import { scratchDir, startServer } from './lib/server.mjs';

const PASSWORD = 'browser-test-password';

let server;
let browser;
let db;

before(async () => {
  db = `sqlite://${scratchDir('admin')}/admin.sqlite3`;
  castellan(db, ['migrate']);
  castellan(db, ['createsuperuser', '--username', 'root', '--email', 'root@example.org', '--no-input'], {
    env: { CASTELLAN_SUPERUSER_PASSWORD: PASSWORD },
  });
  castellan(db, ['user', 'create', 'staffer', '--staff', '--password-stdin'], { input: PASSWORD });
  castellan(db, ['user', 'create', 'bob', '--password-stdin'], { input: PASSWORD });
  castellan(db, ['user', 'create', 'carol', '--email', 'carol@example.org', '--password-stdin'], { input: PASSWORD });
  castellan(db, ['group', 'create', 'Helpdesk']);
  castellan(db, ['group', 'grant', 'Helpdesk', 'auth.view_user', 'auth.change_user', 'auth.view_group']);
  castellan(db, ['user', 'add-group', 'staffer', 'Helpdesk']);
  castellan(db, ['group', 'create', 'Admins']);
  castellan(db, ['group', 'grant', 'Admins', 'auth.view_user', 'auth.change_user', 'auth.delete_user']);

  server = await startServer({
    name: 'castellan-serve',
    bin: process.env.CASTELLAN_BIN,
    args: ['--database-url', db, 'serve', '--insecure-dev-key'],
    env: { RUST_LOG: 'info' },
    readyPath: '/accounts/login/',
  });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function logIn(page, username) {
  await page.goto(`${server.url}/admin/`);
  assert.equal(new URL(page.url()).pathname, '/accounts/login/', 'anonymous visitors are sent to log in');
  await page.fill('input[name="username"]', username);
  await page.fill('input[name="password"]', PASSWORD);
  await Promise.all([page.waitForNavigation(), page.press('input[name="password"]', 'Enter')]);
  assert.equal(new URL(page.url()).pathname, '/admin/', `${username} lands on the admin index after logging in`);
}

async function click(page, selector) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

async function openUser(page, username) {
  await page.goto(`${server.url}/admin/auth/user/`);
  await click(page, `[data-testid="user-row-${username}"] a`);
  assert.equal(await page.textContent('[data-testid="user-name"]'), username);
}

/** The newest password-reset link the server's console e-mail sender printed, waiting for it. */
async function resetLink(sentBefore) {
  for (let i = 0; i < 50; i++) {
    const links = server.output().match(/http:\/\/[^\s]+\/accounts\/reset\/[^\s]+\//g) ?? [];
    if (links.length > sentBefore) return links[links.length - 1];
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no new password-reset e-mail in the server's output:\n${server.output()}`);
}

function linksSent() {
  return (server.output().match(/http:\/\/[^\s]+\/accounts\/reset\/[^\s]+\//g) ?? []).length;
}

describe('admin in a browser', () => {
  test('a staff user with limited permissions sees only what they may and cannot escalate', async () => {
    const page = await newPage(browser);
    await logIn(page, 'staffer');
    // Users and groups (view), not permissions; no "Add user" without add_user.
    assert.equal(await page.locator('[data-testid="model-auth-users"]').count(), 1);
    assert.equal(await page.locator('[data-testid="model-auth-groups"]').count(), 1);
    assert.equal(await page.locator('[data-testid="model-auth-permissions"]').count(), 0);
    await screenshot(page, 'admin-staffer-index');
    await page.goto(`${server.url}/admin/auth/user/`);
    assert.equal(await page.locator('[data-testid="add-user"]').count(), 0);

    await openUser(page, 'bob');
    // The flags are not editable, and the stronger group cannot be ticked.
    assert.ok(await page.isDisabled('#is_superuser'));
    assert.ok(await page.isDisabled('#is_staff'));
    assert.ok(await page.isDisabled('[data-testid="group-Admins"]'));
    assert.ok(!(await page.isDisabled('[data-testid="group-Helpdesk"]')));
    // The two-pane selectors show what cannot move, and why.
    const groups = await entries(page, 'groups', 'available');
    assert.ok(groups.some((g) => /^Admins .* — locked: grants permissions you do not hold$/.test(g)), groups.join(' | '));
    const perms = await entries(page, 'permissions', 'available');
    assert.ok(perms.some((p) => /^auth\.delete_user .* — locked: you do not hold it, so you cannot grant it$/.test(p)), perms.join(' | '));
    assert.ok(perms.some((p) => /^auth\.view_user · Can view user$/.test(p)), 'held permissions are movable');
    await screenshot(page, 'admin-staffer-user');

    // Crafted POSTs that escalate are refused, and change nothing.
    const action = new URL(await page.getAttribute('[data-testid="user-change-form"]', 'action'), page.url());
    const version = await page.inputValue('[data-testid="user-change-form"] input[name="version"]');
    const csrf = await page.inputValue('[data-testid="user-change-form"] input[name="csrfmiddlewaretoken"]');
    const crafted = [
      { shown_flag: ['is_staff', 'is_superuser'], is_superuser: 'on', is_staff: 'on' },
      { shown_group: ['Admins'], group: 'Admins' },
      { shown_perm: ['auth.delete_user'], perm: 'auth.delete_user' },
    ];
    for (const fields of crafted) {
      const form = new URLSearchParams({ csrfmiddlewaretoken: csrf, version, email: '', first_name: '', last_name: '' });
      for (const [k, v] of Object.entries(fields)) {
        for (const one of [v].flat()) form.append(k, one);
      }
      const res = await page.request.post(action.toString(), {
        data: form.toString(),
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Referer: page.url() },
        maxRedirects: 0,
      });
      assert.ok([400, 403].includes(res.status()), `crafted ${JSON.stringify(fields)} answered ${res.status()}`);
    }
    await openUser(page, 'bob');
    assert.ok(!(await page.isChecked('#is_superuser')), 'bob is still not a superuser');
    assert.ok(!(await page.isChecked('#is_staff')), 'bob is still not staff');
    assert.ok(!(await page.isChecked('[data-testid="group-Admins"]')), 'bob is still not in Admins');
    assert.equal(await page.locator('[data-testid="effective-auth.delete_user"]').count(), 0);

    // Their own groups and flags are read-only.
    await openUser(page, 'staffer');
    assert.ok(await page.isDisabled('[data-testid="group-Helpdesk"]'));
    assert.equal(await page.locator('[data-testid="save"], [data-testid="save-continue"]').count(), 0);

    // Pages outside their permissions answer 403.
    const res = await page.goto(`${server.url}/admin/auth/permission/`);
    assert.equal(res.status(), 403);
    await page.context().close();
  });

  test("a superuser adds a permission to a group and a member's next request has it", async () => {
    const staffer = await newPage(browser);
    await logIn(staffer, 'staffer');
    await staffer.goto(`${server.url}/admin/auth/user/`);
    assert.equal(await staffer.locator('[data-testid="add-user"]').count(), 0);

    const root = await newPage(browser);
    await logIn(root, 'root');
    await root.goto(`${server.url}/admin/auth/group/`);
    await click(root, '[data-testid="group-row-Helpdesk"] a');
    await choose(root, 'permissions', 'auth.add_user');
    await click(root, '[data-testid="review"]');
    assert.match(await root.textContent('[data-testid="review-add"]'), /auth\.add_user/);
    assert.match(await root.textContent('[data-testid="review-remove"]'), /Nothing/);
    await screenshot(root, 'admin-root-group-review');
    await click(root, '[data-testid="save-form"] [data-testid="save-continue"]');
    assert.match(await root.textContent('[data-testid="messages"]'), /The group “Helpdesk” was changed successfully\. You may edit it again below\./);
    assert.match(await root.textContent('[data-testid="current-permissions"]'), /auth\.add_user/);

    // The member's very next request sees the new permission: no restart, no re-login.
    await staffer.reload();
    assert.equal(await staffer.locator('[data-testid="add-user"]').count(), 1);
    await screenshot(staffer, 'admin-staffer-after-grant');

    // The audit page shows who did it.
    await root.goto(`${server.url}/admin/audit/`);
    assert.match(await root.textContent('[data-testid="audit-table"]'), /root/);
    // Filtered by who and what: only root's grants, each as readable changes.
    await root.fill('#actor', 'root');
    await root.fill('#action', 'group.grant');
    await click(root, '[data-testid="filter"]');
    const rows = await root.locator('[data-testid="audit-table"] tbody tr').allTextContents();
    assert.ok(rows.length >= 1 && rows.every((r) => /group\.grant/.test(r) && /root/.test(r)), rows.join(' | '));
    assert.match(rows[0], /permissions:\s*auth\.add_user/);
    await screenshot(root, 'admin-root-audit');

    // The matrix page: the CLI's table (sticky headers, legend, ✓/✗), filtered client-side.
    await root.goto(`${server.url}/admin/matrix/?app=auth`);
    assert.equal(await root.locator('[data-testid="matrix"] td.y').count() > 0, true);
    await root.fill('#filter', 'view_user');
    assert.equal(await root.locator('tr.perms th:not(.hidden)').count(), 1);
    await screenshot(root, 'admin-root-matrix');
    await staffer.context().close();
    await root.context().close();
  });

  test("Django's flows: messages, the three save buttons, breadcrumbs, recent actions, history", async () => {
    const root = await newPage(browser);
    await logIn(root, 'root');
    // The header links to the password-change page.
    assert.equal(await root.getAttribute('[data-testid="nav-change-password"]', 'href'), '/accounts/password_change/');

    // Add a user with "Save and add another", then one with "Save" (which goes on to the user).
    await root.goto(`${server.url}/admin/auth/user/add/`);
    await root.fill('#username', 'dora');
    await root.check('#unusable_password');
    await click(root, '[data-testid="save-add-another"]');
    assert.equal(new URL(root.url()).pathname, '/admin/auth/user/add/');
    assert.match(await root.textContent('[data-testid="messages"]'), /The user “dora” was added successfully\. You may add another user below\./);
    assert.equal(await root.inputValue('#username'), '', 'the next add form is empty');
    await screenshot(root, 'admin-user-add-another');

    // Change her name with "Save and continue editing": same page, message, breadcrumbs.
    await openUser(root, 'dora');
    await root.fill('#first_name', 'Dora');
    // A permission picked in the selector, after filtering (nothing typed is lost), and a group.
    await choose(root, 'permissions', 'auth.view_group');
    await choose(root, 'groups', 'Helpdesk');
    assert.equal(await root.inputValue('#first_name'), 'Dora', 'filtering keeps what was typed');
    await screenshot(root, 'admin-user-selector');
    await click(root, '[data-testid="save-continue"]');
    assert.match(await root.textContent('[data-testid="effective-auth.view_group"]'), /direct/);
    assert.match(await root.textContent('[data-testid="effective-auth.change_user"]'), /via group Helpdesk/);
    assert.equal(new URL(root.url()).pathname, '/admin/auth/user/dora/change/');
    assert.match(await root.textContent('[data-testid="messages"]'), /The user “dora” was changed successfully\. You may edit it again below\./);
    assert.equal(await root.inputValue('#first_name'), 'Dora');
    assert.match(await root.textContent('[data-testid="breadcrumbs"]'), /Home\s*›?\s*Authentication and Authorization\s*›?\s*Users\s*›?\s*dora/);
    assert.match(await root.getAttribute('[data-testid="user-dates"] time', 'title'), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    await screenshot(root, 'admin-user-saved-continue');

    // "Save" goes back to the list, with the message.
    await root.fill('#last_name', 'Explorer');
    await click(root, '[data-testid="save"]');
    assert.equal(new URL(root.url()).pathname, '/admin/auth/user/');
    assert.match(await root.textContent('[data-testid="messages"]'), /The user “dora” was changed successfully\./);
    // The message is shown once.
    await root.reload();
    assert.equal(await root.locator('[data-testid="messages"]').count(), 0);

    // Her History page shows each change as old → new.
    await openUser(root, 'dora');
    await click(root, '[data-testid="history"]');
    assert.equal(new URL(root.url()).pathname, '/admin/auth/user/dora/history/');
    const history = await root.textContent('[data-testid="history-table"]');
    assert.match(history, /last_name: \(empty\) → Explorer/);
    assert.match(history, /first_name: \(empty\) → Dora/);
    await screenshot(root, 'admin-user-history');

    // Recent actions on the index: root's own, newest first, linked.
    await click(root, '[data-testid="breadcrumbs"] a:has-text("Home")');
    const recent = root.locator('[data-testid="recent-actions"] li');
    assert.ok((await recent.count()) >= 3);
    assert.match(await recent.first().textContent(), /dora/);
    await click(root, '[data-testid="recent-actions"] li a >> nth=0');
    assert.equal(new URL(root.url()).pathname, '/admin/auth/user/dora/change/');

    // Delete from the change page: confirmation, then the message on the list.
    await click(root, '[data-testid="delete-user"]');
    await click(root, '[data-testid="confirm-delete"]');
    assert.match(await root.textContent('[data-testid="messages"]'), /The user “dora” was deleted successfully\./);
    await root.goto(`${server.url}/admin/`);
    await screenshot(root, 'admin-index-recent-actions');
    await root.context().close();
  });

  test('the user list sorts by a column and runs bulk actions, with a confirmation before deleting', async () => {
    castellan(db, ['user', 'create', 'erin', '--password-stdin'], { input: PASSWORD });
    castellan(db, ['user', 'create', 'finn', '--password-stdin'], { input: PASSWORD });
    const root = await newPage(browser);
    await logIn(root, 'root');
    await root.goto(`${server.url}/admin/auth/user/`);
    // Sort by username, descending: the second click on the heading flips the order.
    await click(root, '[data-testid="sort-username"]');
    await click(root, '[data-testid="sort-username"]');
    assert.equal(await root.getAttribute('th[aria-sort]', 'aria-sort'), 'descending');
    const names = await root.locator('[data-testid="user-table"] tbody tr td:nth-child(2)').allTextContents();
    assert.deepEqual(names, [...names].sort().reverse());
    // Deactivate two users in one action.
    await root.check('[data-testid="select-erin"]');
    await root.check('[data-testid="select-finn"]');
    await root.selectOption('[data-testid="action"]', 'deactivate');
    await click(root, '[data-testid="run-action"]');
    assert.match(await root.textContent('[data-testid="messages"]'), /Successfully deactivated 2 users\./);
    await screenshot(root, 'admin-user-list-actions');
    // Delete them: the confirmation page lists what goes; "Yes, I'm sure" deletes.
    await root.check('[data-testid="select-erin"]');
    await root.check('[data-testid="select-finn"]');
    await root.selectOption('[data-testid="action"]', 'delete_selected');
    await click(root, '[data-testid="run-action"]');
    assert.match(await root.textContent('[data-testid="delete-list"]'), /erin[\s\S]*finn/);
    await screenshot(root, 'admin-user-delete-selected');
    await click(root, '[data-testid="confirm-delete"]');
    assert.match(await root.textContent('[data-testid="messages"]'), /Successfully deleted 2 users\./);
    assert.equal(await root.locator('[data-testid="user-row-erin"]').count(), 0);
    await root.context().close();
  });

  test('every admin page passes axe-core with no serious or critical violation', async () => {
    const problems = [];
    const check = async (page, name) => {
      for (const v of await seriousViolations(page, name)) problems.push(`${name} ${page.url()}: ${v}`);
    };
    const anonymous = await newPage(browser);
    await anonymous.goto(`${server.url}/accounts/login/`);
    await check(anonymous, 'login');
    await anonymous.context().close();

    const root = await newPage(browser);
    await logIn(root, 'root');
    const pages = [
      ['index', '/admin/'],
      ['user-list', '/admin/auth/user/'],
      ['user-add', '/admin/auth/user/add/'],
      ['user-change', '/admin/auth/user/staffer/change/'],
      ['user-password', '/admin/auth/user/staffer/password/'],
      ['user-history', '/admin/auth/user/staffer/history/'],
      ['user-delete', '/admin/auth/user/bob/delete/'],
      ['group-list', '/admin/auth/group/'],
      ['group-add', '/admin/auth/group/add/'],
      ['group-change', '/admin/auth/group/Helpdesk/change/'],
      ['group-history', '/admin/auth/group/Helpdesk/history/'],
      ['group-delete', '/admin/auth/group/Admins/delete/'],
      ['permission-list', '/admin/auth/permission/'],
      ['permission-add', '/admin/auth/permission/add/'],
      ['matrix', '/admin/matrix/?app=auth'],
      ['audit', '/admin/audit/'],
      ['password-change', '/accounts/password_change/'],
      ['not-found', '/admin/auth/user/nobody/change/'],
    ];
    for (const [name, path] of pages) {
      await root.goto(`${server.url}${path}`);
      await check(root, name);
    }
    // Readable on a phone: at 375 px nothing makes the page scroll sideways (wide tables scroll
    // inside their own box).
    const narrow = await root.context().newPage();
    await narrow.setViewportSize({ width: 375, height: 800 });
    const overflowing = [];
    for (const [name, path] of pages) {
      await narrow.goto(`${server.url}${path}`);
      const width = await narrow.evaluate(() => document.documentElement.scrollWidth);
      if (width > 375) overflowing.push(`${name}: ${width}px`);
      if (['index', 'user-list', 'user-change', 'group-change', 'audit', 'matrix'].includes(name)) {
        await screenshot(narrow, `admin-375-${name}`);
      }
    }
    assert.deepEqual(overflowing, [], `pages wider than 375 px: ${overflowing.join(', ')}`);
    // The group review step and the bulk-delete confirmation.
    await root.goto(`${server.url}/admin/auth/group/Helpdesk/change/`);
    await choose(root, 'permissions', 'auth.add_group');
    await click(root, '[data-testid="review"]');
    await check(root, 'group-review');
    await root.goto(`${server.url}/admin/auth/user/`);
    await root.check('[data-testid="select-bob"]');
    await root.selectOption('[data-testid="action"]', 'delete_selected');
    await click(root, '[data-testid="run-action"]');
    await check(root, 'user-delete-selected');
    await root.context().close();

    // A staff user's refusal page.
    const staffer = await newPage(browser);
    await logIn(staffer, 'staffer');
    await staffer.goto(`${server.url}/admin/auth/permission/`);
    await check(staffer, 'forbidden');
    await staffer.context().close();
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  test('a forgotten password is reset through the e-mailed link; the admin can send the link', async () => {
    // The admin's action on the user page.
    const admin = await newPage(browser);
    await logIn(admin, 'root');
    await openUser(admin, 'carol');
    const before = linksSent();
    await click(admin, '[data-testid="send-password-reset"]');
    assert.match(await admin.textContent('[data-testid="reset-sent"]'), /carol@example\.org/);
    await screenshot(admin, 'admin-password-reset-sent');
    assert.ok((await resetLink(before)).startsWith(server.url));

    // The visitor's own request, then the link.
    const page = await newPage(browser);
    await page.goto(`${server.url}/accounts/password_reset/`);
    await screenshot(page, 'password-reset-form');
    const sent = linksSent();
    await page.fill('#id_email', 'CAROL@example.org');
    await Promise.all([page.waitForNavigation(), page.press('#id_email', 'Enter')]);
    assert.equal(new URL(page.url()).pathname, '/accounts/password_reset/done/');
    await screenshot(page, 'password-reset-done');
    const link = await resetLink(sent);
    await page.goto(link);
    assert.match(new URL(page.url()).pathname, /\/accounts\/reset\/[^/]+\/set-password\/$/, 'the token moves into the session');
    await screenshot(page, 'password-reset-confirm');
    const fresh = 'a brand-new passphrase 42';
    await page.fill('#id_new_password1', fresh);
    await page.fill('#id_new_password2', fresh);
    await Promise.all([page.waitForNavigation(), page.press('#id_new_password2', 'Enter')]);
    assert.equal(new URL(page.url()).pathname, '/accounts/reset/done/');
    await screenshot(page, 'password-reset-complete');

    // The link is spent; the new password logs in.
    await page.goto(link);
    assert.equal(await page.locator('#id_new_password1').count(), 0, 'a used link shows no form');
    await page.goto(`${server.url}/accounts/login/`);
    await page.fill('input[name="username"]', 'carol');
    await page.fill('input[name="password"]', fresh);
    await Promise.all([page.waitForNavigation(), page.press('input[name="password"]', 'Enter')]);
    assert.equal(new URL(page.url()).pathname, '/admin/', 'the new password logs in, and a login lands on the admin');
  });
});
