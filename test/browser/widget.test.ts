import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  browserUnavailable,
  launchBrowser,
  type LiveServer,
  screenshot,
  startLiveServer,
} from '../helpers/browser.js';

/**
 * The end-customer widget in a real browser: Perks runs as `perks serve`; a tiny "product" server on
 * another origin plays the product's backend (it holds the secret key and mints customer tokens) and
 * serves a page that embeds the widget script from Perks.
 */

const skip = browserUnavailable();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let serial = 0;
const unique = (prefix: string) => `${prefix}_${process.pid}_${++serial}`;

describe('referral widget in a product page', { skip }, () => {
  let perks: LiveServer;
  let product: Server;
  let productUrl: string;
  let browser: Browser;
  let context: BrowserContext;

  /** The product's backend calling Perks with its secret key. */
  async function api(method: 'GET' | 'POST', path: string, body?: unknown) {
    const res = await fetch(`${perks.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${perks.key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as any;
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }
  const event = (type: string, data: object) =>
    api('POST', '/v1/events', { id: unique('evt'), type, occurred_at: new Date().toISOString(), data });
  const mint = async (customer: string, ttl_seconds?: number) =>
    (await api('POST', '/v1/customer_tokens', { customer, ...(ttl_seconds ? { ttl_seconds } : {}) }))
      .token as string;

  /**
   * The product page: `?customer=` has the product's backend mint a token for that customer (as a
   * real product does for its signed-in user); `?token=` embeds a given token instead; `?provider=`
   * passes a token provider that returns the given token first and a freshly minted one after.
   */
  async function productPage(req: URL): Promise<string> {
    const program = req.searchParams.get('program') ?? 'credit-on-first-card';
    const customer = req.searchParams.get('customer');
    const token = req.searchParams.get('token') ?? (customer ? await mint(customer) : '');
    const provider = req.searchParams.get('provider');
    const attrs = provider ? '' : ` token="${token}"`;
    const providerScript = provider
      ? `<script>
          window.providerCalls = 0;
          document.querySelector('perks-referral').tokenProvider = async () => {
            window.providerCalls += 1;
            if (window.providerCalls === 1) return ${JSON.stringify(provider)};
            return (await fetch('/token?customer=${encodeURIComponent(customer ?? '')}')).text();
          };
        </script>`
      : '';
    return `<!doctype html>
<html lang="en-GB">
  <head>
    <meta charset="utf-8" />
    <title>Team settings — Example product</title>
    <style>
      body { font-family: Georgia, serif; margin: 2rem; background: #f4f1ea; color: #222; }
      .theme perks-referral { --perks-accent: #5b3cc4; --perks-radius: 4px; }
    </style>
  </head>
  <body>
    <h1>Team settings</h1>
    <p><button id="before">Save settings</button></p>
    <div class="theme">
      <perks-referral program="${program}"${attrs}></perks-referral>
    </div>
    <script src="${perks.url}/widget/perks-referral.js"></script>
    ${providerScript}
  </body>
</html>`;
  }

  before(async () => {
    perks = await startLiveServer({ workers: false });
    product = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://product.test');
      const answer =
        url.pathname === '/token'
          ? mint(url.searchParams.get('customer') ?? '').then((t) => ({ type: 'text/plain', body: t }))
          : productPage(url).then((body) => ({ type: 'text/html; charset=utf-8', body }));
      answer.then(
        ({ type, body }) => res.writeHead(200, { 'content-type': type }).end(body),
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(err.message),
      );
    });
    await new Promise<void>((resolve) => product.listen(0, '127.0.0.1', resolve));
    productUrl = `http://127.0.0.1:${(product.address() as AddressInfo).port}`;
    assert.notEqual(new URL(productUrl).origin, new URL(perks.url).origin, 'the page is on another origin');
    browser = await launchBrowser();
    context = await browser.newContext({
      permissions: ['clipboard-read', 'clipboard-write'],
      viewport: { width: 720, height: 900 },
    });
    for (const template of ['credit-on-first-card', 'free-days-or-commission', 'bonus-minutes']) {
      await api('POST', '/v1/programs/from_template', { template });
    }
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await new Promise((resolve) => product?.close(resolve));
    await perks?.stop();
  });

  async function open(query: Record<string, string>): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${productUrl}/?${new URLSearchParams(query)}`);
    await page.locator('perks-referral .card').first().waitFor();
    return page;
  }
  const widget = (page: Page) => page.locator('perks-referral');
  const ready = (page: Page) => widget(page).locator('[data-state="ready"]').waitFor();
  const clipboard = (page: Page) => page.evaluate('navigator.clipboard.readText()') as Promise<string>;
  /** The element focused inside the widget's shadow root, described for assertions. */
  const focused = (page: Page) =>
    page.evaluate(`(() => {
      const el = document.querySelector('perks-referral').shadowRoot.activeElement;
      return el ? { tag: el.tagName, copy: el.dataset.copy ?? null, outline: getComputedStyle(el).outlineStyle } : null;
    })()`) as Promise<{ tag: string; copy: string | null; outline: string } | null>;

  test('an eligible customer sees its code and counts; the copy button works from the keyboard', async () => {
    const team = unique('team');
    const friend = unique('friend');
    await event('customer.created', { customer: { external_id: team } });
    await event('card.attached', { customer: team, payment_method: { fingerprint: unique('fp') } });
    const { code } = await api('POST', `/v1/customers/${team}/referral_code`, {
      program: 'credit-on-first-card',
    });
    await event('customer.created', { customer: { external_id: friend } });
    await event('card.attached', {
      customer: friend,
      referral_code: code,
      payment_method: { fingerprint: unique('fp') },
    });

    const page = await open({ customer: team });
    await ready(page);
    const w = widget(page);
    assert.equal(await w.getByRole('heading', { level: 2 }).innerText(), 'Give $25, get $25');
    assert.equal(await w.getByLabel('Your referral code', { exact: true }).inputValue(), code);
    assert.equal(
      await w.getByLabel('Your referral link', { exact: true }).count(),
      0,
      'a code-only program has no link',
    );
    assert.equal(await w.locator('[data-stat="invited"]').innerText(), '1');
    assert.equal(await w.locator('[data-stat="converted"]').innerText(), '1');
    assert.equal(await w.locator('[data-asset="usd_credit"]').innerText(), '$25 in credits');
    // The page's CSS custom properties reach into the shadow root.
    const accent = await w
      .getByRole('button', { name: 'Copy your referral code' })
      .evaluate((el) => (globalThis as any).getComputedStyle(el).backgroundColor);
    assert.equal(accent, 'rgb(91, 60, 196)');

    // Keyboard only: Tab from the page's own button into the widget, to the copy button, then Enter.
    await page.locator('#before').focus();
    let target = await focused(page);
    for (let i = 0; i < 6 && target?.copy !== 'code'; i++) {
      await page.keyboard.press('Tab');
      target = await focused(page);
    }
    assert.equal(target?.copy, 'code', 'the copy button is reachable with Tab');
    assert.equal(target?.outline, 'solid', 'the focused button shows its focus outline');
    await screenshot(page, 'widget-keyboard-focus');
    await page.keyboard.press('Enter');
    await w.getByRole('status').filter({ hasText: 'copied' }).waitFor({ state: 'attached' });
    assert.equal(await clipboard(page), code);
    assert.equal(await w.locator('[data-copy="code"]').innerText(), 'Copied');
    await screenshot(page, 'widget-code-copied');

    // And with the mouse, after the clipboard held something else.
    await page.evaluate('navigator.clipboard.writeText("something else")');
    await w.getByRole('button', { name: 'Copy your referral code' }).click();
    await page.waitForFunction(`navigator.clipboard.readText().then((t) => t === ${JSON.stringify(code)})`);
    await page.close();
  });

  test('a subscriber sees its link and its bonus minutes with their expiry; the link copies', async () => {
    const host = unique('host');
    const friend = unique('friend');
    const start = new Date();
    const end = new Date(start);
    end.setUTCMonth(end.getUTCMonth() + 1);
    const subscription = (customer: string) =>
      event('subscription.updated', {
        customer,
        subscription: {
          id: unique('sub'),
          plan_id: 'plan_360',
          plan_units: 360,
          interval: 'month',
          status: 'active',
          current_period_start: start.toISOString(),
          current_period_end: end.toISOString(),
          amount: 2900,
          currency: 'usd',
        },
      });
    await event('customer.created', { customer: { external_id: host } });
    await subscription(host);
    const { code } = await api('POST', `/v1/customers/${host}/referral_code`, { program: 'bonus-minutes' });
    await event('customer.created', { customer: { external_id: friend }, referral_code: code });
    await subscription(friend);

    const page = await open({ customer: host, program: 'bonus-minutes' });
    await ready(page);
    const w = widget(page);
    const link = await w.getByLabel('Your referral link', { exact: true }).inputValue();
    assert.equal(link, `${perks.url}/r/${code}`);
    const expiry = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short' }).format(end);
    const minutes = await w.locator('[data-asset="bonus_minutes"]').innerText();
    assert.ok(minutes.startsWith('90 bonus minutes, expire '), minutes);
    assert.ok(minutes.endsWith(expiry) || minutes.includes(expiry), `${minutes} names ${expiry}`);
    await w.getByRole('button', { name: 'Copy your referral link' }).click();
    await page.waitForFunction(`navigator.clipboard.readText().then((t) => t === ${JSON.stringify(link)})`);
    await screenshot(page, 'widget-bonus-minutes');
    await page.setViewportSize({ width: 360, height: 740 });
    await screenshot(page, 'widget-bonus-minutes-narrow');
    await page.close();
  });

  test('an ineligible customer is told what makes it eligible, and gets no code', async () => {
    const team = unique('free_team');
    await event('customer.created', { customer: { external_id: team } });
    const page = await open({ customer: team });
    await ready(page);
    const w = widget(page);
    assert.equal(
      await w.locator('[data-eligibility="card_on_file"]').innerText(),
      'Add a card to get your referral code.',
    );
    assert.equal(await w.getByRole('button', { name: /Copy/ }).count(), 0);
    await screenshot(page, 'widget-ineligible');
    await page.close();
  });

  test('commission: withdraw is off below the minimum, on above it, and withdrawing makes a payout', async () => {
    const partner = unique('partner');
    const client = unique('client');
    await event('customer.created', { customer: { external_id: partner } });
    const { code } = await api('POST', `/v1/customers/${partner}/referral_code`, {
      program: 'free-days-or-commission',
    });
    await event('customer.created', { customer: { external_id: client }, referral_code: code });
    await api('POST', `/v1/customers/${partner}/referral_option`, {
      program: 'free-days-or-commission',
      option: 'cash',
    });
    await api('POST', `/v1/customers/${partner}/contract`, {});
    await sleep(20);
    const pay = (amount: number, interval: 'month' | 'year') =>
      event('payment.succeeded', {
        customer: client,
        payment: { id: unique('pay'), amount, currency: 'usd', interval },
      });
    await pay(3900, 'month');

    let page = await open({ customer: partner, program: 'free-days-or-commission' });
    await ready(page);
    let w = widget(page);
    assert.equal(await w.locator('[data-available]').innerText(), '$3.90');
    assert.ok(await w.getByRole('button', { name: 'Withdraw' }).isDisabled());
    assert.ok(
      (await w.locator('.commission').innerText()).includes('Withdrawals open at $20; you have $3.90.'),
    );
    await screenshot(page, 'widget-commission-below-minimum');
    await page.close();

    await pay(39000, 'year');
    page = await open({ customer: partner, program: 'free-days-or-commission' });
    await ready(page);
    w = widget(page);
    const withdraw = w.getByRole('button', { name: 'Withdraw $42.90' });
    assert.ok(await withdraw.isEnabled());
    await screenshot(page, 'widget-commission-withdrawable');
    await withdraw.click();
    await w.locator('[data-notice="success"]').waitFor();
    assert.match(await w.locator('[data-notice="success"]').innerText(), /Withdrawal of \$42\.90 requested/);
    assert.ok(await w.getByRole('button', { name: 'Withdraw' }).isDisabled(), 'nothing left to withdraw');
    assert.ok((await w.locator('.commission').innerText()).includes('$42.90 requested, waiting to be paid.'));
    await screenshot(page, 'widget-withdrawn');
    const customer = await api('GET', `/v1/customers/${partner}`);
    const payouts = await api('GET', `/v1/payouts?customer=${customer.id}`);
    assert.equal(payouts.data.length, 1);
    assert.equal(payouts.data[0].amount, 4290);
    assert.equal(payouts.data[0].status, 'pending');
    await page.close();
  });

  test('an expired token shows a clear message while the API answers 401', async () => {
    const team = unique('team');
    await event('customer.created', { customer: { external_id: team } });
    const token = await mint(team, 1);
    await sleep(1100);
    const page = await context.newPage();
    const answer = page.waitForResponse((r) => r.url().includes('/v1/widget/referral'));
    await page.goto(`${productUrl}/?${new URLSearchParams({ token })}`);
    const res = await answer;
    assert.equal(res.status(), 401);
    assert.equal(((await res.json()) as any).error.code, 'customer_token_expired');
    const alert = widget(page).getByRole('alert');
    await alert.waitFor();
    assert.equal(
      await alert.innerText(),
      'This page has expired — reload the page to see your referral details.',
    );
    assert.ok(await widget(page).getByRole('button', { name: 'Reload the page' }).isVisible());
    await screenshot(page, 'widget-expired');
    await page.close();
  });

  test('a tampered token shows a clear message while the API answers 401', async () => {
    const team = unique('team');
    await event('customer.created', { customer: { external_id: team } });
    const token = await mint(team);
    const tampered = token.slice(0, -5) + (token.endsWith('AAAAA') ? 'BBBBB' : 'AAAAA');
    const page = await context.newPage();
    const answer = page.waitForResponse((r) => r.url().includes('/v1/widget/referral'));
    await page.goto(`${productUrl}/?${new URLSearchParams({ token: tampered })}`);
    const res = await answer;
    assert.equal(res.status(), 401);
    assert.equal(((await res.json()) as any).error.code, 'customer_token_invalid');
    const alert = widget(page).getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /could not be verified — reload the page/);
    await screenshot(page, 'widget-tampered');
    await page.close();
  });

  test('with a token provider, an expired token is replaced and the widget recovers', async () => {
    const team = unique('team');
    await event('customer.created', { customer: { external_id: team } });
    await event('card.attached', { customer: team, payment_method: { fingerprint: unique('fp') } });
    const stale = await mint(team, 1);
    await sleep(1100);
    const page = await open({ customer: team, provider: stale });
    await ready(page);
    assert.match(
      await widget(page).getByLabel('Your referral code', { exact: true }).inputValue(),
      /^[A-Z0-9]{8}$/,
    );
    assert.equal(await page.evaluate('window.providerCalls'), 2, 'the stale token, then a fresh one');
    await page.close();
  });
});
