import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, startHarness } from '../helpers/harness.js';
import { storeCases } from '../helpers/stores.js';
import { customer, stripeEvent, T0, uniqueId } from './fixtures.js';
import {
  expectReceipt,
  promotionCode,
  type StripeWorkspace,
  stripeWorkspace,
  subscribedCustomer,
} from './helpers.js';

/**
 * A promotion code set in a Stripe customer's metadata and refused counts against the customer's
 * guessing limits, as a refused redeem through the API does: once per code the metadata is given, so
 * later events about the same customer (a name change, a replay) do not count it again.
 */

const API_KEY = 'rk_test_perksMetadataGuessing123';

for (const store of storeCases()) {
  describe(`Stripe metadata codes and the guessing limits (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store);
      h.clock.set(new Date(T0 * 1000 + 3600_000));
    });
    after(async () => {
      await h?.close();
    });

    async function failures(ws: StripeWorkspace, cus: string): Promise<number> {
      const [row] = await h.db.query<{ n: number }>(
        `select coalesce(sum(f.failures), 0)::int as n from promotion_failures f
         join customers c on c.workspace_id = f.workspace_id and c.id = f.subject
         where f.workspace_id = $1 and f.scope = 'customer' and c.external_id = $2`,
        [ws.workspaceId, cus],
      );
      return row!.n;
    }

    let created = T0;
    /** A customer.updated carrying `metadata`, newer than the last one sent. */
    const updated = (cus: string, metadata: Record<string, string>, changes: Record<string, unknown> = {}) =>
      stripeEvent('customer.updated', customer(cus, { metadata, ...changes }), { created: ++created });

    async function resultOf(ws: StripeWorkspace, event: Record<string, unknown>) {
      const receipt = await expectReceipt(await ws.send(event), 'processed');
      const stored = await h.request('GET', `/v1/stripe/events/${receipt.body.id}`, { key: ws.key });
      return stored.body.result.promotion_code;
    }

    it('counts each refused code once, and past the limit refuses even a good code as rate_limited', async () => {
      const ws = await stripeWorkspace(h, { apiKey: API_KEY });
      const cus = (await subscribedCustomer(ws)).cus;
      const first = await resultOf(ws, updated(cus, { promotion_code: 'GUESS0XX' }));
      assert.equal(first.error.code, 'code_invalid');
      assert.equal(await failures(ws, cus), 1);
      // Another event about the customer, the same code still in its metadata: tried, not counted.
      const again = await resultOf(ws, updated(cus, { promotion_code: 'GUESS0XX' }, { name: 'Renamed' }));
      assert.equal(again.error.code, 'code_invalid');
      assert.equal(await failures(ws, cus), 1);

      for (let i = 1; i < 100; i++) await ws.send(updated(cus, { promotion_code: `GUESS${i}XX` }));
      assert.equal(await failures(ws, cus), 100, 'the limit: 100 failures per customer per hour');
      const good = await promotionCode(h, ws, { percent_off_bps: 1000, duration: 'once' }, uniqueId('GOOD'));
      const blocked = await resultOf(ws, updated(cus, { promotion_code: good }));
      assert.equal(blocked.redemption, null);
      assert.equal(blocked.error.code, 'rate_limited', JSON.stringify(blocked));
      assert.equal(await failures(ws, cus), 100, 'a refusal for the limit is not a guess');

      // Another customer is not held back by this one's guesses.
      const other = (await subscribedCustomer(ws)).cus;
      const ok = await resultOf(ws, updated(other, { promotion_code: good }));
      assert.equal(ok.error, null, JSON.stringify(ok));
      assert.ok(ok.redemption);
    });

    if (store.name === 'postgres') {
      it('two events setting the same refused code at once count it once', async () => {
        const ws = await stripeWorkspace(h, { apiKey: API_KEY });
        const counted: number[] = [];
        for (let round = 0; round < 10; round++) {
          const cus = (await subscribedCustomer(ws)).cus;
          const replies = await Promise.all([
            ws.send(updated(cus, { promotion_code: 'NOPE1XX' })),
            ws.send(updated(cus, { promotion_code: 'NOPE1XX' }, { name: 'Renamed' })),
          ]);
          for (const r of replies) assert.equal(r.status, 200, JSON.stringify(r.body));
          counted.push(await failures(ws, cus));
        }
        assert.deepEqual(counted, Array(10).fill(1));
      });
    }
  });
}
