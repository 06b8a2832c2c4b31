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

/**
 * The operator's path through Programs, Referrals and Overview in a real browser: a program made from
 * the credit-on-first-card template in the UI, billing events sent through the API, the referral
 * found with its reward, a reassignment and a manual attribution recorded in the audit log, and the
 * API's typed errors shown beside the fields (and beside the JSON line) they are about.
 */
const skip = browserUnavailable();
const PROGRAM = 'credit-on-first-card';

describe('dashboard: programs, referrals and overview', { skip }, () => {
  let server: LiveServer;
  let browser: Browser;
  let page: Page;
  let events = 0;

  /** The API, called as the product's backend would. */
  async function call(method: string, path: string, body?: unknown) {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as any };
  }
  async function send(list: object[]) {
    const res = await call('POST', '/v1/events', { events: list });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.data as any[];
  }
  const event = (type: string, data: object) => ({
    id: `evt_browser_${++events}`,
    type,
    occurred_at: new Date().toISOString(),
    data,
  });
  const created = (external_id: string) => event('customer.created', { customer: { external_id } });
  const card = (customer: string, fingerprint: string, extra: object = {}) =>
    event('card.attached', { customer, payment_method: { fingerprint }, ...extra });

  async function codeOf(customer: string) {
    const res = await call('POST', `/v1/customers/${customer}/referral_code`, { program: PROGRAM });
    assert.ok(res.status === 201 || res.status === 200, JSON.stringify(res.body));
    return res.body.code as string;
  }

  async function openSection(name: string) {
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name }).click();
    await page.getByRole('heading', { name, level: 1 }).waitFor();
  }

  async function fieldError(name: string) {
    const error = page.locator(`[data-field="${name}"] .field-error`);
    await error.waitFor();
    return error.innerText();
  }

  before(async () => {
    server = await startLiveServer();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    await signIn(page, server.url, server.key);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('creates a program from a template, with a bad landing URL refused beside its field', async () => {
    await openSection('Programs');
    await page.getByRole('heading', { name: 'Start from a reference template' }).waitFor();
    await page.getByRole('link', { name: 'New program' }).click();
    await page.getByRole('heading', { name: 'New program', level: 1 }).waitFor();
    await page.getByRole('radio', { name: /credit-on-first-card/ }).check();
    await page.getByLabel('Landing URL').fill('ftp://example.com/signup');
    await page.getByRole('button', { name: 'Create program' }).click();
    assert.match(await fieldError('landing_url'), /http or https/);
    await screenshot(page, 'dashboard-program-new-error');

    await page.getByLabel('Landing URL').fill('https://app.example.com/signup');
    await page.getByRole('button', { name: 'Create program' }).click();
    await page.getByRole('heading', { name: 'Give $25, get $25', level: 1 }).waitFor();
    await page.getByText('version 1', { exact: true }).first().waitFor();
    const program = await call('GET', `/v1/programs/${PROGRAM}`);
    assert.equal(program.body.document.landing_url, 'https://app.example.com/signup');

    await openSection('Programs');
    await page.getByRole('link', { name: 'Give $25, get $25' }).waitFor();
    await screenshot(page, 'dashboard-programs');
  });

  test('shows the API errors of a program edit beside their JSON lines, then saves a version', async () => {
    await page.getByRole('link', { name: 'Give $25, get $25' }).click();
    const editor = page.getByLabel('Program document (JSON)');
    await editor.waitFor();
    const doc = JSON.parse(await editor.inputValue());
    doc.rewards[0].recipient = 'nobody';
    doc.referrer.eligibility = 'everyone';
    const text = JSON.stringify(doc, null, 2);
    await editor.fill(text);
    // The schema check marks the lines while typing...
    await page.locator('.json-note').first().waitFor();
    await page.getByRole('button', { name: 'Save as a new version' }).click();
    // ...and the API's own errors take their place on save, each beside its line.
    await page.getByText(/The API refused the document \(parameter_invalid\): 2 problems/).waitFor();
    const lines = text.split('\n');
    const recipientLine = lines.findIndex((l) => l.includes('"nobody"')) + 1;
    const eligibilityLine = lines.findIndex((l) => l.includes('"everyone"')) + 1;
    const notes = await page.locator('.json-note').evaluateAll((els) =>
      els.map((el) => ({
        top: (el as unknown as { offsetTop: number }).offsetTop,
        text: el.textContent ?? '',
      })),
    );
    const noteAt = (line: number) => notes.find((n) => n.top === (line - 1) * 20)?.text ?? '';
    assert.match(noteAt(recipientLine), /must be one of: referrer, referee/, JSON.stringify(notes));
    assert.match(noteAt(eligibilityLine), /must be one of: any, card_on_file/, JSON.stringify(notes));
    const bad = await page.locator('.json-gutter-bad').allInnerTexts();
    assert.deepEqual(
      bad.map(Number).sort((a, b) => a - b),
      [eligibilityLine, recipientLine].sort((a, b) => a - b),
    );
    await screenshot(page, 'dashboard-program-editor-error');

    doc.rewards[0].recipient = 'referrer';
    doc.referrer.eligibility = 'card_on_file';
    doc.description = 'Share your code: both teams get $25 when the new team adds its first card.';
    await editor.fill(JSON.stringify(doc, null, 2));
    await page.getByRole('button', { name: 'Save as a new version' }).click();
    await page.getByText(/Saved as version 2/).waitFor();
    const versions = page.getByRole('region', { name: 'Version history' }).getByRole('row');
    await page.getByRole('cell', { name: 'superseded' }).waitFor();
    assert.equal(await versions.count(), 3, 'a header and two versions');
    await screenshot(page, 'dashboard-program-detail');
  });

  test('finds the referral the events made, with its reward, by code and by customer', async () => {
    await send([created('acme'), card('acme', 'fp_acme'), created('initech'), card('initech', 'fp_initech')]);
    const acme = await codeOf('acme');
    const referred = await send([created('globex'), card('globex', 'fp_globex', { referral_code: acme })]);
    assert.equal(referred[1].referral.status, 'rewarded', JSON.stringify(referred));
    // globex refers a team of its own (a second level in the tree), and a second card is refused.
    const globex = await codeOf('globex');
    await send([created('wayne'), card('wayne', 'fp_wayne', { referral_code: globex })]);
    await send([created('umbrella'), card('umbrella', 'fp_umbrella_1')]);
    const refused = await send([card('umbrella', 'fp_umbrella_2', { referral_code: acme })]);
    assert.equal(refused[0].referral.reason, 'not_first_card');

    await openSection('Referrals');
    await page.getByLabel('Search by').selectOption('code');
    await page.getByRole('textbox', { name: /^Referral code/ }).fill(acme.toLowerCase());
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/by=code/);
    const row = page.getByRole('row').filter({ hasText: 'globex' });
    await row.waitFor();
    const text = await row.innerText();
    assert.match(text, /rewarded/);
    assert.match(text, /referrer\s+\$25\.00/);
    assert.match(text, /referee\s+\$25\.00/);
    await page.getByRole('row').filter({ hasText: 'not first card' }).waitFor();
    await screenshot(page, 'dashboard-referrals-search');

    // An unknown customer is refused beside the search field.
    await page.getByLabel('Search by').selectOption('customer');
    await page.getByLabel(/^Customer/).fill('nobody');
    await page.getByRole('button', { name: 'Search' }).click();
    assert.match(await fieldError('customer'), /no customer 'nobody'/);
    await page.getByLabel(/^Customer/).fill('globex');
    await page.getByLabel('Status').selectOption('rewarded');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/status=rewarded/);
    await page.getByRole('row').filter({ hasText: 'wayne' }).waitFor();
    assert.equal(
      await page.getByRole('row').filter({ hasText: 'globex' }).count(),
      2,
      'as referee and as referrer',
    );
  });

  test('the overview counts the referral, its reward cost and the rejection', async () => {
    await openSection('Overview');
    const stat = (name: string) => page.locator(`[data-stat="${name}"]`);
    await stat('referrals').waitFor();
    assert.equal(await stat('referrals').innerText(), '2');
    assert.equal(await stat('conversions').innerText(), '2');
    assert.equal(await stat('rejections').innerText(), '1');
    assert.equal(await stat('reward-usd_credit').innerText(), '$100.00');
    await page.getByRole('region', { name: 'Top referrers' }).getByRole('link', { name: 'acme' }).waitFor();
    await page
      .getByRole('region', { name: /Recent rejections/ })
      .getByText('not first card')
      .first()
      .waitFor();
    await page.locator('.recharts-bar-rectangle').first().waitFor();
    await screenshot(page, 'dashboard-overview');
  });

  test('reassigns the referral with a reason, shown in its history and the audit log', async () => {
    await openSection('Referrals');
    await page.getByLabel(/^Customer/).fill('globex');
    await page.getByRole('combobox', { name: /^As/ }).selectOption('referee');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/role=referee/);
    const link = page.getByRole('row').filter({ hasText: 'acme' }).getByRole('link', { name: /^ref_/ });
    await link.click();
    await page.getByRole('heading', { name: /^Referral ref_/, level: 1 }).waitFor();
    const history = page.getByRole('region', { name: 'History' });
    await history.getByText('rewarded').first().waitFor();

    // A referrer that does not exist: the API's error is beside the field, and nothing changes.
    await page.getByLabel('New referrer').fill('nobody');
    await page.getByLabel('Reason').fill('ticket 4712');
    await page.getByLabel('Actor').fill('support@example.com');
    await page.getByRole('button', { name: 'Reassign' }).click();
    assert.match(await fieldError('referrer'), /no customer 'nobody'/);
    await screenshot(page, 'dashboard-referral-reassign-error');

    await page.getByLabel('New referrer').fill('initech');
    await page.getByRole('button', { name: 'Reassign' }).click();
    await page.getByText(/Reassigned to initech/).waitFor();
    const audit = page.getByRole('region', { name: 'Audit log' });
    await audit.getByRole('row').filter({ hasText: 'ticket 4712' }).waitFor();
    assert.match(await audit.innerText(), /referral reassigned[\s\S]*support@example\.com/);
    const rewards = page.getByRole('region', { name: 'Rewards' });
    await rewards.getByText('reversed', { exact: true }).first().waitFor();
    // The facts are fetched again after the success message shows; wait for the new referrer.
    await page.getByRole('region', { name: 'Referral facts' }).getByText('initech').first().waitFor();
    await screenshot(page, 'dashboard-referral-detail');

    await page.getByRole('link', { name: '← All referrals' }).click();
    await page.getByRole('link', { name: 'Audit log' }).click();
    const entry = page.getByRole('row').filter({ hasText: 'ticket 4712' });
    await entry.waitFor();
    assert.match(await entry.innerText(), /referral reassigned/);
  });

  test('records a manual attribution, audited, and shows the referral tree', async () => {
    await send([created('hooli')]);
    await page.getByRole('link', { name: 'Manual attribution' }).click();
    await page.getByLabel('Referee (the referred customer)').fill('hooli');
    await page.getByRole('combobox', { name: /^Program/ }).selectOption(PROGRAM);
    await page.getByLabel(/^Referrer/).fill('acme');
    await page.getByLabel('Actor').fill('support@example.com');
    // No reason: refused beside the field.
    await page.getByRole('button', { name: 'Record referral' }).click();
    assert.match(await fieldError('reason'), /reason/);
    await page.getByLabel('Reason').fill('signed up by phone, ticket 4713');
    await page.getByRole('button', { name: 'Record referral' }).click();
    await page.getByRole('heading', { name: /^Referral ref_/, level: 1 }).waitFor();
    const audit = page.getByRole('region', { name: 'Audit log' });
    await audit.getByRole('row').filter({ hasText: 'ticket 4713' }).waitFor();
    assert.match(await audit.innerText(), /manual referral/);

    const log = await call('GET', '/v1/audit_log');
    assert.deepEqual(
      log.body.data.map((e: any) => [e.action, e.reason]),
      [
        ['manual_referral', 'signed up by phone, ticket 4713'],
        ['referral_reassigned', 'ticket 4712'],
      ],
    );

    await page.goto(`${server.url}/dashboard/referrals?tab=audit`);
    await page.getByRole('row').filter({ hasText: 'ticket 4713' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'ticket 4712' }).waitFor();
    await screenshot(page, 'dashboard-audit-log');

    await page.getByRole('link', { name: 'Referral tree' }).click();
    await page.getByLabel('Customer').fill('initech');
    await page.getByRole('button', { name: 'Show tree' }).click();
    const tree = page.getByRole('list', { name: 'Referral tree' });
    await tree.waitFor();
    const initechTree = await call('GET', '/v1/customers/initech/referral_tree?depth=3');
    const [globexNode] = initechTree.body.nodes;
    assert.equal(globexNode.children.length, 1, 'globex referred wayne');
    // Both levels are drawn: globex under initech, and wayne under globex.
    const nested = tree.locator('li li');
    assert.equal(await nested.count(), 1);
    assert.match(await nested.innerText(), new RegExp(globexNode.children[0].referral));
    await screenshot(page, 'dashboard-referral-tree');
  });
});
