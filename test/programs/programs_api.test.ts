import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness } from '../helpers/harness.js';
import { storeCases } from '../helpers/stores.js';
import { balance, codeFor, DAY_MS, type Events, events, referral, referralsOf, unique } from './helpers.js';

/** Programs as versioned documents: create, edit, validation, versions binding referrals, codes. */

const CREDIT = 'usd_credit';

function signupProgram(key: string, value: number, extra: Record<string, unknown> = {}) {
  return {
    key,
    name: `Signup bonus ${value}`,
    landing_url: 'https://example.com/join',
    referrer: { eligibility: 'any' },
    attribution: { methods: ['code', 'link'], code_accepted: 'at_any_time' },
    rewards: [
      { trigger: 'signup', recipient: 'referrer', asset: CREDIT, amount: { kind: 'fixed', value } },
      {
        trigger: 'payment_succeeded',
        recipient: 'referrer',
        asset: CREDIT,
        amount: { kind: 'percent_of_payment', bps: value },
      },
    ],
    ...extra,
  };
}

for (const store of storeCases()) {
  describe(`programs API (${store.name})`, () => {
    let h: Harness;
    let ev: Events;
    before(async () => {
      h = await startHarness(store);
      h.clock.set('2026-05-01T12:00:00Z');
      ev = events(h);
      const asset = await h.request('POST', '/v1/assets', {
        body: { key: CREDIT, kind: 'money', currency: 'usd', purpose: 'credit' },
      });
      assert.equal(asset.status, 201, JSON.stringify(asset.body));
    });
    after(() => h.close());

    it('creates a program, ignores an identical apply, and versions an edit', async () => {
      const created = await h.request('POST', '/v1/programs', { body: signupProgram('edit-me', 500) });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.version, 1);
      assert.equal(created.body.changed, true);
      assert.equal(created.body.document.referee.new_accounts_only, false, 'defaults are stated');
      const same = await h.request('POST', '/v1/programs', { body: signupProgram('edit-me', 500) });
      assert.equal(same.status, 200);
      assert.equal(same.body.changed, false);
      assert.equal(same.body.latest_version, 1);
      const edited = await h.request('POST', '/v1/programs', { body: signupProgram('edit-me', 700) });
      assert.equal(edited.status, 200);
      assert.equal(edited.body.changed, true);
      assert.equal(edited.body.version, 2);
      const versions = await h.request('GET', '/v1/programs/edit-me/versions');
      assert.deepEqual(
        versions.body.data.map((v: { version: number }) => v.version),
        [2, 1],
      );
      const byId = await h.request('GET', `/v1/programs/${created.body.id}`);
      assert.equal(byId.body.key, 'edit-me');
      const list = await h.request('GET', '/v1/programs?limit=100');
      assert.ok(list.body.data.some((p: { key: string }) => p.key === 'edit-me'));
      const missing = await h.request('GET', '/v1/programs/nope');
      assert.equal(missing.status, 404);
    });

    it('rejects an invalid document with every schema error listed by path, and writes nothing', async () => {
      const res = await h.request('POST', '/v1/programs', {
        body: {
          key: 'Broken Key',
          name: 'Broken',
          landing_url: 'not a url',
          attribution: { code_accepted: 'whenever' },
          rewards: [
            { trigger: 'signup', recipient: 'friend', asset: CREDIT, amount: { kind: 'fixed', value: -1 } },
          ],
        },
      });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      const params = res.body.error.errors.map((e: { param: string }) => e.param).sort();
      assert.deepEqual(params, [
        'attribution.code_accepted',
        'key',
        'landing_url',
        'rewards[0].amount.value',
        'rewards[0].recipient',
      ]);
      const unknownAsset = await h.request('POST', '/v1/programs', {
        body: {
          ...signupProgram('ghost-asset', 500),
          rewards: [
            {
              trigger: 'signup',
              recipient: 'referee',
              asset: 'ghost_points',
              amount: { kind: 'fixed', value: 1 },
            },
          ],
        },
      });
      assert.equal(unknownAsset.status, 400);
      assert.equal(unknownAsset.body.error.code, 'program_invalid');
      assert.equal(unknownAsset.body.error.param, 'rewards[0].asset');
      assert.equal((await h.request('GET', '/v1/programs/ghost-asset')).status, 404, 'nothing half-applied');
      const past = await h.request('POST', '/v1/programs', {
        body: { ...signupProgram('past', 500), effective_at: '2026-01-01T00:00:00Z' },
      });
      assert.equal(past.status, 400);
      assert.equal(past.body.error.param, 'effective_at');
    });

    it('binds each referral to the version in force when it was attributed: new terms never pay retroactively', async () => {
      await h.request('POST', '/v1/programs', { body: signupProgram('terms', 500) });
      await ev.send(ev.customerCreated('terms_referrer'));
      const code = await codeFor(h, 'terms_referrer', 'terms');
      const early = await ev.send(ev.customerCreated('terms_early', { referral_code: code }));
      assert.equal(early.referral.status, 'rewarded');
      const next = await h.request('POST', '/v1/programs', {
        body: { ...signupProgram('terms', 1000), effective_at: '2026-05-10T00:00:00Z' },
      });
      assert.equal(next.status, 200);
      assert.equal(next.body.version, 1, 'version 1 stays in force until the 10th');
      assert.equal(next.body.pending_version.version, 2);
      h.clock.set('2026-05-11T12:00:00Z');
      const late = await ev.send(ev.customerCreated('terms_late', { referral_code: code }));
      assert.equal(late.referral.status, 'rewarded');
      assert.equal((await referral(h, late.referral.referral)).program_version, 2);
      await ev.send([
        ev.payment('terms_early', { id: unique('pay'), amount: 10000 }),
        ev.payment('terms_late', { id: unique('pay'), amount: 10000 }),
      ]);
      // 500 + 5% of 100.00 under version 1; 1000 + 10% of 100.00 under version 2.
      assert.equal(await balance(h, 'terms_referrer', CREDIT), 500 + 500 + 1000 + 1000);
      const early_detail = await referral(h, early.referral.referral);
      assert.equal(early_detail.program_version, 1);
      assert.deepEqual(
        early_detail.rewards.map((r: { amount: number }) => r.amount),
        [500, 500],
      );
      h.clock.set('2026-05-01T12:00:00Z');
    });

    it('publishes the JSON Schema without a key, and lists the templates', async () => {
      const schema = await h.request('GET', '/v1/programs/schema.json', { key: null });
      assert.equal(schema.status, 200);
      assert.match(String(schema.headers['content-type']), /application\/schema\+json/);
      assert.equal(schema.body.$schema, 'https://json-schema.org/draft/2020-12/schema');
      const templates = await h.request('GET', '/v1/programs/templates');
      assert.deepEqual(
        templates.body.data.map((t: { name: string }) => t.name),
        ['credit-on-first-card', 'free-days-or-commission', 'bonus-minutes'],
      );
      const unknown = await h.request('POST', '/v1/programs/from_template', {
        body: { template: 'mystery' },
      });
      assert.equal(unknown.status, 400);
      assert.equal(unknown.body.error.param, 'template');
    });

    it('a vanity code must be unique; the old code keeps working', async () => {
      await h.request('POST', '/v1/programs', { body: signupProgram('vanity', 100) });
      await ev.send([ev.customerCreated('vain'), ev.customerCreated('vain_rival')]);
      const generated = await codeFor(h, 'vain', 'vanity');
      const custom = await h.request('POST', '/v1/customers/vain/referral_code', {
        body: { program: 'vanity', code: 'Summer-Deal' },
      });
      assert.equal(custom.status, 201, JSON.stringify(custom.body));
      assert.equal(custom.body.code, 'SUMMERDEAL');
      assert.equal(custom.body.vanity, true);
      const taken = await h.request('POST', '/v1/customers/vain_rival/referral_code', {
        body: { program: 'vanity', code: 'summerdeal' },
      });
      assert.equal(taken.status, 409);
      assert.equal(taken.body.error.code, 'referral_code_taken');
      const bad = await h.request('POST', '/v1/customers/vain_rival/referral_code', {
        body: { program: 'vanity', code: 'no way!' },
      });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.param, 'code');
      const old = await ev.send(ev.customerCreated('vain_friend', { referral_code: generated }));
      assert.equal(old.referral.status, 'rewarded', 'the generated code still works');
      const viaVanity = await ev.send(ev.customerCreated('vain_friend_2', { referral_code: 'summer-deal' }));
      assert.equal(viaVanity.referral.status, 'rewarded');
    });

    it('a per-referrer cap rejects referrals beyond it in its period, with the reason', async () => {
      await h.request('POST', '/v1/programs', {
        body: signupProgram('capped', 100, {
          fraud: { max_referrals_per_referrer: { count: 2, period: 'month' } },
        }),
      });
      await ev.send(ev.customerCreated('capper'));
      const code = await codeFor(h, 'capper', 'capped');
      const results = await ev.send(
        [1, 2, 3].map((i) => ev.customerCreated(`capped_${i}`, { referral_code: code })),
      );
      assert.deepEqual(
        results.data.map((r: any) => r.referral.reason ?? r.referral.status),
        ['rewarded', 'rewarded', 'referrer_cap_reached'],
      );
      h.clock.set('2026-06-01T00:00:00Z');
      const nextMonth = await ev.send(ev.customerCreated('capped_4', { referral_code: code }));
      assert.equal(nextMonth.referral.status, 'rewarded', 'a new period has room again');
      assert.equal(await balance(h, 'capper', CREDIT), 300);
      h.clock.set('2026-05-01T12:00:00Z');
    });

    it('lists a customer’s referrals with status and reason, filters them, and shows the tree to a depth', async () => {
      await h.request('POST', '/v1/programs', { body: signupProgram('tree', 100) });
      await ev.send(ev.customerCreated('root'));
      const rootCode = await codeFor(h, 'root', 'tree');
      await ev.send([
        ev.customerCreated('child', { referral_code: rootCode }),
        ev.customerCreated('root', { referral_code: rootCode }),
      ]);
      const childCode = await codeFor(h, 'child', 'tree');
      await ev.send(ev.customerCreated('grandchild', { referral_code: childCode }));
      const all = await referralsOf(h, 'root');
      assert.equal(all.length, 2);
      const rejected = await referralsOf(h, 'root', '&status=rejected');
      assert.deepEqual(
        rejected.map((r) => r.reason),
        ['self_referral'],
      );
      const asReferee = await referralsOf(h, 'child', '&role=referee');
      assert.equal(asReferee.length, 1);
      assert.equal(asReferee[0].status, 'rewarded');
      const one = await h.request('GET', '/v1/customers/root/referral_tree?depth=1');
      assert.equal(one.body.nodes[0].children.length, 0);
      const two = await h.request('GET', '/v1/customers/root/referral_tree?depth=2');
      assert.equal(two.body.nodes[0].children.length, 1);
      assert.equal(two.body.truncated, false);
      const tooDeep = await h.request('GET', '/v1/customers/root/referral_tree?depth=9');
      assert.equal(tooDeep.status, 400);
      assert.equal(tooDeep.body.error.param, 'depth');
    });

    it('POST /v1/referrals refuses manual-only fields for an API attribution, and a missing reason for a repair', async () => {
      await ev.send(ev.customerCreated('lonely'));
      const mixed = await h.request('POST', '/v1/referrals', {
        body: { referee: 'lonely', code: 'ABCD2345', referrer: 'root' },
      });
      assert.equal(mixed.status, 400);
      assert.equal(mixed.body.error.param, 'referrer');
      const noReason = await h.request('POST', '/v1/referrals', {
        body: { referee: 'lonely', source: 'manual', program: 'tree', referrer: 'root', actor: 'ops' },
      });
      assert.equal(noReason.status, 400);
      assert.equal(noReason.body.error.param, 'reason');
      // An audit entry must say who and why: blanks are no answer.
      for (const [field, blank] of [
        ['reason', { reason: '  ', actor: 'ops' }],
        ['actor', { reason: 'support ticket 12', actor: ' ' }],
      ] as const) {
        const res = await h.request('POST', '/v1/referrals', {
          body: { referee: 'lonely', source: 'manual', program: 'tree', referrer: 'root', ...blank },
        });
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.error.param, field);
      }
      const nothing = await referralsOf(h, 'lonely', '&role=referee');
      assert.equal(nothing.length, 0);
      h.clock.advance(DAY_MS);
    });
  });
}
