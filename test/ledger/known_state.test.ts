/**
 * Grants, consumptions and settlements sent without an Idempotency-Key are decided on the state the
 * server last wrote for the account and written only if the database still holds it
 * (src/app/ledger_known.ts). These tests make that remembered state wrong on purpose: another
 * "process" writes the account (the same account named by its Perks id and by its external id is
 * remembered under two keys, and payouts and reversals write it the other way), a transaction that
 * consumed rolls back. After every step the answer must match what the database then holds and the
 * ledger invariants must hold, on both stores.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { systemIds } from '../../src/adapters/system.js';
import { upsertCustomer } from '../../src/app/customers.js';
import { createAsset } from '../../src/app/ledger_assets.js';
import { ledgerSnapshot } from '../../src/app/ledger_check.js';
import { consume, consumeStandalone } from '../../src/app/ledger_consumptions.js';
import { grant, grantStandalone } from '../../src/app/ledger_grants.js';
import { customerBalances } from '../../src/app/ledger_reads.js';
import type { Deps } from '../../src/app/ports.js';
import { createWorkspace } from '../../src/app/workspaces.js';
import { checkInvariants } from '../../src/core/ledger/invariants.js';
import { seededRandom } from '../../bench/lib.js';
import { type Harness, startHarness, TestClock } from '../helpers/harness.js';
import { openTestPglite, openTestPostgres, storeCases } from '../helpers/stores.js';
import { balances, grantBody, ledgerWorkspace, ref } from './fixtures.js';

const STEPS = Number(process.env.PERKS_KNOWN_STATE_STEPS ?? 120);

for (const store of storeCases()) {
  describe(`ledger known state (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store);
    });
    after(() => h.close());

    it(`${STEPS} random steps with the remembered state made stale keep every answer true`, async () => {
      const ws = await ledgerWorkspace(h);
      const random = seededRandom(store.name === 'pglite' ? 7 : 11);
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
      const names = [ws.customer, ws.externalId];
      const grants: string[] = [];
      const payouts: string[] = [];
      const post = (url: string, body: unknown) => h.request('POST', url, { key: ws.key, body });
      // Seed both assets so every kind of step has something to work on.
      for (const asset of ['minutes', 'usd_credit', 'usd_commission'] as const) {
        const res = await post(`/v1/customers/${ws.customer}/grants`, grantBody(asset, 5000));
        assert.equal(res.status, 201, JSON.stringify(res.body));
        if (asset !== 'usd_commission') grants.push(res.body.id);
      }

      for (let step = 0; step < STEPS; step++) {
        const who = pick(names);
        const kind = pick([
          'grant',
          'consume',
          'consume',
          'settle',
          'payout',
          'decide',
          'reverse',
          'rollback',
          'repeat',
        ]);
        const where = `step ${step} (${kind} as ${who === ws.customer ? 'id' : 'external id'})`;
        h.clock.advance(1000);
        if (kind === 'grant') {
          const asset = pick(['minutes', 'usd_credit'] as const);
          const res = await post(
            `/v1/customers/${who}/grants`,
            grantBody(asset, 1 + Math.floor(random() * 300)),
          );
          assert.equal(res.status, 201, `${where}: ${JSON.stringify(res.body)}`);
          grants.push(res.body.id);
        } else if (kind === 'consume') {
          const amount = 1 + Math.floor(random() * 400);
          const res = await post(`/v1/customers/${who}/consumptions`, {
            asset: 'minutes',
            amount,
            partial: random() < 0.5,
          });
          assert.ok(res.status === 201 || res.status === 409, `${where}: ${JSON.stringify(res.body)}`);
          const now = (await balances(h, ws.key, ws.customer)).minutes;
          if (res.status === 201)
            assert.equal(res.body.available, now.available, `${where}: answer vs store`);
          // A refusal names what the lots hold: nothing while the customer is in debt.
          else
            assert.equal(res.body.error.available, Math.max(0, now.available), `${where}: refusal vs store`);
        } else if (kind === 'settle') {
          const res = await post('/v1/invoices/settle', {
            invoice_id: ref('in'),
            customer: who,
            currency: 'usd',
            subtotal_cents: 1 + Math.floor(random() * 500),
          });
          assert.equal(res.status, 200, `${where}: ${JSON.stringify(res.body)}`);
        } else if (kind === 'payout') {
          const res = await post('/v1/payouts', {
            customer: who,
            asset: 'usd_commission',
            amount: 2000 + Math.floor(random() * 500),
            destination: 'iban:DE00',
          });
          assert.ok(res.status === 201 || res.status === 409, `${where}: ${JSON.stringify(res.body)}`);
          if (res.status === 201) payouts.push(res.body.id);
        } else if (kind === 'decide' && payouts.length > 0) {
          const id = payouts.splice(Math.floor(random() * payouts.length), 1)[0]!;
          const res = await post(`/v1/payouts/${id}/reject`, { rejected_by: 'ops' });
          assert.equal(res.status, 200, `${where}: ${JSON.stringify(res.body)}`);
        } else if (kind === 'reverse' && grants.length > 0) {
          const grant = grants.splice(Math.floor(random() * grants.length), 1)[0]!;
          const res = await post(`/v1/customers/${ws.customer}/reversals`, { grant, reason: 'refund' });
          assert.ok(res.status === 201 || res.status === 200, `${where}: ${JSON.stringify(res.body)}`);
        } else if (kind === 'rollback') {
          // A consumption whose transaction rolls back: the state it remembered was never committed.
          await assert.rejects(
            h.db.transaction(async (tx) => {
              await consume(h.deps, tx, ws.workspaceId, who, { asset: 'minutes', amount: 1, partial: true });
              throw new Error('roll back');
            }),
            /roll back/,
          );
        } else if (kind === 'repeat') {
          // A settle repeated with the same invoice answers the first settlement.
          const invoice = { invoice_id: ref('in'), customer: who, currency: 'usd', subtotal_cents: 120 };
          const first = await post('/v1/invoices/settle', invoice);
          const again = await post('/v1/invoices/settle', { ...invoice, customer: pick(names) });
          assert.deepEqual(again.body, first.body, where);
        }
        const snapshot = await ledgerSnapshot(h.db, ws.workspaceId, h.clock.now().getTime());
        assert.deepEqual(checkInvariants(snapshot, { expiredSwept: false }), [], where);
      }
    });

    it(
      'requests with and without a transaction on one account all finish with a pool of 3',
      { timeout: 300_000 },
      async () => {
        // Requests without a transaction wait for their turn holding no connection; those inside one
        // hold a connection and never wait for a turn, so the one whose turn it is can always write.
        const db = store.name === 'postgres' ? await openTestPostgres(3) : await openTestPglite();
        const deps: Deps = { db, clock: new TestClock(), ids: systemIds() };
        try {
          const ws = (await createWorkspace(deps, 'pool')).workspace.id;
          await db.transaction(async (tx) => {
            await createAsset(deps, tx, ws, {
              key: 'minutes',
              kind: 'units',
              unit: 'minutes',
              purpose: 'credit',
            });
            await upsertCustomer(deps, tx, ws, { external_id: 'hot' }, deps.clock.now());
            await grant(deps, tx, ws, 'hot', {
              asset: 'minutes',
              amount: 1000,
              reason: 'seed',
              reference: 'seed',
              source: { type: 'program', id: 'p' },
            });
          });
          const input = { asset: 'minutes', amount: 2 };
          const work = [
            ...Array.from({ length: 40 }, () => consumeStandalone(deps, ws, 'hot', input)),
            ...Array.from({ length: 20 }, () => db.transaction((tx) => consume(deps, tx, ws, 'hot', input))),
            ...Array.from({ length: 10 }, (_, i) =>
              grantStandalone(deps, ws, 'hot', {
                asset: 'minutes',
                amount: 1,
                reason: 'more',
                reference: `more_${i}`,
                source: { type: 'program', id: 'p' },
              }),
            ),
          ];
          let timer: NodeJS.Timeout | undefined;
          const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error('the requests did not all finish: a deadlock')),
              120_000,
            );
          });
          try {
            await Promise.race([Promise.all(work), timeout]);
          } finally {
            clearTimeout(timer);
          }
          const [minutes] = (await customerBalances(deps, ws, 'hot')).data;
          assert.equal(minutes!.available, 1000 - 60 * 2 + 10);
          const snapshot = await ledgerSnapshot(db, ws, deps.clock.now().getTime());
          assert.deepEqual(checkInvariants(snapshot, { expiredSwept: false }), []);
        } finally {
          // After a deadlock the pool would wait forever for its connections to come back.
          await Promise.race([db.close(), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
        }
      },
    );
  });
}
