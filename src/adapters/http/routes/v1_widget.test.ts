import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ERROR_CODES } from '../../../core/errors.js';
import { HTTP_ERRORS } from '../errors.js';
import { anyJson, assertProperty, queryString, rawBody } from '../../../../test/helpers/fuzz.js';
import { type Harness, startHarness } from '../../../../test/helpers/harness.js';
import { storeCases } from '../../../../test/helpers/stores.js';
import { type Events, events, fromTemplate, unique } from '../../../../test/programs/helpers.js';

/**
 * The widget endpoints, driven as the embedded widget drives them: with a customer token minted by
 * the product's backend, for the three reference programs.
 */

for (const store of storeCases()) {
  describe(`widget endpoints (${store.name})`, () => {
    let h: Harness;
    let ev: Events;
    before(async () => {
      h = await startHarness(store);
      h.clock.set('2026-03-01T10:00:00Z');
      ev = events(h);
      for (const template of ['credit-on-first-card', 'bonus-minutes', 'free-days-or-commission']) {
        await fromTemplate(h, template);
      }
    });
    after(() => h.close());

    const tokenFor = async (customer: string, key?: string) => {
      const res = await h.request('POST', '/v1/customer_tokens', {
        body: { customer, ttl_seconds: 3600 },
        ...(key ? { key } : {}),
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.token as string;
    };
    const panel = async (token: string, program: string) => {
      const res = await h.request('GET', `/v1/widget/referral?program=${program}`, { key: token });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    };
    const count = async (table: string) =>
      (await h.db.query<{ n: number }>(`select count(*)::int as n from ${table}`))[0]!.n;

    it('happy: credit-on-first-card: no code without a card, then a code, a referral and "$25 in credits"', async () => {
      const team = unique('team');
      await ev.send(ev.customerCreated(team));
      const token = await tokenFor(team);
      const codesBefore = await count('referral_codes');
      const ineligible = await panel(token, 'credit-on-first-card');
      assert.equal(ineligible.eligible, false);
      assert.deepEqual(ineligible.eligibility, {
        unmet: 'card_on_file',
        message: 'Add a card to get your referral code.',
      });
      assert.equal(ineligible.code, null);
      assert.equal(ineligible.link, null);
      assert.equal(ineligible.program.name, 'Give $25, get $25');
      assert.equal(await count('referral_codes'), codesBefore, 'no code was made for an ineligible customer');

      await ev.send(ev.cardAttached(team, unique('fp')));
      const eligible = await panel(token, 'credit-on-first-card');
      assert.equal(eligible.eligible, true);
      assert.equal(eligible.eligibility, null);
      assert.match(eligible.code, /^[A-Z0-9]{8}$/);
      assert.equal(eligible.link, null, 'the program attributes by code only: no link to share');
      assert.deepEqual(eligible.referrals, { invited: 0, converted: 0, pending: 0 });
      assert.deepEqual(eligible.rewards, []);
      assert.equal(
        (await panel(token, 'credit-on-first-card')).code,
        eligible.code,
        'the same code on every read',
      );

      const friend = unique('friend');
      await ev.send([
        ev.customerCreated(friend),
        ev.cardAttached(friend, unique('fp'), { referral_code: eligible.code }),
      ]);
      const after = await panel(token, 'credit-on-first-card');
      assert.deepEqual(after.referrals, { invited: 1, converted: 1, pending: 0 });
      assert.equal(after.rewards.length, 1);
      assert.equal(after.rewards[0].asset, 'usd_credit');
      assert.equal(after.rewards[0].amount, 2500);
      assert.equal(after.rewards[0].text, '$25 in credits');
      assert.deepEqual(after.rewards[0].expiring, [], 'these credits never expire');
      assert.deepEqual(after.commission, []);
    });

    it('happy: bonus-minutes: a subscriber gets a link; the rewards read "90 bonus minutes" with their expiry', async () => {
      const host = unique('host');
      await ev.send(ev.customerCreated(host));
      const token = await tokenFor(host);
      const free = await panel(token, 'bonus-minutes');
      assert.equal(free.eligibility.message, 'Subscribe to a paid plan to get your referral link.');
      await ev.send(ev.subscription(host, { id: unique('sub'), plan_units: 360, amount: 2900 }));
      const subscribed = await panel(token, 'bonus-minutes');
      assert.ok(subscribed.code);
      assert.equal(subscribed.link, `http://localhost:80/r/${subscribed.code}`);
      const friend = unique('friend');
      await ev.send(ev.customerCreated(friend, { referral_code: subscribed.code }));
      await ev.send(ev.subscription(friend, { id: unique('sub'), plan_units: 360, amount: 2900 }));
      const rewarded = await panel(token, 'bonus-minutes');
      assert.deepEqual(rewarded.referrals, { invited: 1, converted: 1, pending: 0 });
      assert.equal(rewarded.rewards[0].text, '90 bonus minutes');
      assert.deepEqual(rewarded.rewards[0].expiring, [
        { amount: 90, text: '90 bonus minutes', expires_at: '2026-04-01T10:00:00.000Z' },
      ]);
    });

    it('happy: free-days-or-commission: "12 free days" on the free-days option', async () => {
      const partner = unique('partner');
      await ev.send(ev.customerCreated(partner));
      const token = await tokenFor(partner);
      const { code } = await panel(token, 'free-days-or-commission');
      const client = unique('client');
      await ev.send(ev.customerCreated(client, { referral_code: code }));
      for (let i = 0; i < 4; i++) {
        await ev.send(ev.payment(client, { id: unique('pay'), amount: 3900, interval: 'month' }));
      }
      const read = await panel(token, 'free-days-or-commission');
      assert.deepEqual(read.option, { key: 'free_days', name: 'Free days' });
      assert.equal(read.rewards[0].text, '12 free days');
      assert.deepEqual(read.commission, [], 'the free-days option pays no commission');
    });

    describe('commission withdrawal', () => {
      let partner: string;
      let client: string;
      let token: string;
      before(async () => {
        partner = unique('partner');
        client = unique('client');
        await ev.send(ev.customerCreated(partner));
        token = await tokenFor(partner);
        const { code } = await panel(token, 'free-days-or-commission');
        await ev.send(ev.customerCreated(client, { referral_code: code }));
        const chose = await h.request('POST', `/v1/customers/${partner}/referral_option`, {
          body: { program: 'free-days-or-commission', option: 'cash' },
        });
        assert.equal(chose.status, 200, JSON.stringify(chose.body));
        const signed = await h.request('POST', `/v1/customers/${partner}/contract`, { body: {} });
        assert.equal(signed.status, 201, JSON.stringify(signed.body));
        h.clock.advance(60_000);
        await ev.send(ev.payment(client, { id: unique('pay'), amount: 3900, interval: 'month' }));
      });

      it('error: below the $20 minimum the button is off and a request is refused with the minimum, writing nothing', async () => {
        const read = await panel(token, 'free-days-or-commission');
        assert.equal(read.commission.length, 1);
        const c = read.commission[0];
        assert.equal(c.asset, 'usd_commission');
        assert.equal(c.available, 390);
        assert.equal(c.available_text, '$3.90');
        assert.equal(c.minimum, 2000);
        assert.equal(c.minimum_text, '$20');
        assert.equal(c.can_withdraw, false);
        assert.equal(c.message, 'Withdrawals open at $20; you have $3.90.');
        assert.equal(read.rewards[0].text, '$3.90 in commission');
        const payouts = await count('ledger_payouts');
        const res = await h.request('POST', '/v1/widget/payouts', {
          key: token,
          body: { program: 'free-days-or-commission' },
        });
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.error.code, 'payout_below_minimum');
        assert.equal(res.body.error.minimum, 2000);
        assert.equal(await count('ledger_payouts'), payouts);
      });

      it('happy: above the minimum the button is on; withdrawing holds everything for the operator', async () => {
        await ev.send(ev.payment(client, { id: unique('pay'), amount: 39000, interval: 'year' }));
        const read = await panel(token, 'free-days-or-commission');
        const c = read.commission[0];
        assert.equal(c.available, 4290);
        assert.equal(c.can_withdraw, true);
        assert.equal(c.message, 'You can withdraw $42.90.');
        const res = await h.request('POST', '/v1/widget/payouts', {
          key: token,
          body: { program: 'free-days-or-commission' },
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.equal(res.body.amount, 4290);
        assert.equal(res.body.status, 'pending');
        assert.equal(res.body.lots, undefined, 'the customer sees no ledger internals');
        const operator = await h.request('GET', `/v1/payouts/${res.body.id}`);
        assert.equal(operator.status, 200);
        assert.equal(operator.body.customer, read.customer);
        assert.equal(operator.body.metadata.source, 'referral_widget');
        const after = (await panel(token, 'free-days-or-commission')).commission[0];
        assert.deepEqual([after.available, after.held, after.can_withdraw], [0, 4290, false]);
        assert.equal(after.message, 'Nothing to withdraw yet. Withdrawals open at $20.');
        const again = await h.request('POST', '/v1/widget/payouts', {
          key: token,
          body: { program: 'free-days-or-commission' },
        });
        assert.equal(again.status, 409);
        assert.equal(again.body.error.code, 'insufficient_balance');
      });

      it('happy: withdrawing everything leaves out commission already past its expiry, not yet swept', async () => {
        const grant = (amount: number, expires: Record<string, string>) =>
          h.request('POST', `/v1/customers/${partner}/grants`, {
            body: {
              asset: 'usd_commission',
              amount,
              expires,
              reference: unique('grant'),
              source: { type: 'manual', actor: 'support@example.com' },
              reason: 'a test of unswept expiry',
            },
          });
        const soon = await grant(2500, { type: 'after', duration: 'PT5M' });
        assert.equal(soon.status, 201, JSON.stringify(soon.body));
        assert.equal((await grant(3000, { type: 'never' })).status, 201);
        h.clock.advance(6 * 60_000);
        const res = await h.request('POST', '/v1/widget/payouts', {
          key: token,
          body: { program: 'free-days-or-commission' },
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.equal(res.body.amount, 3000);
      });

      it('error: a program without commission, or another asset, is refused', async () => {
        const none = await h.request('POST', '/v1/widget/payouts', {
          key: token,
          body: { program: 'credit-on-first-card' },
        });
        assert.equal(none.status, 400);
        assert.equal(none.body.error.code, 'parameter_invalid');
        assert.equal(none.body.error.param, 'program');
        const other = await h.request('POST', '/v1/widget/payouts', {
          key: token,
          body: { program: 'free-days-or-commission', asset: 'service_days' },
        });
        assert.equal(other.status, 400);
        assert.equal(other.body.error.param, 'asset');
      });
    });

    it("security: one customer's Idempotency-Key never replays another customer's answer", async () => {
      const makePartner = async () => {
        const partner = unique('partner');
        const client = unique('client');
        await ev.send(ev.customerCreated(partner));
        const token = await tokenFor(partner);
        const { code } = await panel(token, 'free-days-or-commission');
        await ev.send(ev.customerCreated(client, { referral_code: code }));
        await h.request('POST', `/v1/customers/${partner}/referral_option`, {
          body: { program: 'free-days-or-commission', option: 'cash' },
        });
        await h.request('POST', `/v1/customers/${partner}/contract`, { body: {} });
        h.clock.advance(60_000);
        await ev.send(ev.payment(client, { id: unique('pay'), amount: 39000, interval: 'year' }));
        return token;
      };
      const [first, second] = [await makePartner(), await makePartner()];
      const withdraw = (token: string) =>
        h.request('POST', '/v1/widget/payouts', {
          key: token,
          body: { program: 'free-days-or-commission' },
          headers: { 'idempotency-key': 'same-key' },
        });
      const a = await withdraw(first);
      assert.equal(a.status, 201, JSON.stringify(a.body));
      const replay = await withdraw(first);
      assert.equal(replay.status, 201);
      assert.equal(replay.body.id, a.body.id, 'the same customer gets its own answer again');
      const b = await withdraw(second);
      assert.equal(b.status, 409, JSON.stringify(b.body));
      assert.equal(b.body.error.code, 'idempotency_key_reused');
      assert.ok(!JSON.stringify(b.body).includes(a.body.id));
    });

    it('error: the program is required and must exist', async () => {
      const team = unique('team');
      await ev.send(ev.customerCreated(team));
      const token = await tokenFor(team);
      const missing = await h.request('GET', '/v1/widget/referral', { key: token });
      assert.equal(missing.status, 400);
      assert.equal(missing.body.error.code, 'parameter_missing');
      const unknown = await h.request('GET', '/v1/widget/referral?program=nope', { key: token });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, 'resource_not_found');
    });

    it('security: random queries and bodies with a valid token never answer 5xx, always a typed error', async () => {
      // The shared fuzz suite holds no customer token, so it only reaches these routes' 401s.
      const partner = unique('fuzzed');
      await ev.send(ev.customerCreated(partner));
      const token = await tokenFor(partner);
      const doc = (await h.request('GET', '/v1/openapi.json')).body;
      const params = (path: string) =>
        (doc.paths[path].get?.parameters ?? []).map((p: any) => ({ name: p.name, schema: p.schema ?? {} }));
      const check = (res: { status: number; body: any }, what: string) => {
        assert.ok(res.status < 500, `${res.status} for ${what}: ${JSON.stringify(res.body)}`);
        if (res.status < 400) return;
        const code = res.body?.error?.code;
        assert.ok(ERROR_CODES.includes(code), `unknown code ${code} for ${what}`);
        assert.equal(res.status, HTTP_ERRORS[code as keyof typeof HTTP_ERRORS].status, what);
      };
      await assertProperty(
        fc.asyncProperty(
          fc.oneof(
            queryString(params('/v1/widget/referral'), doc),
            fc.constantFrom('program=free-days-or-commission'),
          ),
          async (query) => {
            const res = await h.request('GET', `/v1/widget/referral?${query}`, { key: token });
            check(res, `GET ?${query}`);
          },
        ),
        { numRuns: 150 },
      );
      await assertProperty(
        fc.asyncProperty(
          rawBody(
            fc.oneof(
              anyJson,
              fc.record(
                {
                  program: fc.constantFrom('free-days-or-commission', 'bonus-minutes', 'nope'),
                  asset: fc.string(),
                  amount: anyJson,
                },
                { requiredKeys: ['program'] },
              ),
            ),
          ),
          async (body) => {
            const res = await h.request('POST', '/v1/widget/payouts', { key: token, rawBody: body });
            check(res, `POST ${body.slice(0, 200)}`);
            assert.notEqual(res.status, 201, 'the customer has no commission to withdraw');
          },
        ),
        { numRuns: 150 },
      );
    });

    it('happy: CORS is open to any origin on the widget endpoints only, without credentials', async () => {
      const origin = 'https://app.example.com';
      const preflight = await h.app.inject({
        method: 'OPTIONS',
        url: '/v1/widget/referral?program=bonus-minutes',
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
      assert.equal(preflight.statusCode, 204);
      assert.equal(preflight.headers['access-control-allow-origin'], '*');
      assert.match(String(preflight.headers['access-control-allow-headers']), /authorization/);
      assert.match(String(preflight.headers['access-control-allow-methods']), /POST/);
      assert.equal(preflight.headers['access-control-allow-credentials'], undefined);

      const refused = await h.app.inject({
        method: 'GET',
        url: '/v1/widget/referral?program=bonus-minutes',
        headers: { origin, authorization: 'Bearer ct_expired' },
      });
      assert.equal(refused.statusCode, 401);
      assert.equal(
        refused.headers['access-control-allow-origin'],
        '*',
        'a refused token still answers readably, so the widget can say why',
      );

      const api = await h.app.inject({
        method: 'GET',
        url: '/v1/customers',
        headers: { origin, authorization: `Bearer ${h.key}` },
      });
      assert.equal(api.statusCode, 200);
      assert.equal(api.headers['access-control-allow-origin'], undefined);
      const apiPreflight = await h.app.inject({
        method: 'OPTIONS',
        url: '/v1/customers',
        headers: { origin, 'access-control-request-method': 'GET' },
      });
      assert.equal(apiPreflight.statusCode, 404);
      assert.equal(apiPreflight.headers['access-control-allow-origin'], undefined);
      assert.equal(apiPreflight.json().error.code, 'route_not_found');
    });
  });
}
