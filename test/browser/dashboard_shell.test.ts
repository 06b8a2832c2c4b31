import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  browserUnavailable,
  launchBrowser,
  type LiveServer,
  screenshot,
  signIn,
  startLiveServer,
} from '../helpers/browser.js';

const skip = browserUnavailable();

describe('dashboard: signing in', { skip }, () => {
  let server: LiveServer;
  let browser: Browser;
  before(async () => {
    server = await startLiveServer({ workers: false });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('a wrong key is refused beside the field; the right one opens the dashboard', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/dashboard/`);
    await page.getByLabel('Secret key').fill(`sk_${'A'.repeat(43)}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const fieldError = page.locator('[data-field="key"] .field-error');
    await fieldError.waitFor();
    assert.match(await fieldError.innerText(), /not known/);
    await screenshot(page, 'dashboard-sign-in-error');

    await signIn(page, server.url, server.key);
    assert.equal(await page.getByRole('link', { name: 'Overview' }).getAttribute('aria-current'), 'page');
    // The key is never put in the URL.
    assert.ok(!page.url().includes(server.key));
    await page.close();
  });

  test('a deep link reloads into its page, and signing out forgets the key', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, server.url, server.key);
    await page.goto(`${server.url}/dashboard/promotions`);
    await page.getByRole('heading', { name: 'Promotions', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Secret key').waitFor();
    assert.equal(await page.evaluate('sessionStorage.length'), 0);
    await context.close();
  });

  test('assets are served with a content security policy; unknown paths fall back to the app', async () => {
    const res = await fetch(`${server.url}/dashboard/no/such/page`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.match(await res.text(), /<div id="root"><\/div>/);
    const bare = await fetch(`${server.url}/dashboard`, { redirect: 'manual' });
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.get('location'), '/dashboard/');
  });
});
