import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  browserUnavailable,
  launchBrowser,
  type LiveServer,
  screenshot,
  signIn,
  startLiveServer,
} from '../helpers/browser.js';
import { type Receiver, startReceiver } from '../webhooks/receiver.js';

/**
 * The operator's day-to-day pages, end to end on a real server with its workers: the Customers page
 * (search, balances, grants and reversals by hand, payouts approved), the Promotions page (a promotion
 * made in a form, 2,000 codes generated with a progress bar, a redemption voided) and the Integrations
 * page (a webhook endpoint whose deliveries show up and replay, Stripe's status).
 */

// The webhook receiver listens on loopback, which the operator allows explicitly.
process.env.PERKS_WEBHOOKS_ALLOW_PRIVATE = 'loopback';

const skip = browserUnavailable();

describe('dashboard: customers, promotions and integrations', { skip }, () => {
  let server: LiveServer;
  let browser: Browser;
  let page: Page;
  let receiver: Receiver;

  async function call<T = any>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${server.key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as T };
  }
  async function ok<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await call<T>(method, path, body);
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  before(async () => {
    server = await startLiveServer({ workers: true });
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    page = await context.newPage();
    receiver = await startReceiver({ host: '127.0.0.1' });
    await signIn(page, server.url, server.key);

    // A commission program's result, made through the API: an asset, a customer with commission,
    // and a withdrawal waiting for a decision.
    await ok('POST', '/v1/assets', {
      key: 'usd_commission',
      kind: 'money',
      currency: 'usd',
      purpose: 'commission',
      payout_minimum: 2000,
    });
    await ok('POST', '/v1/assets', {
      key: 'bonus_minutes',
      kind: 'units',
      unit: 'minutes',
      purpose: 'credit',
    });
    await ok('POST', '/v1/customers', {
      external_id: 'acme_team',
      email: 'owner@acme.example',
      name: 'Acme',
    });
    await ok('POST', '/v1/customers', { external_id: 'globex', email: 'it@globex.example' });
    await ok('POST', '/v1/customers/acme_team/grants', {
      asset: 'usd_commission',
      amount: 5000,
      reason: '10% of a signed contract',
      reference: 'contract_1:commission',
      source: { type: 'program', id: 'prog_commission' },
    });
    await ok('POST', '/v1/customers/acme_team/grants', {
      asset: 'bonus_minutes',
      amount: 90,
      reason: 'bonus minutes for a referral',
      reference: 'ref_1:minutes',
      expires: { type: 'after', duration: 'P30D' },
      source: { type: 'referral', id: 'ref_1' },
    });
    await ok('POST', '/v1/payouts', {
      customer: 'acme_team',
      asset: 'usd_commission',
      amount: 2500,
      currency: 'usd',
      destination: 'paypal:owner@acme.example',
    });
  });
  after(async () => {
    await browser?.close();
    await receiver?.close();
    await server?.stop();
  });

  const go = (path: string) => page.goto(`${server.url}/dashboard${path}`);

  test('a pending payout is approved from the Customers page and shows as paid', async () => {
    await go('/customers?tab=payouts');
    const row = page.locator('tr', { hasText: 'paypal:owner@acme.example' });
    await row.waitFor();
    assert.match(await row.innerText(), /\$25\.00/);
    assert.match(await row.innerText(), /pending/);
    await screenshot(page, 'dashboard-payouts-pending');

    // Approving without saying who is refused beside the "Acting as" field, and nothing is sent.
    await page.getByLabel('Acting as').fill('');
    await row.getByRole('button', { name: 'Approve' }).click();
    const actorError = page.locator('[data-field="approved_by"] .field-error');
    await actorError.waitFor();
    assert.match(await actorError.innerText(), /who you are/);
    assert.equal((await ok('GET', '/v1/payouts?status=pending')).data.length, 1);

    await page.getByLabel('Acting as').fill('finance@perks.example');
    await row.getByRole('button', { name: 'Approve' }).click();
    await page.getByText(/is now paid/).waitFor();
    await page.getByLabel('Payout status').selectOption('');
    const paid = page.locator('tr', { hasText: 'paypal:owner@acme.example' });
    await paid.locator('.badge', { hasText: 'paid' }).waitFor();
    assert.match(await paid.innerText(), /by finance@perks\.example/);
    const payouts = await ok('GET', '/v1/payouts');
    assert.equal(payouts.data[0].status, 'paid');
    assert.equal(payouts.data[0].decided_by, 'finance@perks.example');
    await screenshot(page, 'dashboard-payouts-approved');
  });

  test('a customer is found by the start of its e-mail; grants and reversals by hand, with errors beside the fields', async () => {
    await go('/customers');
    await page.getByLabel('Search customers').fill('OWNER@acme');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/q=OWNER%40acme/);
    await page.locator('tbody tr', { hasText: 'globex' }).waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'acme_team' }).waitFor();
    assert.equal(await page.locator('tbody tr').count(), 1, 'globex does not match');
    await screenshot(page, 'dashboard-customers-search');
    await page.getByRole('link', { name: 'acme_team' }).click();

    await page.getByRole('heading', { name: 'acme_team', level: 1 }).waitFor();
    const commission = page.locator('[data-asset="usd_commission"]');
    await commission.waitFor();
    assert.match(await commission.innerText(), /\$25\.00/, 'what is left after the paid payout');
    const minutes = page.locator('[data-asset="bonus_minutes"]');
    assert.match(await minutes.innerText(), /90 minutes expires/);

    // A grant with no reason: the API's typed error appears beside the Reason field.
    const grantForm = page.locator('form[aria-labelledby="grant-title"]');
    await grantForm.locator('select[name="asset"]').selectOption('bonus_minutes');
    await grantForm.getByLabel('Amount').fill('30');
    await grantForm.getByRole('button', { name: 'Grant', exact: true }).click();
    const reasonError = grantForm.locator('[data-field="reason"] .field-error');
    await reasonError.waitFor();
    assert.match(await reasonError.innerText(), /must not be empty/);
    await screenshot(page, 'dashboard-customer-grant-error');
    // A fractional number of minutes is caught before sending, beside the Amount field.
    await grantForm.getByLabel('Amount').fill('2.5');
    await grantForm.getByLabel('Reason').fill('goodwill after an outage');
    await grantForm.getByRole('button', { name: 'Grant', exact: true }).click();
    await grantForm.locator('[data-field="amount"] .field-error', { hasText: 'whole number' }).waitFor();

    await grantForm.getByLabel('Amount').fill('30');
    await grantForm.getByRole('button', { name: 'Grant', exact: true }).click();
    await page.getByText(/Granted 30 minutes/).waitFor();
    await page.locator('[data-asset="bonus_minutes"]', { hasText: '120 minutes' }).waitFor();
    const grantRow = page.locator('section[aria-labelledby="grants-title"] tr', {
      hasText: 'goodwill after an outage',
    });
    await grantRow.waitFor();
    assert.match(await grantRow.innerText(), /by hand \(finance@perks\.example\)/);

    // Reverse it, with a reason.
    await grantRow.getByRole('button', { name: /Reverse grant/ }).click();
    const reverse = page.locator('form[aria-label^="Reverse grant"]');
    await reverse.getByRole('button', { name: 'Reverse grant' }).click();
    await reverse.locator('[data-field="reason"] .field-error').waitFor();
    await reverse.getByLabel('Reason').fill('granted to the wrong team');
    await reverse.getByRole('button', { name: 'Reverse grant' }).click();
    await grantRow.locator('.badge', { hasText: 'reversed' }).waitFor();
    await page.locator('[data-asset="bonus_minutes"]', { hasText: '90 minutes' }).waitFor();
    const statement = page.locator('section[aria-labelledby="statement-title"]');
    await statement.getByText('Reversal').first().waitFor();
    const grants = await ok('GET', '/v1/customers/acme_team/grants?asset=bonus_minutes');
    assert.deepEqual(
      grants.data.map((g: { amount: number; reversed: boolean }) => [g.amount, g.reversed]),
      [
        [30, true],
        [90, false],
      ],
    );
    await screenshot(page, 'dashboard-customer');
  });

  test('a promotion is made in the form; 2,000 codes are generated with a progress bar; a redemption is voided', async () => {
    await go('/promotions');
    await page.getByRole('button', { name: 'New promotion' }).click();
    await page.getByLabel('Name').fill('Spring launch');
    await page.getByLabel('Percent off').fill('150');
    await page.getByRole('button', { name: 'Create promotion' }).click();
    // Checked in the form, in percent as typed, not in the API's basis points.
    const percentError = page.locator('[data-field="percent_off_bps"] .field-error');
    await percentError.waitFor();
    assert.equal(await percentError.innerText(), 'must be at most 100%');
    await screenshot(page, 'dashboard-promotion-form-error');
    // An expiry day before the start day is named by the dates typed, not as an instant in UTC.
    await page.getByLabel('Percent off').fill('20');
    await page.getByLabel('Starts').fill('2027-02-01');
    await page.getByLabel('Expires').fill('2027-01-01');
    await page.getByLabel('Time zone').fill('Europe/Berlin');
    await page.getByRole('button', { name: 'Create promotion' }).click();
    const expiresError = page.locator('[data-field="expires_at"] .field-error');
    await expiresError.waitFor();
    assert.equal(await expiresError.innerText(), 'must be on or after the start date (2027-02-01)');
    assert.equal(await percentError.count(), 0);
    // What only the API can tell is still shown beside its field.
    await page.getByLabel('Starts').fill('');
    await page.getByLabel('Expires').fill('');
    await page.getByLabel('Time zone').fill('Europe/Atlantis');
    await page.getByRole('button', { name: 'Create promotion' }).click();
    await page.locator('[data-field="time_zone"] .field-error').waitFor();
    assert.equal((await ok('GET', '/v1/promotions')).data.length, 0, 'a refused form writes nothing');

    await page.getByLabel('Time zone').fill('UTC');
    await page.getByLabel('Duration').selectOption('repeating');
    await page.getByLabel('Billing periods').fill('3');
    await page.getByLabel('Max redemptions').fill('5000');
    await page.getByRole('button', { name: 'Create promotion' }).click();
    await page.getByRole('heading', { name: 'Spring launch', level: 1 }).waitFor();
    const [promotion] = (await ok('GET', '/v1/promotions')).data;
    assert.equal(promotion.percent_off_bps, 2000);
    assert.equal(promotion.duration_periods, 3);

    await page.getByLabel('How many').fill('2000');
    await page.getByLabel('Prefix').fill('SPRING-');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const progress = page.locator('.batch-progress');
    await progress.waitFor();
    await screenshot(page, 'dashboard-promotion-generating');
    await page.locator('.batch-progress[data-status="succeeded"]').waitFor({ timeout: 60_000 });
    const bar = progress.locator('progress');
    assert.equal(await bar.getAttribute('value'), '2000');
    assert.equal(await bar.getAttribute('max'), '2000');
    assert.match(await progress.innerText(), /2,000 \/ 2,000 codes \(100%\)/);
    const codes = await ok('GET', `/v1/promotion_codes?promotion=${promotion.id}&limit=100`);
    assert.equal(codes.data.length, 100);
    assert.match(codes.data[0].code, /^SPRING[A-Z2-9]{12}$/);

    // Every column of the batches, one with the longest prefix (20 characters) among them, is
    // readable in a 1280 px window.
    await ok('POST', `/v1/promotions/${promotion.id}/codes/generate`, {
      count: 10,
      prefix: 'SPRING-EARLY-BIRD-VIP-26',
    });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.reload();
    const batches = page.locator('section[aria-labelledby="batches-title"] .table-wrap');
    await batches.locator('tbody tr', { hasText: 'SPRINGEARLYBIRDVIP26' }).waitFor();
    const fit = await batches.evaluate((wrap) => ({ table: wrap.scrollWidth, wrap: wrap.clientWidth }));
    assert.ok(fit.table <= fit.wrap, `the batches table is ${fit.table} px wide in ${fit.wrap} px`);
    await screenshot(page, 'dashboard-promotion-batches-1280');
    await page.setViewportSize({ width: 1360, height: 900 });

    // A code is redeemed through the API; the operator voids the redemption on the page.
    const code = codes.data[0].code as string;
    const redemption = await ok('POST', '/v1/promotion_codes/redeem', { code, customer: 'acme_team' });
    await page.getByLabel('Find a code').fill(code.toLowerCase().replace('spring', 'spring-'));
    await page.getByRole('button', { name: 'Find' }).click();
    const codeRows = page.locator('section[aria-labelledby="codes-title"] tbody tr');
    await codeRows.filter({ hasNotText: code }).first().waitFor({ state: 'detached' });
    const codeRow = codeRows.filter({ hasText: code });
    await codeRow.waitFor();
    assert.match(await codeRow.innerText(), /1 \/ 1/, 'the code shows its one use');
    await page.reload();
    const redRow = page.locator(`[data-redemption-status="${redemption.id}"]`);
    await redRow.waitFor();
    assert.match(await redRow.innerText(), /active/);
    // The customer is shown by the external id the product knows it by, as on the referral pages.
    const redemptions = page.locator('section[aria-labelledby="redemptions-title"]');
    await redemptions.locator('tbody tr').getByRole('link', { name: 'acme_team' }).waitFor();
    assert.doesNotMatch(await redemptions.locator('tbody').innerText(), /cus_/);
    await page.getByTestId('promotion-redeemed').filter({ hasText: '1 / 5,000' }).waitFor();
    assert.match(await page.getByTestId('promotion-valid').innerText(), /from creation\s+no end/);
    await screenshot(page, 'dashboard-promotion');
    await page.getByRole('button', { name: `Void redemption ${redemption.id}` }).click();
    await page.getByRole('button', { name: 'Void it' }).click();
    await redRow.locator('.badge', { hasText: 'voided' }).waitFor();
    await page.getByTestId('promotion-redeemed').filter({ hasText: '0 / 5,000' }).waitFor();
    const after = await ok('GET', `/v1/redemptions/${redemption.id}`);
    assert.equal(after.status, 'voided');
  });

  test("a promotion's dates show in its own time zone, where a date without a time was read", async () => {
    const promo = await ok('POST', '/v1/promotions', {
      name: 'New York year end',
      percent_off_bps: 1000,
      starts_at: '2026-12-01',
      expires_at: '2026-12-31',
      time_zone: 'America/New_York',
    });
    await go(`/promotions/${promo.id}`);
    const valid = page.getByTestId('promotion-valid');
    await valid.waitFor();
    // 2026-12-31 ends at midnight New York time, 05:00 UTC.
    assert.match(await valid.innerText(), /from 2026-12-01 00:00\s+until 2027-01-01 00:00/);
    assert.match(await page.locator('.stat', { has: valid }).innerText(), /\(ends 2027-01-01 05:00 UTC\)/);
    await go('/promotions');
    const row = page.locator('tr', { hasText: 'New York year end' });
    await row.waitFor();
    assert.match(await row.innerText(), /2026-12-01 00:00 → 2027-01-01 00:00 America\/New_York/);
  });

  test('an expired promotion and one not yet active say so in the list and on their page', async () => {
    // Dates far from today, so that the states hold whenever the test runs.
    const expired = await ok('POST', '/v1/promotions', {
      name: 'Autumn 2020',
      percent_off_bps: 1500,
      expires_at: '2020-08-31',
      time_zone: 'America/New_York',
    });
    const later = await ok('POST', '/v1/promotions', {
      name: 'Spring 2099',
      percent_off_bps: 1000,
      starts_at: '2099-03-01',
      time_zone: 'Europe/Berlin',
    });
    await ok('POST', '/v1/promotions', {
      name: 'Open until 2099',
      percent_off_bps: 500,
      starts_at: '2020-01-01',
      expires_at: '2099-12-31',
    });
    await go('/promotions');
    const expiredRow = page.locator('tr', { hasText: 'Autumn 2020' });
    await expiredRow.waitFor();
    // Without a start the list says "from creation", as the promotion's page does.
    assert.match(
      await expiredRow.innerText(),
      /from creation → 2020-09-01 00:00 America\/New_York\s+expired/,
    );
    const laterRow = page.locator('tr', { hasText: 'Spring 2099' });
    assert.match(await laterRow.innerText(), /2099-03-01 00:00 → no end Europe\/Berlin\s+not yet active/);
    const openRow = page.locator('tr', { hasText: 'Open until 2099' });
    assert.equal(await openRow.locator('[data-promotion-state]').count(), 0, 'an open window has no badge');
    await screenshot(page, 'dashboard-promotions');

    await go(`/promotions/${expired.id}`);
    await page.locator('[data-promotion-state="expired"]').waitFor();
    assert.match(
      await page.getByTestId('promotion-valid').innerText(),
      /from creation\s+until 2020-09-01 00:00/,
    );
    await go(`/promotions/${later.id}`);
    await page.locator('[data-promotion-state="not yet active"]').waitFor();
  });

  test('a webhook endpoint is made in the page, its secret shown once; its deliveries arrive and replay', async () => {
    await go('/integrations');
    await page.getByRole('heading', { name: 'Stripe', exact: true }).waitFor();
    assert.match(await page.locator('[data-stripe="inbound"]').innerText(), /not connected/);

    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const form = page.locator('form[aria-label="New webhook endpoint"]');
    await form.getByLabel('URL').fill('ftp://files.example/hooks');
    await form.getByRole('button', { name: 'Add endpoint' }).click();
    const urlError = form.locator('[data-field="url"] .field-error');
    await urlError.waitFor();
    await screenshot(page, 'dashboard-endpoint-error');
    await form.getByLabel('URL').fill(`${receiver.url}/perks`);
    await form.getByLabel('All event types').uncheck();
    await form.getByText('promotion_code.redeemed').click();
    await form.getByLabel('Description').fill('billing service');
    await form.getByRole('button', { name: 'Add endpoint' }).click();
    const secret = await page.getByTestId('endpoint-secret').innerText();
    assert.match(secret, /^whsec_/);
    receiver.secrets.push(secret);
    await screenshot(page, 'dashboard-integrations');
    await page.getByRole('button', { name: 'I stored it' }).click();
    assert.equal(await page.getByTestId('endpoint-secret').count(), 0, 'the secret is not shown again');

    // An event the endpoint listens to: a promotion code redeemed.
    const promo = await ok('POST', '/v1/promotions', {
      name: 'Webhook test',
      amount_off: 500,
      currency: 'usd',
    });
    await ok('POST', '/v1/promotion_codes', { promotion: promo.id, code: 'HOOK-5' });
    await ok('POST', '/v1/promotion_codes/redeem', { code: 'hook5', customer: 'globex' });
    await page.getByRole('link', { name: `${receiver.url}/perks` }).click();
    await page.getByRole('heading', { name: 'Deliveries' }).waitFor();
    const delivered = page.locator('[data-delivery-status]', { hasText: 'succeeded' });
    for (let i = 0; i < 40 && (await delivered.count()) === 0; i++) {
      await page.getByRole('button', { name: 'Refresh' }).click();
      await page.waitForTimeout(250);
    }
    await delivered.first().waitFor();
    assert.equal(receiver.received.length, 1);
    assert.deepEqual(receiver.received[0]!.verifiedWith, [0], 'signed with the secret the page showed');
    assert.match(
      await page.locator('tbody tr').first().innerText(),
      /promotion_code\.redeemed[\s\S]*HTTP 200/,
    );

    await page
      .getByRole('button', { name: /^Replay delivery/ })
      .first()
      .click();
    await page.getByText(/Queued whd_\w+, a replay of/).waitFor();
    for (let i = 0; i < 40 && receiver.received.length < 2; i++) await page.waitForTimeout(250);
    assert.equal(receiver.received.length, 2);
    assert.equal(receiver.received[1]!.id, receiver.received[0]!.id, 'a replay keeps the webhook-id');

    await page.getByLabel('Reason for disabling').fill('receiver maintenance');
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByText(/^disabled by hand: receiver maintenance \(since/).waitFor();
    await page.getByRole('button', { name: 'Refresh' }).click();
    await screenshot(page, 'dashboard-endpoint-deliveries');
    await page.getByRole('button', { name: 'Enable and recover' }).click();
    await page.locator('[data-endpoint-status] .badge', { hasText: 'enabled' }).waitFor();
  });
});
