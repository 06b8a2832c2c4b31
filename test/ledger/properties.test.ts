/**
 * Property-based tests of the ledger: random sequences of grant, consume, settle, void, reverse,
 * expire (with a moving clock), payout request, approve, reject and cancel run against the real use
 * cases on PGlite and, side by side, against the reference model (test/ledger/model.ts). After every
 * step the store is read (which applies due expiries, as any read does) and checked:
 *
 *   1. per asset, the sum over all accounts is zero;
 *   2. no lot's remaining is below zero or above its amount, and the open lots sum to the balance;
 *   3. the lots each operation touched, and in which order, are the model's;
 *   4. an expired lot holds nothing after its expiry and its remainder sits in breakage;
 *   5. settle and reverse are idempotent: a repeat answers the same and changes nothing;
 *   6. a refused operation leaves every ledger row byte-identical.
 *
 * PERKS_PROPERTY_RUNS sets the number of sequences (default 1000; `npm run test:long` runs 100,000).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { systemIds } from '../../src/adapters/system.js';
import { upsertCustomer } from '../../src/app/customers.js';
import { createAsset } from '../../src/app/ledger_assets.js';
import { consume } from '../../src/app/ledger_consumptions.js';
import { type ExpiryInput, grant } from '../../src/app/ledger_grants.js';
import { approvePayout, requestPayout, voidPayout } from '../../src/app/ledger_payouts.js';
import { customerBalances } from '../../src/app/ledger_reads.js';
import { reverseGrant } from '../../src/app/ledger_reversals.js';
import { settleInvoice, voidInvoice } from '../../src/app/ledger_settlements.js';
import { sweepExpired } from '../../src/app/ledger_sweeper.js';
import type { Db, Deps, Sql } from '../../src/app/ports.js';
import { createWorkspace } from '../../src/app/workspaces.js';
import { isPerksError } from '../../src/core/errors.js';
import { checkInvariants } from '../../src/core/ledger/invariants.js';
import { TestClock } from '../helpers/harness.js';
import { openTestPglite } from '../helpers/stores.js';
import { type Expiry, LedgerModel, type ModelAsset, type Piece, type Result } from './model.js';
import { loadSnapshot, workspaceDump } from './snapshot.js';

const RUNS = Number(process.env.PERKS_PROPERTY_RUNS ?? 1000);
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const ASSETS: (ModelAsset & { unit?: string })[] = [
  { key: 'usd_credit', kind: 'money', currency: 'usd', purpose: 'credit', policy: 'forgive', minimum: 0 },
  {
    key: 'usd_promo',
    kind: 'money',
    currency: 'usd',
    purpose: 'credit',
    policy: 'allow_negative',
    minimum: 0,
  },
  { key: 'eur_credit', kind: 'money', currency: 'eur', purpose: 'credit', policy: 'forgive', minimum: 0 },
  {
    key: 'minutes',
    kind: 'units',
    currency: null,
    unit: 'minutes',
    purpose: 'credit',
    policy: 'allow_negative',
    minimum: 0,
  },
  { key: 'free_days', kind: 'days', currency: null, purpose: 'credit', policy: 'forgive', minimum: 0 },
  {
    key: 'commission',
    kind: 'money',
    currency: 'usd',
    purpose: 'commission',
    policy: 'allow_negative',
    minimum: 50,
  },
];
const ASSET_KEYS = ASSETS.map((a) => a.key);
const CUSTOMERS = ['c0', 'c1'] as const;

type ExpiryGen =
  { type: 'never' } | { type: 'at_hours'; hours: number } | { type: 'after_days'; days: number };

type Op =
  | {
      op: 'grant';
      c: number;
      asset: string;
      amount: number;
      expiry: ExpiryGen;
      ref: 'new' | 'same' | 'conflict';
      pick: number;
    }
  | { op: 'consume'; c: number; asset: string; amount: number; partial: boolean }
  | {
      op: 'settle';
      c: number;
      currency: 'usd' | 'eur';
      subtotal: number;
      invoice: 'new' | 'repeat' | 'conflict';
      pick: number;
    }
  | { op: 'void'; pick: number }
  | { op: 'reverse'; pick: number; repeat: boolean }
  | { op: 'payout'; c: number; amount: number }
  | { op: 'decide'; pick: number; outcome: 'paid' | 'rejected' | 'canceled' }
  | { op: 'sweep' };
type Step = Op & { advance_ms: number };

const customerIndex = fc.integer({ min: 0, max: CUSTOMERS.length - 1 });
const amount = fc.oneof(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 400 }));
const expiryGen: fc.Arbitrary<ExpiryGen> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ type: 'never' as const }) },
  {
    weight: 3,
    arbitrary: fc.integer({ min: 1, max: 5 }).map((days) => ({ type: 'after_days' as const, days })),
  },
  {
    weight: 2,
    arbitrary: fc.integer({ min: -3, max: 96 }).map((hours) => ({ type: 'at_hours' as const, hours })),
  },
);
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('grant' as const),
      c: customerIndex,
      asset: fc.constantFrom(...ASSET_KEYS),
      amount,
      expiry: expiryGen,
      ref: fc.constantFrom('new', 'new', 'new', 'same', 'conflict') as fc.Arbitrary<
        'new' | 'same' | 'conflict'
      >,
      pick: fc.nat(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('consume' as const),
      c: customerIndex,
      asset: fc.constantFrom('minutes', 'minutes', 'free_days', 'usd_credit'),
      amount,
      partial: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('settle' as const),
      c: customerIndex,
      currency: fc.constantFrom('usd', 'usd', 'eur') as fc.Arbitrary<'usd' | 'eur'>,
      subtotal: fc.integer({ min: 0, max: 500 }),
      invoice: fc.constantFrom('new', 'new', 'repeat', 'conflict') as fc.Arbitrary<
        'new' | 'repeat' | 'conflict'
      >,
      pick: fc.nat(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('void' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('reverse' as const), pick: fc.nat(), repeat: fc.boolean() }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('payout' as const),
      c: customerIndex,
      amount: fc.integer({ min: 1, max: 300 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('decide' as const),
      pick: fc.nat(),
      outcome: fc.constantFrom('paid', 'rejected', 'canceled') as fc.Arbitrary<
        'paid' | 'rejected' | 'canceled'
      >,
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'sweep' as const }) },
);
const step: fc.Arbitrary<Step> = fc
  .tuple(
    op,
    fc.oneof(
      fc.constant(0),
      fc.constant(0),
      fc.integer({ min: 1, max: 96 }).map((h) => h * HOUR_MS),
    ),
  )
  .map(([o, advance_ms]) => ({ ...o, advance_ms }));

function toInput(e: Expiry): ExpiryInput {
  if (e.type === 'never') return { type: 'never' };
  if (e.type === 'at') return { type: 'at', at: new Date(e.at) };
  return { type: 'after', duration: `P${e.days}D` };
}

describe('ledger properties (pglite)', () => {
  let db: Db;
  let clock: TestClock;
  let deps: Deps;
  before(async () => {
    db = await openTestPglite();
    clock = new TestClock(new Date('2026-01-01T00:00:00Z'));
    deps = { db, clock, ids: systemIds() };
  });
  after(() => db.close());

  async function real<T>(fn: (tx: Sql) => Promise<T>): Promise<Result<T>> {
    try {
      return { ok: true, value: await db.transaction(fn) };
    } catch (err) {
      if (isPerksError(err)) return { ok: false, code: err.code };
      throw err;
    }
  }

  async function runSequence(steps: Step[]) {
    const ws = (await createWorkspace(deps, 'property')).workspace.id;
    const customers: string[] = [];
    await db.transaction(async (tx) => {
      for (const a of ASSETS) {
        await createAsset(deps, tx, ws, {
          key: a.key,
          kind: a.kind,
          currency: a.currency,
          unit: a.unit,
          purpose: a.purpose,
          negative_policy: a.policy,
          payout_minimum: a.purpose === 'commission' ? a.minimum : undefined,
        });
      }
      for (const c of CUSTOMERS)
        customers.push((await upsertCustomer(deps, tx, ws, { external_id: c }, clock.now())).row.id);
    });
    const model = new LedgerModel(clock.now().getTime(), ASSETS);
    const references: string[] = [];
    const invoices: string[] = [];
    const settled = new Map<string, unknown>();
    const reversed = new Map<number, unknown>();
    const payoutIds: string[] = [];
    let lotIds: string[] = [];
    let serial = 0;
    const lotNumber = (id: string) => {
      const n = lotIds.indexOf(id);
      assert.ok(n >= 0, `unknown lot ${id}`);
      return n;
    };
    const samePieces = (got: { lot: string; amount: number }[], want: Piece[], what: string) =>
      assert.deepEqual(
        got.map((p) => ({ lot: lotNumber(p.lot), amount: p.amount })),
        want,
        `${what}: the lots touched and their order differ from the model`,
      );
    const refreshLots = async () => {
      lotIds = (
        await db.query<{ id: string }>('select id from ledger_lots where workspace_id = $1 order by id', [ws])
      ).map((r) => r.id);
    };

    for (const [index, s] of steps.entries()) {
      const where = `step ${index} ${JSON.stringify(s)}`;
      clock.advance(s.advance_ms);
      model.now = clock.now().getTime();
      // The rows before the operation, taken when the model expects it to change nothing.
      let before: string | undefined;
      const keep = async (unchanged: boolean) => {
        if (unchanged) before = await workspaceDump(db, ws);
      };
      let refused: Result<unknown> | undefined;
      /** The customer the operation concerns: the only one whose state can change when time stands still. */
      let touched: string | undefined;
      let repeat = false;

      switch (s.op) {
        case 'grant': {
          const c = CUSTOMERS[s.c]!;
          let reference = `r${serial++}`;
          let amountToGrant = s.amount;
          let expiry: Expiry =
            s.expiry.type === 'never'
              ? { type: 'never' }
              : s.expiry.type === 'after_days'
                ? { type: 'after_days', days: s.expiry.days }
                : { type: 'at', at: model.now + s.expiry.hours * HOUR_MS };
          let asset = s.asset;
          let customer: string = c;
          if (s.ref !== 'new' && references.length > 0) {
            reference = references[s.pick % references.length]!;
            const prior = model.grantsByReference.get(reference)!;
            if (s.ref === 'same') {
              amountToGrant = prior.amount;
              expiry = prior.expiry;
              asset = prior.asset;
              customer = prior.customer;
            } else {
              amountToGrant = prior.amount + 1;
            }
          }
          touched = customer;
          const want = model.grant(customer, asset, amountToGrant, expiry, reference);
          await keep(!want.ok || !want.value.created);
          const got = await real((tx) =>
            grant(deps, tx, ws, customer, {
              asset,
              amount: amountToGrant,
              expires: toInput(expiry),
              reason: 'property',
              reference,
              source: { type: 'program', id: 'prog_1' },
            }),
          );
          assert.equal(got.ok, want.ok, `${where}: ${JSON.stringify(got)} vs model ${JSON.stringify(want)}`);
          if (got.ok && want.ok) {
            await refreshLots();
            assert.equal(lotNumber(got.value.grant.id), want.value.lot, where);
            assert.equal(got.value.created, want.value.created, where);
            if (want.value.created) references.push(reference);
            else repeat = true;
          } else refused = got;
          if (!got.ok && !want.ok) assert.equal(got.code, want.code, where);
          break;
        }
        case 'consume': {
          const c = CUSTOMERS[s.c]!;
          touched = c;
          const want = model.consume(c, s.asset, s.amount, s.partial);
          await keep(!want.ok);
          const got = await real((tx) =>
            consume(deps, tx, ws, c, { asset: s.asset, amount: s.amount, partial: s.partial }),
          );
          assert.equal(got.ok, want.ok, `${where}: ${JSON.stringify(got)} vs model ${JSON.stringify(want)}`);
          if (got.ok && want.ok) {
            samePieces(got.value.lots, want.value, where);
            assert.equal(
              got.value.consumed,
              want.value.reduce((sum, p) => sum + p.amount, 0),
              where,
            );
          } else {
            refused = got;
            if (!got.ok && !want.ok) assert.equal(got.code, want.code, where);
          }
          break;
        }
        case 'settle': {
          let invoice = `in_${serial++}`;
          let c: string = CUSTOMERS[s.c]!;
          let currency: string = s.currency;
          let subtotal = s.subtotal;
          if (s.invoice !== 'new' && invoices.length > 0) {
            invoice = invoices[s.pick % invoices.length]!;
            const prior = model.settlements.get(invoice)!;
            if (s.invoice === 'repeat') {
              c = prior.customer;
              currency = prior.currency;
              subtotal = prior.subtotal;
            } else subtotal = prior.subtotal + 1;
          }
          touched = c;
          const want = model.settle(invoice, c, currency, subtotal);
          await keep(!want.ok || settled.has(invoice));
          const got = await real((tx) =>
            settleInvoice(deps, tx, ws, {
              invoice_id: invoice,
              customer: c,
              currency,
              subtotal_cents: subtotal,
            }),
          );
          assert.equal(got.ok, want.ok, `${where}: ${JSON.stringify(got)} vs model ${JSON.stringify(want)}`);
          if (got.ok && want.ok) {
            samePieces(
              got.value.credits.map((cr) => ({ lot: cr.lot, amount: cr.amount_cents })),
              want.value.credits,
              where,
            );
            assert.equal(got.value.amount_due_cents, want.value.amount_due, where);
            const first = settled.get(invoice);
            if (first === undefined) {
              settled.set(invoice, got.value);
              invoices.push(invoice);
            } else {
              // 5. A repeated settle answers exactly as the first one did (once voided, with its new status).
              const { status: _s, voided_at: _v, ...now } = got.value;
              const { status: _s0, voided_at: _v0, ...then } = first as typeof got.value;
              assert.deepEqual(now, then, `${where}: a repeated settle answered differently`);
              repeat = true;
            }
          } else {
            refused = got;
            if (!got.ok && !want.ok) assert.equal(got.code, want.code, where);
          }
          break;
        }
        case 'void': {
          if (invoices.length === 0) break;
          const invoice = invoices[s.pick % invoices.length]!;
          const wasVoided = model.settlements.get(invoice)!.voided;
          touched = model.settlements.get(invoice)!.customer;
          const want = model.voidInvoice(invoice);
          await keep(wasVoided);
          const got = await real((tx) => voidInvoice(deps, tx, ws, invoice));
          assert.equal(got.ok, want.ok, where);
          if (got.ok) assert.equal(got.value.status, 'voided', where);
          repeat = wasVoided;
          break;
        }
        case 'reverse': {
          const grants = model.lots.filter((l) => l.grant === l.n);
          if (grants.length === 0) break;
          const target = grants[s.pick % grants.length]!;
          touched = target.customer;
          const want = model.reverse(target.customer, target.n);
          await keep(!want.ok || reversed.has(target.n));
          const got = await real((tx) =>
            reverseGrant(deps, tx, ws, target.customer, { grant: lotIds[target.n]! }),
          );
          assert.equal(got.ok, want.ok, `${where}: ${JSON.stringify(got)}`);
          if (got.ok && want.ok) {
            const r = got.value.reversal;
            assert.deepEqual(
              {
                unspent: r.unspent_reversed,
                spent: r.spent,
                debt_added: r.debt_added,
                forgiven: r.forgiven,
                taken_from_other_lots: r.taken_from_other_lots,
              },
              want.value,
              where,
            );
            const first = reversed.get(target.n);
            if (first === undefined) reversed.set(target.n, r);
            else {
              assert.deepEqual(r, first, `${where}: a repeated reversal answered differently`);
              assert.equal(got.value.created, false, where);
              repeat = true;
            }
            if (s.repeat) {
              // 5. Reversing the same grant again, at once, answers the same and changes nothing.
              const afterFirst = await workspaceDump(db, ws);
              const again = await real((tx) =>
                reverseGrant(deps, tx, ws, target.customer, { grant: lotIds[target.n]! }),
              );
              assert.ok(again.ok, where);
              if (again.ok) assert.deepEqual(again.value.reversal, r, where);
              assert.equal(
                await workspaceDump(db, ws),
                afterFirst,
                `${where}: a repeated reversal wrote something`,
              );
            }
          }
          break;
        }
        case 'payout': {
          const c = CUSTOMERS[s.c]!;
          touched = c;
          const want = model.requestPayout(c, 'commission', s.amount);
          await keep(!want.ok);
          const got = await real((tx) =>
            requestPayout(deps, tx, ws, {
              customer: c,
              asset: 'commission',
              amount: s.amount,
              destination: 'iban:test',
            }),
          );
          assert.equal(got.ok, want.ok, `${where}: ${JSON.stringify(got)} vs model ${JSON.stringify(want)}`);
          if (got.ok && want.ok) {
            samePieces(got.value.lots, want.value.pieces, where);
            payoutIds.push(got.value.id);
          } else {
            refused = got;
            if (!got.ok && !want.ok) assert.equal(got.code, want.code, where);
          }
          break;
        }
        case 'decide': {
          if (payoutIds.length === 0) break;
          const i = s.pick % payoutIds.length;
          const id = payoutIds[i]!;
          const wasDecided = model.payouts[i]!.status === s.outcome;
          touched = model.payouts[i]!.customer;
          const want = model.decidePayout(i, s.outcome);
          await keep(!want.ok || wasDecided);
          repeat = wasDecided;
          const got = await real((tx) =>
            s.outcome === 'paid'
              ? approvePayout(deps, tx, ws, id, 'approver@example.com')
              : voidPayout(deps, tx, ws, id, s.outcome, 'approver@example.com', null),
          );
          assert.equal(got.ok, want.ok, `${where}: ${JSON.stringify(got)} vs model ${JSON.stringify(want)}`);
          if (!got.ok) {
            refused = got;
            if (!want.ok) assert.equal(got.code, want.code, where);
          } else assert.equal(got.value.status, s.outcome, where);
          break;
        }
        case 'sweep': {
          await sweepExpired(deps, 1000);
          model.expireAll();
          break;
        }
      }

      if (refused && !refused.ok) {
        // 6. A refused operation leaves every ledger row as it was, byte for byte.
        assert.ok(before !== undefined, where);
        assert.equal(
          await workspaceDump(db, ws),
          before,
          `${where}: refused with ${refused.code} but wrote something`,
        );
      }
      if (repeat) {
        // 5. An idempotent repeat changes nothing at all (it answers before applying any expiry).
        assert.ok(before !== undefined, where);
        assert.equal(await workspaceDump(db, ws), before, `${where}: a repeat wrote something`);
      }
      // Any read applies due expiries first; read every customer, then compare with the model.
      model.expireAll();
      // While the clock stands still only the customer the operation touched can have changed.
      const toRead = s.advance_ms > 0 || s.op === 'sweep' ? CUSTOMERS : touched ? [touched] : [];
      for (const c of toRead) {
        const read = await customerBalances(deps, ws, c);
        for (const key of ASSET_KEYS) {
          const want = model.balance(c, key);
          const got = read.data.find((b) => b.asset === key);
          assert.deepEqual(
            got
              ? { available: got.available, held: got.held, debt: got.debt }
              : { available: 0, held: 0, debt: 0 },
            want,
            `${where}: balance of ${c} in ${key}`,
          );
        }
      }
      const snapshot = await loadSnapshot(db, ws, clock.now().getTime());
      lotIds = snapshot.lots.map((l) => l.id);
      // 1, 2, 4: the invariants hold on the store itself.
      assert.deepEqual(checkInvariants(snapshot, { expiredSwept: true }), [], where);
      // 2, 3, 4: every lot matches the model's, lot by lot, in creation order.
      assert.equal(snapshot.lots.length, model.lots.length, `${where}: lot count`);
      snapshot.lots.forEach((l, n) => {
        const m = model.lots[n]!;
        assert.deepEqual(
          {
            amount: l.amount,
            remaining: l.remaining,
            expired: l.expired_amount,
            debt_repaid: l.debt_repaid,
            expires_at: l.expires_at_ms,
            grant: lotNumber(l.grant_id),
            customer: l.customer_external_id,
            asset: l.asset_key,
          },
          {
            amount: m.amount,
            remaining: m.remaining,
            expired: m.expired,
            debt_repaid: m.debt_repaid,
            expires_at: m.expires_at,
            grant: m.grant,
            customer: m.customer,
            asset: m.asset,
          },
          `${where}: lot ${n}`,
        );
      });
      // Every customer's balance, held and debt, as stored, against the model.
      for (const c of CUSTOMERS) {
        const id = customers[CUSTOMERS.indexOf(c as (typeof CUSTOMERS)[number])]!;
        for (const key of ASSET_KEYS) {
          const asset = snapshot.asset_ids[key];
          const acc = snapshot.accounts.find((a) => a.customer_id === id && a.asset_id === asset);
          const held = snapshot.payouts
            .filter((p) => p.account_id === acc?.id && p.status === 'pending')
            .reduce((sum, p) => sum + p.amount, 0);
          assert.deepEqual(
            { available: acc?.balance ?? 0, held, debt: acc?.debt ?? 0 },
            model.balance(c, key),
            `${where}: stored balance of ${c} in ${key}`,
          );
        }
      }
      for (const a of ASSET_KEYS) {
        assert.equal(snapshot.breakage[a] ?? 0, model.breakage.get(a) ?? 0, `${where}: breakage of ${a}`);
      }
    }
  }

  it(`${RUNS} random sequences of operations keep every invariant and match the model`, async () => {
    const out = await fc.check(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 25 }), runSequence),
      {
        numRuns: RUNS,
      },
    );
    // The default report names the seed and the shrunk counterexample; the cause says what broke.
    if (out.failed) throw new Error(`${fc.defaultReportMessage(out)}\n\n${String(out.errorInstance)}`);
  });

  it('a day-boundary sequence: expiry at the exact instant, then a sweep, then a read', async () => {
    await runSequence([
      {
        op: 'grant',
        c: 0,
        asset: 'minutes',
        amount: 30,
        expiry: { type: 'after_days', days: 1 },
        ref: 'new',
        pick: 0,
        advance_ms: 0,
      },
      {
        op: 'grant',
        c: 0,
        asset: 'minutes',
        amount: 20,
        expiry: { type: 'never' },
        ref: 'new',
        pick: 0,
        advance_ms: 0,
      },
      { op: 'consume', c: 0, asset: 'minutes', amount: 10, partial: false, advance_ms: DAY_MS - 1 },
      { op: 'consume', c: 0, asset: 'minutes', amount: 25, partial: false, advance_ms: 1 },
      { op: 'sweep', advance_ms: 0 },
      { op: 'consume', c: 0, asset: 'minutes', amount: 25, partial: true, advance_ms: 0 },
    ]);
  });
});
