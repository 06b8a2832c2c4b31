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
  unique,
} from './helpers.js';

/**
 * Support repairs the referral tree ("if the client you attracted is not reflected in your referral
 * tree, write to our support"): a manual referral and a reassignment, both audited, with rewards that
 * follow the corrected tree: granted where now due, reversed where no longer due, never twice.
 */
const PROGRAM = 'free-days-or-commission';
const CASH = 'usd_commission';
const DAYS = 'service_days';

for (const store of storeCases()) {
  describe(`referral tree repairs (${store.name})`, () => {
    let h: Harness;
    let ev: Events;
    before(async () => {
      h = await startHarness(store);
      h.clock.set('2026-02-01T09:00:00Z');
      ev = events(h);
      await fromTemplate(h, PROGRAM);
    });
    after(() => h.close());

    async function cashPartner(name: string) {
      await ev.send(ev.customerCreated(name));
      await h.request('POST', `/v1/customers/${name}/contract`, {
        body: { signed_at: '2026-01-01T00:00:00Z' },
      });
      const chose = await h.request('POST', `/v1/customers/${name}/referral_option`, {
        body: { program: PROGRAM, option: 'cash' },
      });
      assert.equal(chose.status, 200);
      return codeFor(h, name, PROGRAM);
    }

    it('a manual referral grants what is already due, once, and is audited', async () => {
      await cashPartner('forgotten_partner');
      // The client signed up without the link and paid twice before anyone noticed.
      await ev.send(ev.customerCreated('lost_client'));
      h.clock.advance(DAY_MS);
      await ev.send([
        ev.payment('lost_client', { id: unique('pay'), amount: 3900, interval: 'month' }),
        ev.payment('lost_client', { id: unique('pay'), amount: 3900, interval: 'month' }),
      ]);
      const body = {
        referee: 'lost_client',
        source: 'manual',
        program: PROGRAM,
        referrer: 'forgotten_partner',
        reason: 'ticket 4711: client signed up through a forwarded link',
        actor: 'support@example.com',
      };
      const repaired = await h.request('POST', '/v1/referrals', { body });
      assert.equal(repaired.status, 201, JSON.stringify(repaired.body));
      assert.equal(repaired.body.method, 'manual');
      assert.equal(repaired.body.status, 'rewarded');
      assert.equal(await balance(h, 'forgotten_partner', CASH), 780, 'both past payments accrue');
      const again = await h.request('POST', '/v1/referrals', { body });
      assert.equal(again.status, 200);
      assert.equal(again.body.id, repaired.body.id);
      assert.equal(await balance(h, 'forgotten_partner', CASH), 780, 'never twice');
      const detail = await referral(h, repaired.body.id);
      assert.equal(detail.audit_log[0].action, 'manual_referral');
      assert.equal(detail.audit_log[0].actor, 'support@example.com');
      assert.match(detail.audit_log[0].reason, /ticket 4711/);
      h.clock.advance(DAY_MS);
      await ev.send(ev.payment('lost_client', { id: unique('pay'), amount: 3900, interval: 'month' }));
      assert.equal(await balance(h, 'forgotten_partner', CASH), 1170, 'later payments accrue as usual');
    });

    it('a manual referral without attributed_at is attributed as of when the billing system created the client', async () => {
      await cashPartner('late_partner');
      // The billing system created the client and took four payments last week; Perks hears of all of
      // it only now, the payments (one batch, out of order) before the customer.created.
      const ago = (days: number) => new Date(h.clock.now().getTime() - days * DAY_MS).toISOString();
      const paid = (days: number) => ({
        ...ev.payment('late_client', { id: unique('pay'), amount: 3900, interval: 'month' }),
        occurred_at: ago(days),
      });
      await ev.send([paid(3), paid(6), paid(5), paid(4)]);
      let customer = await h.request('GET', '/v1/customers/late_client');
      assert.equal(customer.body.created_at, ago(6), 'the earliest event that named it');
      await ev.send({ ...ev.customerCreated('late_client'), occurred_at: ago(7) });
      customer = await h.request('GET', '/v1/customers/late_client');
      assert.equal(customer.body.created_at, ago(7), "the customer's creation in the billing system");
      const repaired = await h.request('POST', '/v1/referrals', {
        body: {
          referee: 'late_client',
          source: 'manual',
          program: PROGRAM,
          referrer: 'late_partner',
          reason: 'ticket 4713: the link was lost',
          actor: 'support@example.com',
        },
      });
      assert.equal(repaired.status, 201, JSON.stringify(repaired.body));
      assert.equal(repaired.body.attributed_at, ago(7));
      assert.equal(repaired.body.status, 'rewarded');
      assert.equal(
        await balance(h, 'late_partner', CASH),
        1560,
        'the payments made since its creation accrue',
      );
    });

    it('a manual referral of an already referred client is refused, pointing at reassign', async () => {
      const code = await cashPartner('first_partner');
      await ev.send([
        ev.customerCreated('second_partner'),
        ev.customerCreated('taken_client', { referral_code: code }),
      ]);
      const res = await h.request('POST', '/v1/referrals', {
        body: {
          referee: 'taken_client',
          source: 'manual',
          program: PROGRAM,
          referrer: 'second_partner',
          reason: 'claims it was theirs',
          actor: 'support@example.com',
        },
      });
      assert.equal(res.status, 422);
      assert.equal(res.body.error.code, 'referral_repair_refused');
      assert.match(res.body.error.message, /reassign/);
    });

    it('reassigning moves the rewards to the right partner, and back, never paying twice', async () => {
      const wrongCode = await cashPartner('wrong_partner');
      await cashPartner('right_partner');
      const signup = await ev.send(ev.customerCreated('moved_client', { referral_code: wrongCode }));
      const id = signup.referral.referral;
      h.clock.advance(DAY_MS);
      await ev.send([
        ev.payment('moved_client', { id: unique('pay'), amount: 3900, interval: 'month' }),
        ev.payment('moved_client', { id: unique('pay'), amount: 3900, interval: 'month' }),
      ]);
      assert.equal(await balance(h, 'wrong_partner', CASH), 780);

      const moved = await h.request('POST', `/v1/referrals/${id}/reassign`, {
        body: { referrer: 'right_partner', reason: 'ticket 4712', actor: 'support@example.com' },
      });
      assert.equal(moved.status, 200, JSON.stringify(moved.body));
      assert.equal(await balance(h, 'wrong_partner', CASH), 0, 'reversed where no longer due');
      assert.equal(await balance(h, 'right_partner', CASH), 780, 'granted where now due');
      assert.equal(moved.body.audit_log.at(-1).action, 'referral_reassigned');
      assert.deepEqual(moved.body.audit_log.at(-1).details.to, moved.body.referrer);

      const replay = await h.request('POST', `/v1/referrals/${id}/reassign`, {
        body: { referrer: 'right_partner', reason: 'ticket 4712', actor: 'support@example.com' },
      });
      assert.equal(replay.status, 200);
      assert.equal(await balance(h, 'right_partner', CASH), 780, 'a repeated repair changes nothing');

      const back = await h.request('POST', `/v1/referrals/${id}/reassign`, {
        body: { referrer: 'wrong_partner', reason: 'ticket 4712 was a mistake', actor: 'lead@example.com' },
      });
      assert.equal(back.status, 200);
      assert.equal(await balance(h, 'wrong_partner', CASH), 780);
      assert.equal(await balance(h, 'right_partner', CASH), 0);
      const rightList = await referralsOf(h, 'right_partner');
      assert.equal(rightList.length, 0);
      const wrongList = await referralsOf(h, 'wrong_partner');
      assert.equal(wrongList.length, 1);
    });

    it('a reassignment that breaks a rule is refused and changes nothing', async () => {
      const code = await cashPartner('keeper');
      const signup = await ev.send(ev.customerCreated('self_client', { referral_code: code }));
      const id = signup.referral.referral;
      const referrerBefore = (await referral(h, id)).referrer;
      const self = await h.request('POST', `/v1/referrals/${id}/reassign`, {
        body: { referrer: 'self_client', reason: 'x', actor: 'support@example.com' },
      });
      assert.equal(self.status, 422);
      assert.equal(self.body.error.code, 'referral_repair_refused');
      assert.equal(self.body.error.reason, 'self_referral');
      assert.equal((await referral(h, id)).referrer, referrerBefore, 'the referral did not move');
      const missing = await h.request('POST', '/v1/referrals/ref_nope/reassign', {
        body: { referrer: 'keeper', reason: 'x', actor: 'y' },
      });
      assert.equal(missing.status, 404);
      assert.equal(await balance(h, 'keeper', DAYS), 0);
    });
  });
}
