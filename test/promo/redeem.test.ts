import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness } from '../helpers/harness.js';
import { storeCases } from '../helpers/stores.js';
import {
  createCode,
  createCustomer,
  createPromotion,
  errorCode,
  paidSubscription,
  paymentEvent,
  redeem,
  refundEvent,
  sendEvent,
  subscriptionEvent,
  subscriptionPerksId,
  validate,
} from './helpers.js';

const PROMO_TABLES = [
  'promotions',
  'promotion_codes',
  'redemptions',
  'promotion_customer_uses',
  'promotion_slots',
  'promotion_slot_promotions',
];

async function snapshot(h: Harness) {
  const out: Record<string, string[]> = {};
  for (const table of PROMO_TABLES) {
    const rows = await h.db.query(`select * from ${table} where workspace_id = $1`, [h.workspaceId]);
    out[table] = rows.map((r) => JSON.stringify(r)).sort();
  }
  return out;
}

for (const store of storeCases()) {
  describe(`validate and redeem (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store);
      h.clock.set('2026-06-15T12:00:00Z');
    });
    after(() => h.close());

    it('validate previews the discount and writes nothing; redeem records the redemption', async () => {
      const p = await createPromotion(h, {
        percent_off_bps: 2000,
        max_discount_amount: 1000,
        currency: 'usd',
      });
      const code = await createCode(h, { promotion: p.id, code: 'SUMMER24' });
      await createCustomer(h, 'team_val');
      const before = await snapshot(h);
      const v = await validate(h, { code: ' summer-24 ', customer: 'team_val', amount: 2900 });
      assert.equal(v.status, 200);
      assert.equal(v.body.valid, true);
      assert.equal(v.body.code, 'SUMMER24');
      assert.equal(v.body.promotion_code_id, code.id);
      assert.deepEqual(v.body.preview, { amount: 2900, currency: 'usd', amount_off: 580, amount_due: 2320 });
      assert.equal(v.body.discount.periods_total, 1);
      const big = await validate(h, {
        code: 'SUMMER24',
        customer: 'team_val',
        amount: 10_000,
        currency: 'usd',
      });
      assert.equal(big.body.preview.amount_off, 1000, 'the cap holds');
      assert.deepEqual(await snapshot(h), before, 'validate changed nothing');

      const r = await redeem(h, {
        code: 'ｓｕｍｍｅｒ２４',
        customer: 'team_val',
        subscription: 'sub_val',
        metadata: { source: 'checkout' },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.match(r.body.id, /^redm_/);
      assert.equal(r.body.code, 'SUMMER24');
      assert.equal(r.body.subscription, 'sub_val');
      assert.equal(r.body.status, 'active');
      assert.equal(r.body.periods_remaining, 1);
      assert.deepEqual(r.body.metadata, { source: 'checkout' });
      const read = await h.request('GET', `/v1/redemptions/${r.body.id}`);
      assert.deepEqual(read.body, r.body);
      const c = await h.request('GET', `/v1/promotion_codes/${code.id}`);
      assert.equal(c.body.times_redeemed, 1);
      const again = await validate(h, { code: 'SUMMER24', customer: 'team_val' });
      assert.equal(again.body.valid, false);
      assert.equal(again.body.error.code, 'code_already_used_by_customer');
    });

    it('every spelling of a code counts against the same per-customer limit', async () => {
      const p = await createPromotion(h, { percent_off_bps: 1000 });
      await createCode(h, { promotion: p.id, code: 'SAME-CODE' });
      await createCustomer(h, 'team_spell');
      const first = await redeem(h, { code: 'same code', customer: 'team_spell', subscription: 'sub_s1' });
      assert.equal(first.status, 201);
      for (const spelling of ['SAMECODE', 'ｓａｍｅｃｏｄｅ', ' Same-Code ']) {
        const res = await redeem(h, { code: spelling, customer: 'team_spell', subscription: 'sub_s2' });
        assert.equal(res.status, 409, spelling);
        assert.equal(errorCode(res), 'code_already_used_by_customer');
      }
    });

    it('unknown and malformed codes get the same answer', async () => {
      await createCustomer(h, 'team_guess');
      const shapes = ['NOSUCHCODE', 'bad code!', '', 'x'.repeat(500), 'A\u0000B', '🎉'];
      const answers = [];
      for (const code of shapes) {
        const res = await redeem(h, { code, customer: 'team_guess' });
        const { request_id: _, ...error } = res.body.error;
        answers.push({ status: res.status, error });
        const v = await validate(h, { code, customer: 'team_guess' });
        assert.equal(v.status, 200);
        assert.deepEqual(
          { valid: v.body.valid, code: v.body.code, error: v.body.error },
          {
            valid: false,
            code: null,
            error: { code: 'code_invalid', message: 'this code is not valid', param: 'code' },
          },
        );
      }
      for (const a of answers) assert.deepEqual(a, answers[0]);
      assert.equal(answers[0]!.status, 404);
      assert.equal(answers[0]!.error.code, 'code_invalid');
    });

    it('refuses by time: not yet active, then valid, then expired', async () => {
      const p = await createPromotion(h, {
        percent_off_bps: 1000,
        starts_at: '2026-07-01T00:00:00Z',
        expires_at: '2026-08-01T00:00:00Z',
      });
      await createCode(h, { promotion: p.id, code: 'JULY' });
      await createCustomer(h, 'team_time');
      const early = await redeem(h, { code: 'JULY', customer: 'team_time' });
      assert.equal(early.status, 422);
      assert.equal(errorCode(early), 'code_not_yet_active');
      assert.equal(early.body.error.starts_at, '2026-07-01T00:00:00.000Z');
      h.clock.set('2026-08-01T00:00:00Z');
      const late = await redeem(h, { code: 'JULY', customer: 'team_time' });
      assert.equal(errorCode(late), 'code_expired');
      h.clock.set('2026-07-31T23:59:59.999Z');
      assert.equal((await redeem(h, { code: 'JULY', customer: 'team_time' })).status, 201);
      h.clock.set('2026-06-15T12:00:00Z');
    });

    it("a code's own expiry and limit apply on top of its promotion's", async () => {
      const p = await createPromotion(h, { percent_off_bps: 1000 });
      await createCode(h, { promotion: p.id, code: 'SHORTLIVED', expires_at: '2026-06-15T11:00:00Z' });
      await createCode(h, { promotion: p.id, code: 'ONEUSE', max_redemptions: 1 });
      await createCustomer(h, 'team_own_1');
      await createCustomer(h, 'team_own_2');
      assert.equal(
        errorCode(await redeem(h, { code: 'SHORTLIVED', customer: 'team_own_1' })),
        'code_expired',
      );
      assert.equal((await redeem(h, { code: 'ONEUSE', customer: 'team_own_1' })).status, 201);
      const second = await redeem(h, { code: 'ONEUSE', customer: 'team_own_2' });
      assert.equal(second.status, 409);
      assert.equal(errorCode(second), 'code_exhausted');
      assert.equal(second.body.error.max_redemptions, 1);
      assert.equal(second.body.error.message, 'this code has reached its limit of 1 redemption');
    });

    it('takes client_ip in any form of an address, and says what it wants otherwise', async () => {
      const p = await createPromotion(h, { percent_off_bps: 1000 });
      await createCode(h, { promotion: p.id, code: 'IPFORMS' });
      await createCustomer(h, 'team_ip');
      for (const ip of ['203.0.113.7', '::ffff:198.51.100.7', '2001:DB8::1']) {
        const ok = await validate(h, { code: 'IPFORMS', customer: 'team_ip', client_ip: ip });
        assert.equal(ok.status, 200, `${ip}: ${JSON.stringify(ok.body)}`);
      }
      for (const ip of ['not-an-ip', '203.0.113', '1'.repeat(65)]) {
        const bad = await validate(h, { code: 'IPFORMS', customer: 'team_ip', client_ip: ip });
        assert.equal(bad.status, 400, ip);
        assert.equal(bad.body.error.param, 'client_ip');
        assert.match(bad.body.error.message, /^'client_ip': must be an IPv4 or IPv6 address/);
      }
    });

    it("validate's refusal names the same facts as redeem's", async () => {
      h.clock.set('2026-06-15T12:00:00Z');
      const later = await createPromotion(h, { percent_off_bps: 1000, starts_at: '2026-07-01T00:00:00Z' });
      const past = await createPromotion(h, { percent_off_bps: 1000, expires_at: '2026-06-01T00:00:00Z' });
      const open = await createPromotion(h, { percent_off_bps: 1000 });
      const minimum = await createPromotion(h, { amount_off: 500, currency: 'usd', minimum_amount: 3000 });
      const plans = await createPromotion(h, { percent_off_bps: 1000, applies_to: ['team'] });
      await createCode(h, { promotion: later.id, code: 'SAME_LATER' });
      await createCode(h, { promotion: past.id, code: 'SAME_PAST' });
      await createCode(h, { promotion: open.id, code: 'SAME_ONCE', max_redemptions: 1 });
      await createCode(h, { promotion: open.id, code: 'SAME_MINE' });
      await createCode(h, { promotion: minimum.id, code: 'SAME_MIN' });
      await createCode(h, { promotion: plans.id, code: 'SAME_PLAN' });
      await createCustomer(h, 'team_same_1');
      await createCustomer(h, 'team_same_2');
      assert.equal((await redeem(h, { code: 'SAME_ONCE', customer: 'team_same_1' })).status, 201);
      assert.equal((await redeem(h, { code: 'SAME_MINE', customer: 'team_same_2' })).status, 201);
      const cases: [Record<string, unknown>, string, string][] = [
        [{ code: 'SAME_LATER', customer: 'team_same_2' }, 'code_not_yet_active', 'starts_at'],
        [{ code: 'SAME_PAST', customer: 'team_same_2' }, 'code_expired', 'expires_at'],
        [{ code: 'SAME_ONCE', customer: 'team_same_2' }, 'code_exhausted', 'max_redemptions'],
        [{ code: 'SAME_MINE', customer: 'team_same_2' }, 'code_already_used_by_customer', 'max_per_customer'],
        [
          { code: 'SAME_MIN', customer: 'team_same_2', amount: 2000, currency: 'usd' },
          'minimum_not_met',
          'minimum_amount',
        ],
        [{ code: 'SAME_PLAN', customer: 'team_same_2', plan: 'pro' }, 'plan_not_eligible', 'applies_to'],
      ];
      for (const [given, code, fact] of cases) {
        // Each on a subscription of its own, so that none meets the slot another one took.
        const body = { ...given, subscription: `sub_${code}` };
        const v = await validate(h, body);
        const r = await redeem(h, body);
        assert.equal(v.body.valid, false, code);
        const { type: _type, request_id: _id, ...refused } = r.body.error;
        assert.equal(refused.code, code);
        assert.notEqual(refused[fact], undefined, `redeem names ${fact}`);
        assert.deepEqual(v.body.error, refused, code);
      }
    });

    it('one promotion per subscription unless stackable', async () => {
      const a = await createPromotion(h, { percent_off_bps: 1000 });
      const b = await createPromotion(h, { percent_off_bps: 1500 });
      const s1 = await createPromotion(h, { amount_off: 100, currency: 'usd', stackable: true });
      const s2 = await createPromotion(h, { amount_off: 200, currency: 'usd', stackable: true });
      await createCode(h, { promotion: a.id, code: 'EXCL_A' });
      await createCode(h, { promotion: b.id, code: 'EXCL_B' });
      await createCode(h, { promotion: s1.id, code: 'STACK_1' });
      await createCode(h, { promotion: s2.id, code: 'STACK_2' });
      await createCustomer(h, 'team_slot');
      assert.equal(
        (await redeem(h, { code: 'EXCL_A', customer: 'team_slot', subscription: 'sub_x' })).status,
        201,
      );
      const b1 = await redeem(h, { code: 'EXCL_B', customer: 'team_slot', subscription: 'sub_x' });
      assert.equal(b1.status, 409);
      assert.equal(errorCode(b1), 'subscription_already_has_promotion');
      assert.equal(b1.body.error.param, 'subscription');
      assert.equal(
        errorCode(await redeem(h, { code: 'STACK_1', customer: 'team_slot', subscription: 'sub_x' })),
        'subscription_already_has_promotion',
      );
      // Another subscription of the same customer takes its own promotion; stackable ones combine.
      assert.equal(
        (await redeem(h, { code: 'EXCL_B', customer: 'team_slot', subscription: 'sub_y' })).status,
        201,
      );
      assert.equal(
        (await redeem(h, { code: 'STACK_1', customer: 'team_slot', subscription: 'sub_z' })).status,
        201,
      );
      assert.equal(
        (await redeem(h, { code: 'STACK_2', customer: 'team_slot', subscription: 'sub_z' })).status,
        201,
      );
      // Without a subscription the customer's own slot is taken, and a refusal points at the customer.
      await createCustomer(h, 'team_slotless');
      const own = { code: 'EXCL_A', customer: 'team_slotless' };
      assert.equal((await redeem(h, own)).status, 201);
      const taken = await redeem(h, { ...own, code: 'EXCL_B' });
      assert.equal(errorCode(taken), 'subscription_already_has_promotion');
      assert.equal(taken.body.error.param, 'customer');
      assert.match(taken.body.error.message, /this customer already has a promotion waiting/);
      const checked = await validate(h, { ...own, code: 'EXCL_B' });
      assert.equal(checked.body.error.param, 'customer');
    });

    it('a stackable promotion never stacks with itself: one active redemption of it per subscription', async () => {
      // max_per_customer 5 is for five subscriptions (or successive ones), not five times on one.
      const q = await createPromotion(h, {
        name: 'q',
        percent_off_bps: 2500,
        max_per_customer: 5,
        stackable: true,
      });
      await createCode(h, { promotion: q.id, code: 'QUARTER2' });
      const other = await createPromotion(h, { percent_off_bps: 1000, stackable: true });
      await createCode(h, { promotion: other.id, code: 'TENSTACK' });
      await createCustomer(h, 'stk');
      const body = { code: 'QUARTER2', customer: 'stk', subscription: 'stk1' };
      const first = await redeem(h, body);
      assert.equal(first.status, 201, JSON.stringify(first.body));

      const before = await snapshot(h);
      const second = await redeem(h, body);
      assert.equal(second.status, 409, JSON.stringify(second.body));
      assert.equal(errorCode(second), 'subscription_already_has_promotion');
      assert.equal(second.body.error.param, 'subscription');
      assert.match(second.body.error.message, /this subscription already has this promotion/);
      const v = await validate(h, body);
      assert.equal(v.body.valid, false);
      const { type: _type, request_id: _id, ...refused } = second.body.error;
      assert.deepEqual(v.body.error, refused, 'validate answers the same refusal');
      // By its Perks id once a billing event names it, the subscription is the same one.
      await subscriptionEvent(h, 'stk', 'stk1', {
        current_period_start: '2026-06-01T00:00:00Z',
        current_period_end: '2026-07-01T00:00:00Z',
      });
      const byPerksId = await redeem(h, { ...body, subscription: await subscriptionPerksId(h, 'stk1') });
      assert.equal(errorCode(byPerksId), 'subscription_already_has_promotion');
      assert.deepEqual(await snapshot(h), before, 'the refusals wrote nothing');

      // The customer's other subscriptions take it.
      for (const subscription of ['stk2', 'stk3']) {
        const r = await redeem(h, { ...body, subscription });
        assert.equal(r.status, 201, `${subscription}: ${JSON.stringify(r.body)}`);
      }
      // Voided, the first gives back its use and its place: the same subscription takes it again.
      assert.equal((await h.request('POST', `/v1/redemptions/${first.body.id}/void`)).status, 200);
      assert.equal((await validate(h, body)).body.valid, true);
      const again = await redeem(h, body);
      assert.equal(again.status, 201, JSON.stringify(again.body));
      assert.equal(errorCode(await redeem(h, body)), 'subscription_already_has_promotion');

      // Another stackable promotion still combines with it on the subscription.
      h.clock.advance(1000);
      const ten = await redeem(h, { code: 'TENSTACK', customer: 'stk', subscription: 'stk1' });
      assert.equal(ten.status, 201, JSON.stringify(ten.body));
      const settled = await h.request('POST', '/v1/invoices/settle', {
        body: {
          invoice_id: 'in_stk',
          customer: 'stk',
          subscription: 'stk1',
          currency: 'usd',
          subtotal_cents: 1000,
        },
      });
      assert.equal(settled.status, 200, JSON.stringify(settled.body));
      // 25% of 1000, then 10% of the 750 left: each promotion once.
      assert.equal(settled.body.discount_cents, 325);
      assert.deepEqual(
        settled.body.lines
          .filter((l: { type: string }) => l.type === 'discount')
          .map((l: { description: string; amount_cents: number }) => [l.description, l.amount_cents]),
        [
          ['QUARTER2: 25% off (invoice 1 of 1)', 250],
          ['TENSTACK: 10% off (invoice 1 of 1)', 75],
        ],
      );

      // That invoice completed it (duration once): the subscription may take it again, and the
      // customer's uses count up to max_per_customer over all of this.
      assert.equal((await redeem(h, body)).status, 201);
      assert.equal((await redeem(h, { ...body, subscription: 'stk4' })).status, 201);
      assert.equal(
        errorCode(await redeem(h, { ...body, subscription: 'stk5' })),
        'code_already_used_by_customer',
      );
    });

    it('a stackable promotion is held once by a customer without a subscription too', async () => {
      const p = await createPromotion(h, { percent_off_bps: 2500, max_per_customer: 3, stackable: true });
      await createCode(h, { promotion: p.id, code: 'OWNTWICE' });
      await createCustomer(h, 'stk_own');
      assert.equal((await redeem(h, { code: 'OWNTWICE', customer: 'stk_own' })).status, 201);
      const twice = await redeem(h, { code: 'OWNTWICE', customer: 'stk_own' });
      assert.equal(twice.status, 409);
      assert.equal(errorCode(twice), 'subscription_already_has_promotion');
      assert.match(twice.body.error.message, /this customer already has this promotion/);
      const v = await validate(h, { code: 'OWNTWICE', customer: 'stk_own' });
      assert.equal(v.body.error.code, 'subscription_already_has_promotion');
      // A subscription of the same customer is a place of its own.
      assert.equal(
        (await redeem(h, { code: 'OWNTWICE', customer: 'stk_own', subscription: 'stk_own_1' })).status,
        201,
      );
    });

    it("a subscription named by its Perks id is checked and slotted as by the caller's id", async () => {
      const a = await createPromotion(h, { percent_off_bps: 1000 });
      const b = await createPromotion(h, { percent_off_bps: 1500 });
      await createCode(h, { promotion: a.id, code: 'REF_A' });
      await createCode(h, { promotion: b.id, code: 'REF_B' });
      const c = await createPromotion(h, { percent_off_bps: 2000 });
      await createCode(h, { promotion: c.id, code: 'REF_C' });
      await createCustomer(h, 'team_ref');
      await createCustomer(h, 'team_ref_other');
      const period = {
        current_period_start: '2026-06-01T00:00:00Z',
        current_period_end: '2026-07-01T00:00:00Z',
      };
      await subscriptionEvent(h, 'team_ref', 'sub_ref_1', period);
      await subscriptionEvent(h, 'team_ref', 'sub_ref_2', period);
      const perksId1 = await subscriptionPerksId(h, 'sub_ref_1');
      const perksId2 = await subscriptionPerksId(h, 'sub_ref_2');

      assert.equal(
        (await redeem(h, { code: 'REF_A', customer: 'team_ref', subscription: 'sub_ref_1' })).status,
        201,
      );
      const before = await snapshot(h);
      const taken = await redeem(h, { code: 'REF_B', customer: 'team_ref', subscription: perksId1 });
      assert.equal(taken.status, 409);
      assert.equal(errorCode(taken), 'subscription_already_has_promotion');
      const preview = await validate(h, { code: 'REF_B', customer: 'team_ref', subscription: perksId1 });
      assert.equal(preview.body.valid, false);
      assert.equal(preview.body.error.code, 'subscription_already_has_promotion');
      const foreign = await redeem(h, { code: 'REF_B', customer: 'team_ref_other', subscription: perksId2 });
      assert.equal(foreign.status, 400);
      assert.match(foreign.body.error.message, /belongs to another customer/);
      assert.deepEqual(await snapshot(h), before, 'nothing was written');

      // Taken by the Perks id, the slot is the caller's id's: the redemption names it, and the same
      // subscription named by the caller's id is then full.
      const byPerksId = await redeem(h, { code: 'REF_B', customer: 'team_ref', subscription: perksId2 });
      assert.equal(byPerksId.status, 201);
      assert.equal(byPerksId.body.subscription, 'sub_ref_2');
      assert.equal(
        errorCode(await redeem(h, { code: 'REF_C', customer: 'team_ref', subscription: 'sub_ref_2' })),
        'subscription_already_has_promotion',
      );
      // Listed by either id.
      for (const subscription of ['sub_ref_2', perksId2]) {
        const listed = await h.request('GET', `/v1/redemptions?subscription=${subscription}`);
        assert.equal(listed.status, 200, JSON.stringify(listed.body));
        assert.deepEqual(
          listed.body.data.map((r: { id: string }) => r.id),
          [byPerksId.body.id],
          subscription,
        );
      }
    });

    it('a refunded payment still counts: not first-time, and its paid period still defers the discount', async () => {
      const first = await createPromotion(h, { percent_off_bps: 5000, first_time_only: true });
      const later = await createPromotion(h, { percent_off_bps: 1000, stackable: true });
      await createCode(h, { promotion: first.id, code: 'REFUND_WELCOME' });
      await createCode(h, { promotion: later.id, code: 'REFUND_LATER' });
      await createCustomer(h, 'team_refund');
      const period = { start: '2026-06-01T00:00:00Z', end: '2026-07-01T00:00:00Z' };
      await subscriptionEvent(h, 'team_refund', 'sub_refund', {
        current_period_start: period.start,
        current_period_end: period.end,
      });
      const payment = `pay_refund_${process.pid}`;
      await paymentEvent(h, 'team_refund', {
        id: payment,
        subscription: 'sub_refund',
        period_start: period.start,
        period_end: period.end,
        occurred_at: '2026-06-01T00:05:00Z',
      });
      await refundEvent(h, 'team_refund', payment, {
        amount_refunded: 100,
        occurred_at: '2026-06-02T00:00:00Z',
      });

      const notFirst = await validate(h, { code: 'REFUND_WELCOME', customer: 'team_refund' });
      assert.equal(
        notFirst.body.error.code,
        'not_first_time',
        'a partial refund leaves the customer a payer',
      );
      const deferred = await validate(h, {
        code: 'REFUND_LATER',
        customer: 'team_refund',
        subscription: 'sub_refund',
      });
      assert.equal(deferred.body.valid, true);
      assert.equal(
        deferred.body.discount.applies_from,
        '2026-07-01T00:00:00.000Z',
        'the period is still paid',
      );

      // Refunded in full: still a customer who paid once, but the period is no longer paid.
      await refundEvent(h, 'team_refund', payment, { occurred_at: '2026-06-03T00:00:00Z' });
      assert.equal(
        (await validate(h, { code: 'REFUND_WELCOME', customer: 'team_refund' })).body.error.code,
        'not_first_time',
      );
      const unpaid = await validate(h, {
        code: 'REFUND_LATER',
        customer: 'team_refund',
        subscription: 'sub_refund',
      });
      assert.equal(unpaid.body.discount.applies_from, null);
      // Disputed after the full refund (status only moves forward): still not paid.
      await sendEvent(h, {
        id: `evt_dispute_${process.pid}`,
        type: 'payment.disputed',
        occurred_at: '2026-06-04T00:00:00Z',
        data: { customer: 'team_refund', payment: { id: payment } },
      });
      const disputed = await validate(h, {
        code: 'REFUND_LATER',
        customer: 'team_refund',
        subscription: 'sub_refund',
      });
      assert.equal(disputed.body.discount.applies_from, null);
    });

    it('eligibility: first-time only, plans, minimum amount, currency, bound customer', async () => {
      const first = await createPromotion(h, { percent_off_bps: 5000, first_time_only: true });
      const plans = await createPromotion(h, { percent_off_bps: 1000, applies_to: ['team'] });
      const minimum = await createPromotion(h, { amount_off: 500, currency: 'usd', minimum_amount: 3000 });
      await createCode(h, { promotion: first.id, code: 'WELCOME' });
      await createCode(h, { promotion: plans.id, code: 'TEAMONLY' });
      await createCode(h, { promotion: minimum.id, code: 'BIGSPENDER' });
      await createCustomer(h, 'team_paid');
      await createCustomer(h, 'team_new');
      await subscriptionEvent(h, 'team_paid', 'sub_paid', {
        plan_id: 'pro',
        amount: 2900,
        current_period_start: '2026-06-01T00:00:00Z',
        current_period_end: '2026-07-01T00:00:00Z',
      });
      await paymentEvent(h, 'team_paid', { occurred_at: '2026-06-01T00:00:00Z' });

      const notFirst = await redeem(h, { code: 'WELCOME', customer: 'team_paid' });
      assert.equal(notFirst.status, 422);
      assert.equal(errorCode(notFirst), 'not_first_time');
      assert.equal((await validate(h, { code: 'WELCOME', customer: 'team_new' })).body.valid, true);

      const planFromSubscription = await redeem(h, {
        code: 'TEAMONLY',
        customer: 'team_paid',
        subscription: 'sub_paid',
      });
      assert.equal(errorCode(planFromSubscription), 'plan_not_eligible');
      assert.deepEqual(planFromSubscription.body.error.applies_to, ['team']);
      assert.equal(
        errorCode(await validate(h, { code: 'TEAMONLY', customer: 'team_new' })) ??
          (await validate(h, { code: 'TEAMONLY', customer: 'team_new' })).body.error.code,
        'plan_not_eligible',
      );
      assert.equal(
        (await validate(h, { code: 'TEAMONLY', customer: 'team_new', plan: 'team' })).body.valid,
        true,
      );

      const below = await redeem(h, { code: 'BIGSPENDER', customer: 'team_paid', subscription: 'sub_paid' });
      assert.equal(errorCode(below), 'minimum_not_met', 'the subscription amount 2900 is below 3000');
      assert.equal(below.body.error.minimum_amount, 3000);
      const eur = await validate(h, {
        code: 'BIGSPENDER',
        customer: 'team_new',
        amount: 5000,
        currency: 'eur',
      });
      assert.equal(eur.body.error.code, 'promotion_currency_mismatch');
      assert.equal(
        (await validate(h, { code: 'BIGSPENDER', customer: 'team_new', amount: 3000, currency: 'usd' })).body
          .valid,
        true,
      );

      const vip = await createPromotion(h, { percent_off_bps: 3000 });
      await createCode(h, { promotion: vip.id, code: 'FORNEW', customer: 'team_new' });
      const other = await redeem(h, { code: 'FORNEW', customer: 'team_paid' });
      assert.equal(errorCode(other), 'code_bound_to_other_customer');
      assert.equal((await redeem(h, { code: 'FORNEW', customer: 'team_new' })).status, 201);
    });

    it('a code redeemed after the current period was paid applies from the next period', async () => {
      const p = await createPromotion(h, { percent_off_bps: 1000 });
      await createCode(h, { promotion: p.id, code: 'NEXTDEBIT' });
      await paidSubscription(h, 'team_next', 'sub_next', {
        start: '2026-06-01T00:00:00Z',
        end: '2026-07-01T00:00:00Z',
      });
      const v = await validate(h, { code: 'NEXTDEBIT', customer: 'team_next', subscription: 'sub_next' });
      assert.equal(v.body.discount.applies_from, '2026-07-01T00:00:00.000Z');
      const r = await redeem(h, { code: 'NEXTDEBIT', customer: 'team_next', subscription: 'sub_next' });
      assert.equal(r.body.applies_from, '2026-07-01T00:00:00.000Z');

      // An unpaid current period is discounted by the next invoice: no applies_from.
      await createCustomer(h, 'team_unpaid');
      await subscriptionEvent(h, 'team_unpaid', 'sub_unpaid', {
        current_period_start: '2026-06-01T00:00:00Z',
        current_period_end: '2026-07-01T00:00:00Z',
      });
      await createCode(h, { promotion: p.id, code: 'NEXTDEBIT2' });
      const unpaid = await redeem(h, {
        code: 'NEXTDEBIT2',
        customer: 'team_unpaid',
        subscription: 'sub_unpaid',
      });
      assert.equal(unpaid.body.applies_from, null);
    });

    it("refuses another customer's subscription and an unknown customer", async () => {
      const p = await createPromotion(h, { percent_off_bps: 1000 });
      await createCode(h, { promotion: p.id, code: 'MINE' });
      await createCustomer(h, 'team_owner');
      await createCustomer(h, 'team_thief');
      await subscriptionEvent(h, 'team_owner', 'sub_owned', {
        current_period_start: '2026-06-01T00:00:00Z',
        current_period_end: '2026-07-01T00:00:00Z',
      });
      const res = await redeem(h, { code: 'MINE', customer: 'team_thief', subscription: 'sub_owned' });
      assert.equal(res.status, 400);
      assert.equal(res.body.error.param, 'subscription');
      const nobody = await redeem(h, { code: 'MINE', customer: 'nobody' });
      assert.equal(nobody.status, 404);
      assert.equal(nobody.body.error.param, 'customer');
    });

    it('is idempotent with an Idempotency-Key', async () => {
      const p = await createPromotion(h, { percent_off_bps: 1000 });
      await createCode(h, { promotion: p.id, code: 'RETRYME' });
      await createCustomer(h, 'team_retry');
      const body = { code: 'RETRYME', customer: 'team_retry', subscription: 'sub_retry' };
      const headers = { 'idempotency-key': 'redeem-retry-1' };
      const first = await redeem(h, body, headers);
      const second = await redeem(h, body, headers);
      assert.equal(first.status, 201);
      assert.equal(second.status, 201);
      assert.equal(second.headers['idempotent-replayed'], 'true');
      assert.deepEqual(second.body, first.body);
      const list = await h.request('GET', '/v1/redemptions?customer=team_retry');
      assert.equal(list.body.data.length, 1);
      const changed = await redeem(h, { ...body, subscription: 'sub_other' }, headers);
      assert.equal(changed.status, 409);
      assert.equal(changed.body.error.code, 'idempotency_key_reused');
    });

    it('void gives the use back, is idempotent, and lets the customer redeem again', async () => {
      const p = await createPromotion(h, { percent_off_bps: 1000, max_redemptions: 1 });
      const code = await createCode(h, { promotion: p.id, code: 'GIVEBACK', max_redemptions: 1 });
      await createCustomer(h, 'team_void');
      await createCustomer(h, 'team_void_2');
      const r = await redeem(h, { code: 'GIVEBACK', customer: 'team_void', subscription: 'sub_void' });
      assert.equal(r.status, 201);
      assert.equal(
        errorCode(await redeem(h, { code: 'GIVEBACK', customer: 'team_void_2' })),
        'code_exhausted',
      );
      // Void takes no body: a field sent (a reason, say) is refused, not dropped, and voids nothing.
      const withReason = await h.request('POST', `/v1/redemptions/${r.body.id}/void`, {
        body: { reason: 'fraud' },
      });
      assert.equal(withReason.status, 400, JSON.stringify(withReason.body));
      assert.equal(withReason.body.error.code, 'parameter_unknown');
      assert.equal(withReason.body.error.param, 'reason');
      assert.equal((await h.request('GET', `/v1/redemptions/${r.body.id}`)).body.status, 'active');
      h.clock.advance(1000);
      const v1 = await h.request('POST', `/v1/redemptions/${r.body.id}/void`);
      assert.equal(v1.status, 200);
      assert.equal(v1.body.status, 'voided');
      assert.equal(v1.body.periods_remaining, 0, 'a voided redemption discounts nothing more');
      h.clock.advance(1000);
      const v2 = await h.request('POST', `/v1/redemptions/${r.body.id}/void`);
      assert.deepEqual(v2.body, v1.body, 'voiding again changes nothing');
      assert.equal((await h.request('GET', `/v1/promotion_codes/${code.id}`)).body.times_redeemed, 0);
      assert.equal((await h.request('GET', `/v1/promotions/${p.id}`)).body.times_redeemed, 0);
      // The use is back for the customer, the code, the promotion and the subscription.
      const again = await redeem(h, { code: 'GIVEBACK', customer: 'team_void', subscription: 'sub_void' });
      assert.equal(again.status, 201, JSON.stringify(again.body));
      const missing = await h.request('POST', '/v1/redemptions/redm_nope/void');
      assert.equal(missing.status, 404);
    });

    it('the database keeps redemptions append-only: only voided_at (once) and completed_at change', async () => {
      const p = await createPromotion(h, { percent_off_bps: 1000 });
      await createCode(h, { promotion: p.id, code: 'APPENDONLY' });
      await createCustomer(h, 'team_append');
      const r = await redeem(h, { code: 'APPENDONLY', customer: 'team_append', subscription: 'sub_append' });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const ws = h.workspaceId;
      const id = r.body.id as string;
      const binding = () =>
        h.db.query(
          `select promotion_id, promotion_code_id, code, customer_id, subscription_id, slot_key, stackable,
             periods_total, applies_from, metadata, redeemed_at from redemptions where workspace_id = $1 and id = $2`,
          [ws, id],
        );
      const before = await binding();
      assert.equal(before.length, 1);
      for (const [sql, params] of [
        ['update redemptions set customer_id = customer_id || $3 where workspace_id = $1 and id = $2', ['x']],
        ['update redemptions set periods_total = 12 where workspace_id = $1 and id = $2', []],
        [`update redemptions set metadata = '{"a":"b"}' where workspace_id = $1 and id = $2`, []],
        ['update redemptions set redeemed_at = now() where workspace_id = $1 and id = $2', []],
        ['delete from redemptions where workspace_id = $1 and id = $2', []],
      ] as const) {
        await assert.rejects(h.db.query(sql, [ws, id, ...params]), /append-only|only voided_at/, sql);
      }
      await assert.rejects(h.db.query('truncate redemptions cascade'), /append-only/);
      // What the engine itself changes still works: completing, reopening, voiding.
      await h.db.query('update redemptions set completed_at = now() where workspace_id = $1 and id = $2', [
        ws,
        id,
      ]);
      await h.db.query('update redemptions set completed_at = null where workspace_id = $1 and id = $2', [
        ws,
        id,
      ]);
      const voided = await h.request('POST', `/v1/redemptions/${id}/void`);
      assert.equal(voided.status, 200, JSON.stringify(voided.body));
      await assert.rejects(
        h.db.query('update redemptions set voided_at = null where workspace_id = $1 and id = $2', [ws, id]),
        /a void is final/,
      );
      assert.deepEqual(await binding(), before, 'the binding is as it was written');
    });

    it('lists redemptions with filters', async () => {
      const { key } = await h.newWorkspace('redemption-list');
      const p = await createPromotion(
        h,
        { percent_off_bps: 1000, max_per_customer: 5, stackable: true },
        key,
      );
      const code = await createCode(h, { promotion: p.id, code: 'LISTME' }, key);
      await createCustomer(h, 'lister', key);
      await createCustomer(h, 'other', key);
      const ids: string[] = [];
      for (const [customer, subscription] of [
        ['lister', 'sub_l1'],
        ['lister', 'sub_l2'],
        ['other', 'sub_o1'],
      ] as const) {
        const r = await h.request('POST', '/v1/promotion_codes/redeem', {
          key,
          body: { code: 'LISTME', customer, subscription },
        });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        ids.push(r.body.id);
      }
      await h.request('POST', `/v1/redemptions/${ids[0]}/void`, { key });
      const q = async (query: string) =>
        (await h.request('GET', `/v1/redemptions?${query}`, { key })).body.data.map(
          (r: { id: string }) => r.id,
        );
      assert.deepEqual(await q('customer=lister'), [ids[1], ids[0]]);
      assert.deepEqual(await q('subscription=sub_o1'), [ids[2]]);
      assert.deepEqual(await q('status=voided'), [ids[0]]);
      assert.deepEqual(await q('status=active'), [ids[2], ids[1]]);
      assert.deepEqual(await q(`promotion=${p.id}&limit=1`), [ids[2]]);
      assert.deepEqual(await q(`promotion_code=${code.id}&starting_after=${ids[2]}`), [ids[1], ids[0]]);
      const bad = await h.request('GET', '/v1/redemptions?status=used', { key });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.param, 'status');
      assert.equal(bad.body.error.message, "'status': must be one of: active, completed, voided");
    });
  });
}
