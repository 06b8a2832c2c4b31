import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness } from '../helpers/harness.js';
import { storeCases } from '../helpers/stores.js';
import {
  balance,
  balanceDetail,
  codeFor,
  DAY_MS,
  type Events,
  events,
  fromTemplate,
  referral,
  referralsOf,
  summaryOf,
} from './helpers.js';

/**
 * The bonus-minutes reference program (shared/reference/bonus-minutes.txt), rule by rule, through
 * the HTTP API and billing events.
 */
const PROGRAM = 'bonus-minutes';
const MINUTES = 'bonus_minutes';
const HOST_PERIOD_END = '2026-03-20T10:00:00.000Z';

for (const store of storeCases()) {
  describe(`bonus-minutes (${store.name})`, () => {
    let h: Harness;
    let ev: Events;
    let hostCode: string;
    before(async () => {
      h = await startHarness(store);
      ev = events(h);
      // The referrer pays for a monthly plan from 20 February to 20 March.
      h.clock.set('2026-02-20T10:00:00Z');
      await fromTemplate(h, PROGRAM);
      await ev.send([
        ev.customerCreated('host'),
        ev.subscription('host', { id: 'sub_host', plan_units: 360, amount: 2900 }),
      ]);
      h.clock.set('2026-03-01T10:00:00Z');
      hostCode = await codeFor(h, 'host', PROGRAM);
    });
    after(() => h.close());

    /** A friend who follows the host's link and signs up with the click id. */
    async function friendViaLink(name: string) {
      const click = await h.request('GET', `/r/${hostCode.toLowerCase()}`, {
        key: null,
        headers: { 'user-agent': 'Mozilla/5.0 test', 'x-forwarded-for': '203.0.113.9' },
      });
      assert.equal(click.status, 302, JSON.stringify(click.body));
      const location = new URL(String(click.headers.location));
      const clickId = location.searchParams.get('perks_click')!;
      const signup = await ev.send(ev.customerCreated(name, { click_id: clickId }));
      assert.equal(signup.referral.status, 'pending', JSON.stringify(signup));
      return signup.referral.referral as string;
    }

    it('only paying subscribers get a link', async () => {
      await ev.send(ev.customerCreated('free_user'));
      const refused = await h.request('POST', '/v1/customers/free_user/referral_code', {
        body: { program: PROGRAM },
      });
      assert.equal(refused.status, 422);
      assert.equal(refused.body.error.code, 'referrer_not_eligible');
      assert.equal(refused.body.error.unmet, 'paid_subscription');
      const trial = await ev.send(
        ev.subscription('free_user', { id: 'sub_free_trial', status: 'trialing', plan_units: 90 }),
      );
      assert.equal(trial.outcome, 'applied');
      const stillRefused = await h.request('POST', '/v1/customers/free_user/referral_code', {
        body: { program: PROGRAM },
      });
      assert.equal(stillRefused.status, 422, 'a trial is not a paid subscription');
      const host = await h.request('POST', '/v1/customers/host/referral_code', {
        body: { program: PROGRAM },
      });
      assert.equal(host.status, 200);
      assert.ok(host.body.link.endsWith(`/r/${hostCode}`));
    });

    it('the link records the click, sets a cookie and redirects with the code; no raw personal data is kept', async () => {
      const click = await h.request('GET', `/r/${hostCode}`, {
        key: null,
        headers: { 'user-agent': 'Mozilla/5.0 unique-agent', 'x-forwarded-for': '198.51.100.7' },
      });
      assert.equal(click.status, 302);
      const location = new URL(String(click.headers.location));
      assert.equal(location.origin + location.pathname, 'https://app.example.com/signup');
      assert.equal(location.searchParams.get('ref'), hostCode);
      assert.match(
        String(click.headers['set-cookie']),
        /^perks_click=clk_[0-9a-z]{26}\.[A-Z0-9]+\.[0-9a-z]+\.[\w-]+; Max-Age=5184000; Path=\/; SameSite=Lax; HttpOnly/,
      );
      const summary = await summaryOf(h, 'host', PROGRAM);
      assert.ok(summary.clicks >= 1);
      const rows = await h.db.query<Record<string, unknown>>('select * from referral_clicks');
      const stored = JSON.stringify(rows);
      assert.ok(rows.length >= 1);
      assert.ok(!stored.includes('unique-agent') && !stored.includes('127.0.0.1'), stored);
      const unknown = await h.request('GET', '/r/NOSUCHCODE', { key: null });
      assert.equal(unknown.status, 404);
    });

    it("the friend's first paid subscription gives both 22, 90 or 300 minutes for the 90, 360 and 1,200-minute plans", async () => {
      const plans: [string, number, number][] = [
        ['starter_friend', 90, 22],
        ['pro_friend', 360, 90],
        ['power_friend', 1200, 300],
      ];
      const before = await balance(h, 'host', MINUTES);
      for (const [name, units, bonus] of plans) {
        const id = await friendViaLink(name);
        await ev.send(ev.subscription(name, { id: `sub_${name}`, plan_units: units }));
        assert.equal(await balance(h, name, MINUTES), bonus, name);
        const detail = await referral(h, id);
        assert.equal(detail.status, 'rewarded');
        assert.deepEqual(
          detail.rewards.map((r: any) => [r.recipient, r.amount]),
          [
            ['referrer', bonus],
            ['referee', bonus],
          ],
        );
      }
      assert.equal(await balance(h, 'host', MINUTES), before + 22 + 90 + 300);
    });

    it("the minutes expire at the end of each one's current billing period", async () => {
      await friendViaLink('expiry_friend');
      await ev.send(ev.subscription('expiry_friend', { id: 'sub_expiry_friend', plan_units: 360 }));
      const friend = await balanceDetail(h, 'expiry_friend', MINUTES);
      assert.deepEqual(friend.expiring, [{ expires_at: '2026-04-01T10:00:00.000Z', amount: 90 }]);
      const host = await balanceDetail(h, 'host', MINUTES);
      assert.equal(host.expiring[0].expires_at, HOST_PERIOD_END, "the host's own period, not the friend's");
      h.clock.set('2026-04-01T10:00:00Z');
      assert.equal(await balance(h, 'expiry_friend', MINUTES), 0, 'unused bonus minutes do not roll over');
      assert.equal(await balance(h, 'host', MINUTES), 0);
      h.clock.set('2026-03-01T10:00:00Z');
    });

    it('an existing account cannot be referred', async () => {
      await ev.send(ev.customerCreated('old_account'));
      h.clock.advance(3 * DAY_MS);
      const res = await h.request('POST', '/v1/referrals', {
        body: { referee: 'old_account', code: hostCode },
      });
      assert.equal(res.status, 201);
      assert.equal(res.body.status, 'rejected');
      assert.equal(res.body.reason, 'not_new_account');
      await ev.send(ev.subscription('old_account', { id: 'sub_old', plan_units: 360 }));
      assert.equal(await balance(h, 'old_account', MINUTES), 0);
      h.clock.set('2026-03-01T10:00:00Z');
    });

    it('an account the billing system created long before Perks heard of it cannot be referred', async () => {
      const ago = (days: number) => new Date(h.clock.now().getTime() - days * DAY_MS).toISOString();
      // Existing accounts are imported today: one by its customer.created, one only by a card it had.
      await ev.send([
        { ...ev.customerCreated('imported_account'), occurred_at: ago(30) },
        { ...ev.cardAttached('implicit_account', 'fp_implicit_account'), occurred_at: ago(20) },
      ]);
      const customer = await h.request('GET', '/v1/customers/imported_account');
      assert.equal(customer.body.created_at, ago(30), "the customer's creation in the billing system");
      const res = await h.request('POST', '/v1/referrals', {
        body: { referee: 'imported_account', code: hostCode },
      });
      assert.equal(res.status, 201);
      assert.equal(res.body.status, 'rejected');
      assert.equal(res.body.reason, 'not_new_account');
      // A customer.created for a customer Perks already has does not make it new again.
      for (const name of ['imported_account', 'implicit_account']) {
        const again = await ev.send(ev.customerCreated(name, { referral_code: hostCode }));
        assert.equal(again.referral.status, 'rejected', `${name}: ${JSON.stringify(again)}`);
        assert.equal(again.referral.reason, 'not_new_account', name);
      }
      const implicit = await h.request('GET', '/v1/customers/implicit_account');
      assert.equal(implicit.body.created_at, ago(20), 'the earliest event that named it');
      await ev.send(ev.subscription('imported_account', { id: 'sub_imported', plan_units: 360 }));
      assert.equal(await balance(h, 'imported_account', MINUTES), 0);
    });

    it('cancelling keeps the minutes; resubscribing gives nothing more', async () => {
      await friendViaLink('churner');
      await ev.send(ev.subscription('churner', { id: 'sub_churn_1', plan_units: 360 }));
      const hostBefore = await balance(h, 'host', MINUTES);
      assert.equal(await balance(h, 'churner', MINUTES), 90);
      h.clock.advance(DAY_MS);
      await ev.send(ev.canceled('churner', 'sub_churn_1'));
      assert.equal(await balance(h, 'churner', MINUTES), 90, 'cancel keeps the minutes');
      h.clock.advance(DAY_MS);
      await ev.send(ev.subscription('churner', { id: 'sub_churn_2', plan_units: 1200 }));
      assert.equal(await balance(h, 'churner', MINUTES), 90, 'resubscribing gives nothing');
      assert.equal(await balance(h, 'host', MINUTES), hostBefore);
      const [mine] = await referralsOf(h, 'churner', '&role=referee');
      const detail = await referral(h, mine.id);
      assert.equal(
        detail.rewards.length,
        2,
        'the second subscription found the once-per-referral keys taken',
      );
      h.clock.set('2026-03-01T10:00:00Z');
    });

    it('the summary shows invites, subscribers and minutes earned', async () => {
      const summary = await summaryOf(h, 'host', PROGRAM);
      assert.ok(summary.link.endsWith(`/r/${hostCode}`));
      assert.equal(summary.status, 'active');
      assert.ok(summary.signups >= 5);
      assert.equal(summary.converted, 5);
      const earned = summary.rewards_earned.find((r: any) => r.asset === MINUTES);
      assert.equal(earned.granted, 22 + 90 + 300 + 90 + 90);
    });

    it('a first paid subscription without plan_units skips for now; the event that states them pays once', async () => {
      const id = await friendViaLink('unitless_friend');
      const hostBefore = await balance(h, 'host', MINUTES);
      await ev.send(ev.subscription('unitless_friend', { id: 'sub_unitless' }));
      const skipped = await referral(h, id);
      assert.deepEqual(
        skipped.rewards.map((r: any) => [r.status, r.reason]),
        [
          ['skipped', 'plan_units_unknown'],
          ['skipped', 'plan_units_unknown'],
        ],
      );
      h.clock.advance(60_000);
      const corrected = ev.subscription('unitless_friend', { id: 'sub_unitless', plan_units: 360 });
      h.clock.advance(60_000);
      const again = ev.subscription('unitless_friend', { id: 'sub_unitless', plan_units: 360 });
      // Two events that both supply the units, sent together, and the first sent again: one grant.
      await Promise.all([ev.send(corrected), ev.send(again)]);
      await ev.send(corrected);
      h.clock.advance(60_000);
      await ev.send(ev.subscription('unitless_friend', { id: 'sub_unitless_2', plan_units: 1200 }));
      assert.equal(await balance(h, 'unitless_friend', MINUTES), 90);
      assert.equal(await balance(h, 'host', MINUTES), hostBefore + 90);
      const paid = await referral(h, id);
      assert.equal(paid.status, 'rewarded');
      assert.deepEqual(
        paid.rewards
          .filter((r: any) => r.status === 'granted')
          .map((r: any) => [r.recipient, r.amount])
          .sort(),
        [
          ['referee', 90],
          ['referrer', 90],
        ],
      );
      h.clock.set('2026-03-01T10:00:00Z');
    });
  });
}
