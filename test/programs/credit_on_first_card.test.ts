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
 * The credit-on-first-card reference program (shared/reference/credit-on-first-card.txt), rule by
 * rule, through the HTTP API and billing events.
 */
const PROGRAM = 'credit-on-first-card';
const CREDIT = 'usd_credit';

for (const store of storeCases()) {
  describe(`credit-on-first-card (${store.name})`, () => {
    let h: Harness;
    let ev: Events;
    before(async () => {
      h = await startHarness(store);
      h.clock.set('2026-03-01T10:00:00Z');
      ev = events(h);
      await fromTemplate(h, PROGRAM);
    });
    after(() => h.close());

    /** A team that signed up and put a card on file, with its referral code. */
    async function referrerWithCode(name: string) {
      await ev.send([ev.customerCreated(name), ev.cardAttached(name, `fp_${name}`)]);
      return codeFor(h, name, PROGRAM);
    }

    it('no code without a card on file: the typed error names the unmet condition', async () => {
      await ev.send(ev.customerCreated('cardless'));
      const res = await h.request('POST', '/v1/customers/cardless/referral_code', {
        body: { program: PROGRAM },
      });
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.equal(res.body.error.code, 'referrer_not_eligible');
      assert.equal(res.body.error.unmet, 'card_on_file');
      await ev.send(ev.cardAttached('cardless', 'fp_cardless'));
      const again = await h.request('POST', '/v1/customers/cardless/referral_code', {
        body: { program: PROGRAM },
      });
      assert.equal(again.status, 201, JSON.stringify(again.body));
      assert.match(again.body.code, /^[2-9A-HJKMNP-Z]{8}$/);
      assert.equal(again.body.link, null, 'the program attributes by code only: no link to share');
      const same = await h.request('POST', '/v1/customers/cardless/referral_code', {
        body: { program: PROGRAM },
      });
      assert.equal(same.status, 200);
      assert.equal(same.body.code, again.body.code, 'one code per customer and program');
    });

    it('.happy a code-only program hands out no link: the code answer and the summary say null, /r/{code} is 404', async () => {
      const code = await referrerWithCode('linkless');
      const answer = await h.request('POST', '/v1/customers/linkless/referral_code', {
        body: { program: PROGRAM },
      });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.code, code);
      assert.equal(answer.body.link, null);
      const summary = await summaryOf(h, 'linkless', PROGRAM);
      assert.equal(summary.code, code);
      assert.equal(summary.link, null);
      // What a link would have been does not work: the program takes no links.
      assert.equal((await h.request('GET', `/r/${code}`, { key: null })).status, 404);
    });

    it('the code entered at the first card attach gives $25 credit to both teams at once', async () => {
      const code = await referrerWithCode('alpha');
      const result = await ev.send([
        ev.customerCreated('beta'),
        ev.cardAttached('beta', 'fp_beta', { referral_code: code.toLowerCase() }),
      ]);
      const attributed = result.data[1].referral;
      assert.equal(attributed.status, 'rewarded', JSON.stringify(result));
      assert.equal(attributed.error, null);
      assert.equal(await balance(h, 'alpha', CREDIT), 2500);
      assert.equal(await balance(h, 'beta', CREDIT), 2500);
      const detail = await referral(h, attributed.referral);
      assert.deepEqual(
        detail.history.map((t: { from: string | null; to: string }) => `${t.from}->${t.to}`),
        ['null->pending', 'pending->qualified', 'qualified->rewarded'],
      );
      assert.deepEqual(
        detail.rewards.map((r: any) => [r.recipient, r.status, r.amount, r.expires_at]),
        [
          ['referrer', 'granted', 2500, null],
          ['referee', 'granted', 2500, null],
        ],
      );
      const summary = await summaryOf(h, 'alpha', PROGRAM);
      assert.equal(summary.code, code);
      assert.equal(summary.referred_customers, 1);
      assert.equal(summary.converted, 1);
      assert.deepEqual(summary.rewards_earned, [{ asset: CREDIT, granted: 2500, reversed: 0, net: 2500 }]);
    });

    it('a replayed event grants nothing twice', async () => {
      const code = await referrerWithCode('gamma');
      const attach = ev.cardAttached('delta', 'fp_delta', { referral_code: code });
      await ev.send([ev.customerCreated('delta'), attach]);
      const replay = await ev.send(attach);
      assert.equal(replay.duplicate, true);
      assert.equal(await balance(h, 'gamma', CREDIT), 2500);
      assert.equal(await balance(h, 'delta', CREDIT), 2500);
    });

    it('a code at a second card attach gives nothing, with the reason recorded', async () => {
      const code = await referrerWithCode('epsilon');
      await ev.send([ev.customerCreated('zeta'), ev.cardAttached('zeta', 'fp_zeta_1')]);
      h.clock.advance(60_000);
      const result = await ev.send(ev.cardAttached('zeta', 'fp_zeta_2', { referral_code: code }));
      assert.equal(result.referral.status, 'rejected');
      assert.equal(result.referral.reason, 'not_first_card');
      assert.equal(await balance(h, 'epsilon', CREDIT), 0);
      assert.equal(await balance(h, 'zeta', CREDIT), 0);
      const [listed] = await referralsOf(h, 'epsilon');
      assert.equal(listed.status, 'rejected');
      assert.equal(listed.reason, 'not_first_card');
    });

    it('a team can be referred only once: a second referral gives nothing', async () => {
      const first = await referrerWithCode('eta');
      const second = await referrerWithCode('theta');
      await ev.send([
        ev.customerCreated('iota'),
        ev.cardAttached('iota', 'fp_iota', { referral_code: first }),
      ]);
      const res = await h.request('POST', '/v1/referrals', { body: { referee: 'iota', code: second } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.status, 'rejected');
      assert.equal(res.body.reason, 'already_referred');
      assert.equal(await balance(h, 'theta', CREDIT), 0);
      assert.equal(await balance(h, 'iota', CREDIT), 2500, 'only the first referral paid');
    });

    it('a team cannot refer itself', async () => {
      const code = await referrerWithCode('kappa');
      const res = await h.request('POST', '/v1/referrals', { body: { referee: 'kappa', code } });
      assert.equal(res.body.status, 'rejected');
      assert.equal(res.body.reason, 'self_referral');
      // A sub-team under the same parent account is the same team.
      await ev.send([
        ev.customerCreated('org'),
        ev.customerCreated('org_a', {}, { parent_customer_id: 'org' }),
        ev.customerCreated('org_b', {}, { parent_customer_id: 'org' }),
        ev.cardAttached('org_a', 'fp_org_a'),
      ]);
      const orgCode = await codeFor(h, 'org_a', PROGRAM);
      const sibling = await ev.send(ev.cardAttached('org_b', 'fp_org_b', { referral_code: orgCode }));
      assert.equal(sibling.referral.reason, 'self_referral');
      assert.equal(await balance(h, 'kappa', CREDIT), 0);
      assert.equal(await balance(h, 'org_a', CREDIT), 0);
    });

    it("the referrer's own card makes it a self-referral", async () => {
      const code = await referrerWithCode('lambda');
      await ev.send(ev.customerCreated('lambda_alt'));
      const result = await ev.send(ev.cardAttached('lambda_alt', 'fp_lambda', { referral_code: code }));
      assert.equal(result.referral.reason, 'self_referral');
      assert.equal(await balance(h, 'lambda_alt', CREDIT), 0);
    });

    it('a card that already backed a referral gives nothing the second time', async () => {
      const code = await referrerWithCode('mu');
      await ev.send([ev.customerCreated('nu'), ev.cardAttached('nu', 'fp_shared', { referral_code: code })]);
      const result = await ev.send([
        ev.customerCreated('xi'),
        ev.cardAttached('xi', 'fp_shared', { referral_code: code }),
      ]);
      assert.equal(result.data[1].referral.status, 'rejected');
      assert.equal(result.data[1].referral.reason, 'card_already_used');
      assert.equal(await balance(h, 'mu', CREDIT), 2500, 'one referral paid, not two');
      assert.equal(await balance(h, 'xi', CREDIT), 0);
      const summary = await summaryOf(h, 'mu', PROGRAM);
      assert.equal(summary.rejected, 1);
      assert.equal(summary.referred_customers, 1);
    });

    it('credits never expire and settle invoices oldest first', async () => {
      const code = await referrerWithCode('omicron');
      await ev.send([ev.customerCreated('pi'), ev.cardAttached('pi', 'fp_pi', { referral_code: code })]);
      h.clock.advance(DAY_MS);
      await ev.send([ev.customerCreated('rho'), ev.cardAttached('rho', 'fp_rho', { referral_code: code })]);
      const detail = await balanceDetail(h, 'omicron', CREDIT);
      assert.equal(detail.available, 5000);
      assert.deepEqual(detail.expiring, [], 'nothing is due to expire');
      h.clock.advance(5 * 365 * DAY_MS);
      assert.equal(await balance(h, 'omicron', CREDIT), 5000, 'still there five years later');
      const rewards = await Promise.all((await referralsOf(h, 'omicron')).map((r) => referral(h, r.id)));
      const grantOf = (ref: any) => ref.rewards.find((r: any) => r.recipient === 'referrer').grant;
      const [newest, oldest] = rewards;
      const settled = await h.request('POST', '/v1/invoices/settle', {
        body: { invoice_id: 'inv_omicron_1', customer: 'omicron', currency: 'usd', subtotal_cents: 3000 },
      });
      assert.equal(settled.status, 200, JSON.stringify(settled.body));
      assert.equal(settled.body.credit_cents, 3000);
      assert.equal(settled.body.amount_due_cents, 0);
      assert.deepEqual(
        settled.body.credits.map((c: any) => [c.grant, c.amount_cents]),
        [
          [grantOf(oldest), 2500],
          [grantOf(newest), 500],
        ],
      );
    });

    it('an existing free-tier team with no card can still use a code', async () => {
      const code = await referrerWithCode('sigma');
      await ev.send(ev.customerCreated('free_team'));
      h.clock.advance(90 * DAY_MS);
      const result = await ev.send(ev.cardAttached('free_team', 'fp_free_team', { referral_code: code }));
      assert.equal(result.referral.status, 'rewarded', JSON.stringify(result));
      assert.equal(await balance(h, 'free_team', CREDIT), 2500);
      assert.equal(await balance(h, 'sigma', CREDIT), 2500);
    });

    it('an unknown code is a typed error on the event, and the card is still attached', async () => {
      await ev.send(ev.customerCreated('tau'));
      const result = await ev.send(ev.cardAttached('tau', 'fp_tau', { referral_code: 'NOPE2345' }));
      assert.equal(result.outcome, 'applied');
      assert.equal(result.referral.error.code, 'referral_code_invalid');
      assert.equal(result.referral.referral, null);
      const malformed = await ev.send(ev.customerCreated('tau_2', { referral_code: '!!' }));
      assert.equal(malformed.referral.error.code, 'referral_code_invalid');
      const tau = await h.request('GET', '/v1/customers/tau');
      assert.equal(tau.body.payment_methods.length, 1, 'the card attached despite the bad code');
      const api = await h.request('POST', '/v1/referrals', { body: { referee: 'tau', code: 'NOPE2345' } });
      assert.equal(api.status, 400);
      assert.equal(api.body.error.code, 'referral_code_invalid');
      assert.equal(api.body.error.param, 'code');
    });

    it('1,000 referrals by one team give $25,000: there is no cap', async () => {
      const { key } = await h.newWorkspace('volume');
      const created = await h.request('POST', '/v1/programs/from_template', {
        key,
        body: { template: PROGRAM },
      });
      assert.equal(created.status, 201);
      await ev.send([ev.customerCreated('big'), ev.cardAttached('big', 'fp_big')], key);
      const code = await codeFor(h, 'big', PROGRAM, key);
      for (let batch = 0; batch < 10; batch++) {
        const list = [];
        for (let i = 0; i < 100; i++) {
          const team = `team_${batch}_${i}`;
          list.push(ev.customerCreated(team), ev.cardAttached(team, `fp_${team}`, { referral_code: code }));
        }
        const result = await ev.send(list, key);
        assert.ok(
          result.data.filter((r: any) => r.referral).every((r: any) => r.referral.status === 'rewarded'),
        );
      }
      assert.equal(await balance(h, 'big', CREDIT, key), 2_500_000);
      const summary = await h.request('GET', `/v1/customers/big/referral_summary?program=${PROGRAM}`, {
        key,
      });
      assert.equal(summary.body.programs[0].referred_customers, 1000);
      assert.equal(summary.body.programs[0].converted, 1000);
      assert.deepEqual(summary.body.programs[0].rewards_earned, [
        { asset: CREDIT, granted: 2_500_000, reversed: 0, net: 2_500_000 },
      ]);
    });
  });
}
