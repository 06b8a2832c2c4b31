import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness } from '../helpers/harness.js';
import { storeCases } from '../helpers/stores.js';
import {
  balance,
  codeFor,
  DAY_MS,
  type Events,
  events,
  fromTemplate,
  referral,
  referralsOf,
  summaryOf,
  unique,
} from './helpers.js';

/**
 * The free-days-or-commission reference program (shared/reference/free-days-or-commission.txt), rule
 * by rule, through the HTTP API and billing events.
 */
const PROGRAM = 'free-days-or-commission';
const DAYS = 'service_days';
const CASH = 'usd_commission';

for (const store of storeCases()) {
  describe(`free-days-or-commission (${store.name})`, () => {
    let h: Harness;
    let ev: Events;
    before(async () => {
      h = await startHarness(store);
      h.clock.set('2026-01-10T09:00:00Z');
      ev = events(h);
      await fromTemplate(h, PROGRAM);
    });
    after(() => h.close());

    /** A partner with a link, and a client who followed it and signed up. */
    async function partnerAndClient(partner: string, client: string) {
      await ev.send(ev.customerCreated(partner));
      const code = await codeFor(h, partner, PROGRAM);
      const click = await h.request('GET', `/r/${code}`, { key: null });
      assert.equal(click.status, 302);
      const clickId = new URL(String(click.headers.location)).searchParams.get('perks_click')!;
      h.clock.advance(2 * DAY_MS);
      const signup = await ev.send(ev.customerCreated(client, { click_id: clickId }));
      assert.equal(signup.referral.status, 'pending', JSON.stringify(signup));
      return { code, referralId: signup.referral.referral as string };
    }

    const monthly = (client: string, amount = 3900) =>
      ev.payment(client, { id: unique('pay'), amount, interval: 'month' });

    it('a link click then signup attributes the client to the partner', async () => {
      const { referralId } = await partnerAndClient('p_link', 'c_link');
      const detail = await referral(h, referralId);
      assert.equal(detail.method, 'link');
      assert.equal(detail.status, 'pending');
      const tree = await h.request('GET', '/v1/customers/p_link/referral_tree?depth=2');
      assert.equal(tree.status, 200);
      assert.equal(tree.body.nodes.length, 1);
      assert.equal(tree.body.nodes[0].referral, referralId);
    });

    it('a sub-account of the partner is not a referral', async () => {
      await ev.send(ev.customerCreated('p_parent'));
      const code = await codeFor(h, 'p_parent', PROGRAM);
      const result = await ev.send(
        ev.customerCreated('p_parent_instance', { referral_code: code }, { parent_customer_id: 'p_parent' }),
      );
      assert.equal(result.referral.status, 'rejected');
      assert.equal(result.referral.reason, 'sub_account');
      await ev.send(monthly('p_parent_instance'));
      assert.equal(await balance(h, 'p_parent', DAYS), 0);
    });

    it('each monthly payment gives the partner 3 days; a yearly payment gives one calendar month', async () => {
      await partnerAndClient('p_days', 'c_days');
      await ev.send(monthly('c_days'));
      assert.equal(await balance(h, 'p_days', DAYS), 3);
      h.clock.advance(30 * DAY_MS);
      await ev.send(monthly('c_days'));
      assert.equal(await balance(h, 'p_days', DAYS), 6);
      await ev.send(
        ev.payment('c_days', {
          id: unique('pay'),
          amount: 39000,
          interval: 'year',
          period_start: '2026-03-15T00:00:00Z',
        }),
      );
      assert.equal(await balance(h, 'p_days', DAYS), 6 + 31, 'a month from 15 March is 31 days');
      await ev.send(
        ev.payment('c_days', {
          id: unique('pay'),
          amount: 39000,
          interval: 'year',
          period_start: '2026-04-15T00:00:00Z',
        }),
      );
      assert.equal(await balance(h, 'p_days', DAYS), 6 + 31 + 30, 'a month from 15 April is 30 days');
      assert.equal(await balance(h, 'c_days', DAYS), 0, 'the client gets nothing in this program');
      h.clock.set('2026-01-10T09:00:00Z');
    });

    it('with the cash option, 10% of a $39 payment accrues $3.90 only after the contract is signed', async () => {
      const { referralId } = await partnerAndClient('p_cash', 'c_cash');
      const chose = await h.request('POST', '/v1/customers/p_cash/referral_option', {
        body: { program: PROGRAM, option: 'cash', actor: 'partner' },
      });
      assert.equal(chose.status, 200, JSON.stringify(chose.body));
      assert.equal(chose.body.option, 'cash');
      await ev.send(monthly('c_cash'));
      assert.equal(await balance(h, 'p_cash', CASH), 0);
      const skipped = (await referral(h, referralId)).rewards.at(-1);
      assert.equal(skipped.status, 'skipped');
      assert.equal(skipped.reason, 'contract_not_signed', 'the skip is visible with its reason');
      assert.equal(await balance(h, 'p_cash', DAYS), 0, 'no free days either: the partner chose cash');

      h.clock.advance(DAY_MS);
      const signed = await h.request('POST', '/v1/customers/p_cash/contract', {
        body: { actor: 'ops@example.com' },
      });
      assert.equal(signed.status, 201);
      h.clock.advance(DAY_MS);
      await ev.send(monthly('c_cash'));
      assert.equal(await balance(h, 'p_cash', CASH), 390);
      const again = await h.request('POST', '/v1/customers/p_cash/contract', { body: {} });
      assert.equal(again.status, 200, 'the first signature stands');
      assert.equal(again.body.signed_at, signed.body.signed_at);
    });

    it('a backdated contract grants the commission skipped since its signature, once; earlier payments stay skipped', async () => {
      const { referralId } = await partnerAndClient('p_backdated', 'c_backdated');
      await h.request('POST', '/v1/customers/p_backdated/referral_option', {
        body: { program: PROGRAM, option: 'cash' },
      });
      // One payment before the signature date, two after it, all before the contract is recorded.
      await ev.send(ev.payment('c_backdated', { id: 'pay_bd_before', amount: 3900, interval: 'month' }));
      const signedAt = new Date(h.clock.now().getTime() + DAY_MS);
      h.clock.set(signedAt);
      await ev.send(ev.payment('c_backdated', { id: 'pay_bd_at', amount: 3900, interval: 'month' }));
      h.clock.advance(DAY_MS);
      await ev.send(ev.payment('c_backdated', { id: 'pay_bd_after', amount: 5000, interval: 'month' }));
      assert.equal(await balance(h, 'p_backdated', CASH), 0);
      const skipped = (await referral(h, referralId)).rewards;
      assert.deepEqual(
        skipped.map((r: any) => r.reason),
        ['contract_not_signed', 'contract_not_signed', 'contract_not_signed'],
      );

      h.clock.advance(DAY_MS);
      const signed = await h.request('POST', '/v1/customers/p_backdated/contract', {
        body: { signed_at: signedAt.toISOString(), actor: 'ops@example.com' },
      });
      assert.equal(signed.status, 201, JSON.stringify(signed.body));
      assert.equal(await balance(h, 'p_backdated', CASH), 390 + 500, 'the payments at and after signed_at');
      const again = await h.request('POST', '/v1/customers/p_backdated/contract', {
        body: { signed_at: signedAt.toISOString() },
      });
      assert.equal(again.status, 200);
      assert.equal(await balance(h, 'p_backdated', CASH), 390 + 500, 'recording it again grants nothing');
      const detail = await referral(h, referralId);
      assert.equal(detail.status, 'rewarded');
      assert.deepEqual(
        detail.rewards.map((r: any) => [r.status, r.reason, r.amount]),
        [
          ['skipped', 'contract_not_signed', 0],
          ['granted', null, 390],
          ['granted', null, 500],
        ],
      );
      h.clock.set('2026-01-10T09:00:00Z');
    });

    it('the option can be changed for future accruals', async () => {
      await partnerAndClient('p_switch', 'c_switch');
      await ev.send(monthly('c_switch'));
      assert.equal(await balance(h, 'p_switch', DAYS), 3);
      await h.request('POST', '/v1/customers/p_switch/contract', { body: {} });
      const chose = await h.request('POST', '/v1/customers/p_switch/referral_option', {
        body: { program: PROGRAM, option: 'cash' },
      });
      assert.equal(chose.status, 200);
      h.clock.advance(DAY_MS);
      await ev.send(monthly('c_switch'));
      assert.equal(await balance(h, 'p_switch', DAYS), 3, 'past days stay');
      assert.equal(await balance(h, 'p_switch', CASH), 390, 'the next payment accrues cash');
      const bad = await h.request('POST', '/v1/customers/p_switch/referral_option', {
        body: { program: PROGRAM, option: 'gold' },
      });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.param, 'option');
    });

    it('withdrawal is refused below $20, and held then paid above it', async () => {
      await partnerAndClient('p_payout', 'c_payout');
      await h.request('POST', '/v1/customers/p_payout/contract', { body: {} });
      await h.request('POST', '/v1/customers/p_payout/referral_option', {
        body: { program: PROGRAM, option: 'cash' },
      });
      for (let i = 0; i < 5; i++) {
        h.clock.advance(DAY_MS);
        await ev.send(monthly('c_payout'));
      }
      assert.equal(await balance(h, 'p_payout', CASH), 1950);
      const refused = await h.request('POST', '/v1/payouts', {
        body: { customer: 'p_payout', asset: CASH, amount: 1950, destination: 'IBAN DE00 0000' },
      });
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error.code, 'payout_below_minimum');
      h.clock.advance(DAY_MS);
      await ev.send(monthly('c_payout'));
      const held = await h.request('POST', '/v1/payouts', {
        body: { customer: 'p_payout', asset: CASH, amount: 2340, destination: 'IBAN DE00 0000' },
      });
      assert.equal(held.status, 201, JSON.stringify(held.body));
      assert.equal(held.body.status, 'pending');
      const paid = await h.request('POST', `/v1/payouts/${held.body.id}/approve`, {
        body: { approved_by: 'ops' },
      });
      assert.equal(paid.status, 200);
      assert.equal(paid.body.status, 'paid');
      assert.equal(await balance(h, 'p_payout', CASH), 0);
    });

    it('a refund or a dispute of a payment reverses what that payment earned', async () => {
      await partnerAndClient('p_refund', 'c_refund');
      await h.request('POST', '/v1/customers/p_refund/contract', { body: {} });
      await h.request('POST', '/v1/customers/p_refund/referral_option', {
        body: { program: PROGRAM, option: 'cash' },
      });
      h.clock.advance(DAY_MS);
      const first = monthly('c_refund') as any;
      const second = monthly('c_refund') as any;
      const third = monthly('c_refund') as any;
      await ev.send([first, second, third]);
      assert.equal(await balance(h, 'p_refund', CASH), 1170);
      await ev.send(ev.refunded('c_refund', first.data.payment.id, 1000));
      assert.equal(
        await balance(h, 'p_refund', CASH),
        1070,
        'a partial refund takes back its share: 100 of 390',
      );
      await ev.send(ev.refunded('c_refund', first.data.payment.id));
      assert.equal(await balance(h, 'p_refund', CASH), 780, 'the full refund takes back the rest');
      await ev.send(ev.disputed('c_refund', second.data.payment.id));
      assert.equal(await balance(h, 'p_refund', CASH), 390);
      const replay = await ev.send(ev.disputed('c_refund', second.data.payment.id));
      assert.equal(replay.outcome, 'applied');
      assert.equal(await balance(h, 'p_refund', CASH), 390, 'reversed once only');
      const summary = await summaryOf(h, 'p_refund', PROGRAM);
      assert.deepEqual(summary.rewards_earned, [{ asset: CASH, granted: 1170, reversed: 780, net: 390 }]);
    });

    it('no new referral for 365 days suspends the partner; support can reinstate', async () => {
      await partnerAndClient('p_idle', 'c_idle');
      await ev.send(monthly('c_idle'));
      assert.equal(await balance(h, 'p_idle', DAYS), 3);
      const attributedAt = new Date((await referralsOf(h, 'p_idle'))[0].attributed_at);
      const suspendsAt = new Date(attributedAt.getTime() + 365 * DAY_MS).toISOString();
      const active = await summaryOf(h, 'p_idle', PROGRAM);
      assert.equal(active.status, 'active');
      assert.equal(active.suspends_at, suspendsAt);

      h.clock.set(new Date(attributedAt.getTime() + 366 * DAY_MS));
      const suspended = await summaryOf(h, 'p_idle', PROGRAM);
      assert.equal(suspended.status, 'suspended');
      assert.equal(suspended.suspended_at, suspendsAt);
      await ev.send(monthly('c_idle'));
      assert.equal(await balance(h, 'p_idle', DAYS), 3, 'a suspended partner accrues nothing');
      const [row] = await referralsOf(h, 'p_idle');
      const last = (await referral(h, row.id)).rewards.at(-1);
      assert.equal(last.reason, 'referrer_suspended');
      const newcomer = await ev.send(
        ev.customerCreated('c_idle_late', { referral_code: (await summaryOf(h, 'p_idle', PROGRAM)).code }),
      );
      assert.equal(newcomer.referral.reason, 'referrer_suspended');

      const reinstated = await h.request('POST', '/v1/customers/p_idle/referral_reinstate', {
        body: { program: PROGRAM, reason: 'partner asked, new campaign', actor: 'support@example.com' },
      });
      assert.equal(reinstated.status, 200, JSON.stringify(reinstated.body));
      assert.equal(reinstated.body.status, 'active');
      h.clock.advance(DAY_MS);
      await ev.send(monthly('c_idle'));
      assert.equal(await balance(h, 'p_idle', DAYS), 6);
      const twice = await h.request('POST', '/v1/customers/p_idle/referral_reinstate', {
        body: { program: PROGRAM, reason: 'again', actor: 'support@example.com' },
      });
      assert.equal(twice.status, 422);
      assert.equal(twice.body.error.code, 'referral_repair_refused');
      h.clock.set('2026-01-10T09:00:00Z');
    });
  });
}
