/**
 * 64 concurrent consumers and payout requests on one customer. On PostgreSQL they really run at
 * once (a pool of 64 connections); the account row lock must serialise them so that the final
 * balance is the initial one less exactly the operations that succeeded, no lot goes negative and
 * the payouts never hold more than the customer had. PGlite runs one transaction at a time, so the
 * same test there checks the bookkeeping without the race.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { systemIds } from '../../src/adapters/system.js';
import { upsertCustomer } from '../../src/app/customers.js';
import { createAsset } from '../../src/app/ledger_assets.js';
import { consume } from '../../src/app/ledger_consumptions.js';
import { grant } from '../../src/app/ledger_grants.js';
import { requestPayout } from '../../src/app/ledger_payouts.js';
import { customerBalances } from '../../src/app/ledger_reads.js';
import type { Db, Deps } from '../../src/app/ports.js';
import { createWorkspace } from '../../src/app/workspaces.js';
import { isPerksError } from '../../src/core/errors.js';
import { checkInvariants } from '../../src/core/ledger/invariants.js';
import { TestClock } from '../helpers/harness.js';
import { openTestPglite, openTestPostgres, storeCases } from '../helpers/stores.js';
import { loadSnapshot } from './snapshot.js';

const CONCURRENCY = 64;

for (const store of storeCases()) {
  describe(`ledger concurrency (${store.name})`, () => {
    let db: Db;
    let deps: Deps;
    before(async () => {
      db = store.name === 'postgres' ? await openTestPostgres(CONCURRENCY) : await openTestPglite();
      deps = { db, clock: new TestClock(new Date('2026-05-01T00:00:00Z')), ids: systemIds() };
    });
    after(() => db.close());

    it(`${CONCURRENCY} concurrent consumers and payout requests on one customer never overspend`, async () => {
      const ws = (await createWorkspace(deps, 'race')).workspace.id;
      const customer = await db.transaction(async (tx) => {
        await createAsset(deps, tx, ws, {
          key: 'minutes',
          kind: 'units',
          unit: 'minutes',
          purpose: 'credit',
        });
        await createAsset(deps, tx, ws, {
          key: 'commission',
          kind: 'money',
          currency: 'usd',
          purpose: 'commission',
          payout_minimum: 100,
        });
        return (await upsertCustomer(deps, tx, ws, { external_id: 'hot' }, deps.clock.now())).row.id;
      });
      // Several lots with different expiries, so the operations race over the burn-down order too.
      let minutes = 0;
      let commission = 0;
      for (let i = 0; i < 6; i++) {
        const expires =
          i % 2 === 0 ? { type: 'never' as const } : { type: 'after' as const, duration: `P${i}D` };
        await db.transaction((tx) =>
          grant(deps, tx, ws, customer, {
            asset: 'minutes',
            amount: 150,
            expires,
            reason: 'seed',
            reference: `m${i}`,
            source: { type: 'program', id: 'p' },
          }),
        );
        await db.transaction((tx) =>
          grant(deps, tx, ws, customer, {
            asset: 'commission',
            amount: 500,
            expires,
            reason: 'seed',
            reference: `c${i}`,
            source: { type: 'program', id: 'p' },
          }),
        );
        minutes += 150;
        commission += 500;
      }
      // Together they ask for about twice what there is, so some must be refused.
      const ops = Array.from({ length: CONCURRENCY }, (_, i) => {
        if (i % 2 === 0) {
          const amount = 13 + ((i * 7) % 19);
          return { kind: 'consume' as const, amount };
        }
        const amount = 100 + ((i * 37) % 150);
        return { kind: 'payout' as const, amount };
      });
      const results = await Promise.all(
        ops.map(async (op) => {
          try {
            if (op.kind === 'consume') {
              const r = await db.transaction((tx) =>
                consume(deps, tx, ws, customer, { asset: 'minutes', amount: op.amount }),
              );
              assert.equal(r.consumed, op.amount);
            } else {
              await db.transaction((tx) =>
                requestPayout(deps, tx, ws, {
                  customer,
                  asset: 'commission',
                  amount: op.amount,
                  destination: 'iban:X',
                }),
              );
            }
            return { ...op, ok: true };
          } catch (err) {
            if (isPerksError(err) && err.code === 'insufficient_balance') return { ...op, ok: false };
            throw err;
          }
        }),
      );
      const consumed = results.filter((r) => r.ok && r.kind === 'consume').reduce((s, r) => s + r.amount, 0);
      const held = results.filter((r) => r.ok && r.kind === 'payout').reduce((s, r) => s + r.amount, 0);
      assert.ok(
        results.some((r) => !r.ok),
        'the requests exceed the balance, so some are refused',
      );
      assert.ok(consumed > 0 && held > 0, 'and some succeed');
      assert.ok(consumed <= minutes && held <= commission, 'nothing beyond the balance');

      const read = await customerBalances(deps, ws, customer);
      const by = Object.fromEntries(read.data.map((b) => [b.asset, b]));
      assert.equal(by.minutes!.available, minutes - consumed);
      assert.equal(by.commission!.available, commission - held);
      assert.equal(by.commission!.held, held);
      const snapshot = await loadSnapshot(db, ws, deps.clock.now().getTime());
      assert.ok(
        snapshot.lots.every((l) => l.remaining >= 0 && l.remaining <= l.amount),
        'no lot went negative',
      );
      assert.deepEqual(checkInvariants(snapshot, { expiredSwept: true }), []);

      // What the refused requests could not take is still there: a final request takes it exactly.
      const rest = commission - held;
      if (rest >= 100) {
        await db.transaction((tx) =>
          requestPayout(deps, tx, ws, { customer, asset: 'commission', amount: rest, destination: 'iban:X' }),
        );
        await assert.rejects(
          db.transaction((tx) =>
            requestPayout(deps, tx, ws, {
              customer,
              asset: 'commission',
              amount: 100,
              destination: 'iban:X',
            }),
          ),
          (err) => isPerksError(err) && err.code === 'insufficient_balance',
        );
      }
    });
  });
}
