import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness } from '../helpers/harness.js';
import { storeCases } from '../helpers/stores.js';
import { codeFor, DAY_MS, type Events, events, fromTemplate, referral } from '../programs/helpers.js';

/**
 * GET /v1/referrals (search with keyset pages) and GET /v1/audit_log, the reads behind the
 * dashboard's Referrals page, on a credit-on-first-card program driven by billing events.
 */
const PROGRAM = 'credit-on-first-card';

for (const store of storeCases()) {
  describe(`referral search and audit log (${store.name})`, () => {
    let h: Harness;
    let ev: Events;
    let alphaCode: string;
    /** Referral ids by referee, as the events answered them. */
    const ids: Record<string, string> = {};

    async function list(query: string) {
      const res = await h.request('GET', `/v1/referrals${query}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body as { data: any[]; has_more: boolean };
    }

    /** Every page of a search, following starting_after. */
    async function all(query: string, limit: number) {
      const seen: any[] = [];
      let after: string | undefined;
      for (let guard = 0; guard < 100; guard++) {
        const sep = query ? '&' : '?';
        const page = await list(`${query}${sep}limit=${limit}${after ? `&starting_after=${after}` : ''}`);
        assert.ok(page.data.length <= limit);
        seen.push(...page.data);
        if (!page.has_more) return seen;
        after = page.data.at(-1).id;
      }
      throw new Error('pagination did not end');
    }

    before(async () => {
      h = await startHarness(store);
      h.clock.set('2026-03-01T10:00:00Z');
      ev = events(h);
      await fromTemplate(h, PROGRAM);
      await ev.send([ev.customerCreated('alpha'), ev.cardAttached('alpha', 'fp_alpha')]);
      alphaCode = await codeFor(h, 'alpha', PROGRAM);
      // Five teams referred by alpha, one a day; the third refers a team of its own.
      for (const team of ['beta', 'gamma', 'delta', 'epsilon', 'zeta']) {
        h.clock.advance(DAY_MS);
        const res = await ev.send([
          ev.customerCreated(team),
          ev.cardAttached(team, `fp_${team}`, { referral_code: alphaCode }),
        ]);
        assert.equal(res.data[1].referral.status, 'rewarded', JSON.stringify(res));
        ids[team] = res.data[1].referral.referral;
      }
      const deltaCode = await codeFor(h, 'delta', PROGRAM);
      h.clock.advance(DAY_MS);
      const eta = await ev.send([
        ev.customerCreated('eta'),
        ev.cardAttached('eta', 'fp_eta', { referral_code: deltaCode }),
      ]);
      ids.eta = eta.data[1].referral.referral;
      // Two rejections with different reasons: a code at a second card, and a card already used.
      await ev.send([ev.customerCreated('theta'), ev.cardAttached('theta', 'fp_theta_1')]);
      const second = await ev.send(ev.cardAttached('theta', 'fp_theta_2', { referral_code: alphaCode }));
      assert.equal(second.referral.reason, 'not_first_card');
      ids.theta = second.referral.referral;
      const reused = await ev.send([
        ev.customerCreated('iota'),
        ev.cardAttached('iota', 'fp_beta', { referral_code: deltaCode }),
      ]);
      assert.equal(reused.data[1].referral.reason, 'card_already_used');
      ids.iota = reused.data[1].referral.referral;
    });
    after(() => h.close());

    it('lists every referral newest first, in pages that neither repeat nor skip', async () => {
      const pages = await all('', 3);
      assert.deepEqual(
        pages.map((r) => r.id),
        [ids.iota, ids.theta, ids.eta, ids.zeta, ids.epsilon, ids.delta, ids.gamma, ids.beta],
      );
      const one = pages.find((r) => r.id === ids.beta);
      assert.equal(one.referrer_external_id, 'alpha');
      assert.equal(one.referee_external_id, 'beta');
      assert.equal(one.status, 'rewarded');
      assert.deepEqual(one.rewards, [
        { recipient: 'referrer', asset: 'usd_credit', granted: 2500, reversed: 0, net: 2500 },
        { recipient: 'referee', asset: 'usd_credit', granted: 2500, reversed: 0, net: 2500 },
      ]);
      const rejected = pages.find((r) => r.id === ids.theta);
      assert.deepEqual(rejected.rewards, [], 'a rejected referral paid nothing');
    });

    it('finds a customer on either side, or on one side, by Perks id or external id', async () => {
      const delta = await h.request('GET', '/v1/customers/delta');
      for (const ref of ['delta', delta.body.id]) {
        const either = await all(`?customer=${ref}`, 1);
        assert.deepEqual(
          either.map((r) => r.id),
          [ids.iota, ids.eta, ids.delta],
          'the two it made and the one that brought it, merged newest first',
        );
      }
      assert.deepEqual(
        (await list('?customer=delta&role=referrer')).data.map((r) => r.id),
        [ids.iota, ids.eta],
      );
      assert.deepEqual(
        (await list('?customer=delta&role=referee')).data.map((r) => r.id),
        [ids.delta],
      );
    });

    it("finds a code's referrals in any case and spacing, and filters by status and reason", async () => {
      const spaced = `${alphaCode.slice(0, 4).toLowerCase()}-${alphaCode.slice(4)}`;
      const byCode = await all(`?code=${spaced}`, 2);
      assert.deepEqual(
        byCode.map((r) => r.id),
        [ids.theta, ids.zeta, ids.epsilon, ids.delta, ids.gamma, ids.beta],
      );
      assert.deepEqual(
        (await all('?status=rejected', 1)).map((r) => [r.id, r.reason]),
        [
          [ids.iota, 'card_already_used'],
          [ids.theta, 'not_first_card'],
        ],
      );
      assert.deepEqual(
        (await list('?reason=not_first_card')).data.map((r) => r.id),
        [ids.theta],
      );
      assert.deepEqual(
        (await list(`?code=${alphaCode}&status=rejected`)).data.map((r) => r.id),
        [ids.theta],
      );
      assert.deepEqual((await list(`?customer=alpha&status=pending`)).data, []);
      assert.deepEqual(
        (await list(`?program=${PROGRAM}&status=rewarded&limit=2`)).data.map((r) => r.id),
        [ids.eta, ids.zeta],
      );
    });

    it('names the field of an unknown customer, code or program, and refuses a bad filter', async () => {
      const cases: [string, number, string, string][] = [
        ['?customer=nobody', 404, 'resource_not_found', 'customer'],
        ['?code=ZZZZ9999', 404, 'resource_not_found', 'code'],
        ['?code=!!', 404, 'resource_not_found', 'code'],
        ['?program=nope', 404, 'resource_not_found', 'program'],
        ['?status=won', 400, 'parameter_invalid', 'status'],
        ['?reason=because', 400, 'parameter_invalid', 'reason'],
        ['?limit=101', 400, 'parameter_invalid', 'limit'],
        ['?role=owner', 400, 'parameter_invalid', 'role'],
        ['?role=referrer', 400, 'parameter_invalid', 'role'],
        ['?colour=red', 400, 'parameter_unknown', 'colour'],
      ];
      for (const [query, status, code, param] of cases) {
        const res = await h.request('GET', `/v1/referrals${query}`);
        assert.equal(res.status, status, `${query}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, code, query);
        assert.equal(res.body.error.param, param, query);
      }
    });

    it('shows manual attribution and reassignment in the audit log, newest first, filtered', async () => {
      await ev.send(ev.customerCreated('kappa'));
      const manual = await h.request('POST', '/v1/referrals', {
        body: {
          referee: 'kappa',
          source: 'manual',
          program: PROGRAM,
          referrer: 'alpha',
          reason: 'ticket 4711',
          actor: 'support@example.com',
        },
      });
      assert.equal(manual.status, 201, JSON.stringify(manual.body));
      h.clock.advance(60_000);
      const moved = await h.request('POST', `/v1/referrals/${ids.gamma}/reassign`, {
        body: { referrer: 'beta', reason: 'ticket 4712', actor: 'support@example.com' },
      });
      assert.equal(moved.status, 200, JSON.stringify(moved.body));

      const log = await h.request('GET', '/v1/audit_log?limit=100');
      assert.equal(log.status, 200, JSON.stringify(log.body));
      const kappa = await h.request('GET', '/v1/customers/kappa');
      const gamma = await h.request('GET', '/v1/customers/gamma');
      assert.deepEqual(
        log.body.data.map((e: any) => [e.action, e.referral, e.customer_external_id, e.reason, e.program]),
        [
          ['referral_reassigned', ids.gamma, 'gamma', 'ticket 4712', PROGRAM],
          ['manual_referral', manual.body.id, 'kappa', 'ticket 4711', PROGRAM],
        ],
      );
      assert.equal(log.body.data[1].customer, kappa.body.id);
      assert.equal(log.body.data[0].customer, gamma.body.id);
      assert.equal(log.body.data[0].actor, 'support@example.com');
      // Every customer the entry names (the referee, and the referrers it moved between) by external id.
      const alpha = await h.request('GET', '/v1/customers/alpha');
      const beta = await h.request('GET', '/v1/customers/beta');
      assert.deepEqual(log.body.data[0].details, { from: alpha.body.id, to: beta.body.id });
      assert.deepEqual(log.body.data[0].customers, {
        [gamma.body.id]: 'gamma',
        [alpha.body.id]: 'alpha',
        [beta.body.id]: 'beta',
      });
      // The same entries as the referral's own audit_log.
      const detail = await referral(h, ids.gamma!);
      assert.deepEqual(
        detail.audit_log.map((e: any) => e.id),
        [log.body.data[0].id],
      );

      const filters: [string, string[]][] = [
        [`referral=${ids.gamma}`, ['referral_reassigned']],
        ['customer=kappa', ['manual_referral']],
        ['action=manual_referral', ['manual_referral']],
        [`program=${PROGRAM}`, ['referral_reassigned', 'manual_referral']],
        ['limit=1', ['referral_reassigned']],
        [`starting_after=${log.body.data[0].id}`, ['manual_referral']],
      ];
      for (const [query, actions] of filters) {
        const res = await h.request('GET', `/v1/audit_log?${query}`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.deepEqual(
          res.body.data.map((e: any) => e.action),
          actions,
          query,
        );
      }
      assert.equal((await h.request('GET', '/v1/audit_log?limit=1')).body.has_more, true);

      const unknown = await h.request('GET', '/v1/audit_log?customer=nobody');
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.param, 'customer');
      const badAction = await h.request('GET', '/v1/audit_log?action=deleted');
      assert.equal(badAction.status, 400);
      assert.equal(badAction.body.error.param, 'action');

      // The reassigned referral is now found under its new referrer, with the rewards it paid each.
      const underBeta = await list('?customer=beta&role=referrer');
      assert.deepEqual(
        underBeta.data.map((r) => r.id),
        [ids.gamma],
      );
      assert.equal(underBeta.data[0].referrer_external_id, 'beta');
    });
  });
}
