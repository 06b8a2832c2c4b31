import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { stripeClient } from '../../src/adapters/billing/stripe/client.js';
import { type SyncProgress, syncFromStripe } from '../../src/adapters/billing/stripe/sync.js';
import { progressPrinter, registerStripeCommands } from '../../src/adapters/cli/stripe.js';
import { openPglite } from '../../src/adapters/db/db.js';
import { migrate } from '../../src/adapters/db/migrate.js';
import { systemClock, systemIds } from '../../src/adapters/system.js';
import { putStripeSettings } from '../../src/app/stripe_settings.js';
import { createWorkspace } from '../../src/app/workspaces.js';
import { type Harness, startHarness } from '../helpers/harness.js';
import { storeCases } from '../helpers/stores.js';
import { type FakeStripe, startFakeStripe } from './fake_stripe.js';
import { customer, paymentMethod, stripeObject, subscription, T0 } from './fixtures.js';

/** `perks stripe sync`: the backfill from Stripe's list endpoints, and its command line. */

function fillStripe(fake: FakeStripe, n: number) {
  fake.lists.products = [stripeObject('product', { id: 'prod_pro', metadata: { perks_plan_units: '900' } })];
  fake.lists.customers = [];
  fake.lists.subscriptions = [];
  fake.lists.payment_methods = [];
  for (let i = 0; i < n; i++) {
    const id = `cus_sync_${String(i).padStart(3, '0')}`;
    fake.lists.customers.push(customer(id, { metadata: { plan: 'pro' } }));
    const sub = subscription(`sub_sync_${i}`, id, { status: i % 5 === 0 ? 'canceled' : 'active' });
    sub.items.data[0].price.product = 'prod_pro';
    fake.lists.subscriptions.push(sub);
    if (i % 2 === 0)
      fake.lists.payment_methods.push({
        ...paymentMethod(`pm_sync_${i}`, id, `fp_sync_${i}`),
        created: T0 - i,
      });
  }
}

for (const store of storeCases()) {
  describe(`perks stripe sync (${store.name})`, () => {
    let h: Harness;
    let fake: FakeStripe;
    before(async () => {
      h = await startHarness(store);
      fake = await startFakeStripe();
    });
    after(async () => {
      await fake?.close();
      await h?.close();
    });

    it('backfills customers, subscriptions with plan units, and cards through the webhook path, with progress', async () => {
      fillStripe(fake, 23);
      // A code typed at sign-up, in the metadata: redeemed once, for the subscription, however often
      // the sync runs (the promotion would allow the customer three).
      const promotion = await h.request('POST', '/v1/promotions', {
        body: { name: 'Sync', percent_off_bps: 1000, stackable: true, max_per_customer: 3 },
      });
      assert.equal(promotion.status, 201, JSON.stringify(promotion.body));
      await h.request('POST', '/v1/promotion_codes', {
        body: { promotion: promotion.body.id, code: 'SYNCME' },
      });
      (fake.lists.customers![1]!.metadata as Record<string, string>).promotion_code = 'sync-me';
      const progress: SyncProgress[] = [];
      const result = await syncFromStripe(
        h.deps,
        h.workspaceId,
        stripeClient('rk_test_sync12345', fake.url),
        (p) => progress.push(p),
      );
      assert.deepEqual(Object.fromEntries(Object.entries(result.counts).map(([k, v]) => [k, v.processed])), {
        products: 1,
        customers: 23,
        subscriptions: 23,
        payment_methods: 12,
      });
      const list = fake.requests.filter((r) => r.path === '/v1/customers');
      assert.equal(list.length, 1, 'one page of 100');
      const customers = await h.request('GET', '/v1/customers?limit=100');
      assert.equal(customers.body.data.length, 23);
      const one = await h.request('GET', '/v1/customers/cus_sync_004');
      assert.equal(one.body.subscriptions[0].plan_units, 900, "from the product's metadata");
      assert.equal(one.body.payment_methods[0].fingerprint, 'fp_sync_4');
      assert.equal(one.body.payment_methods[0].attached_at, new Date((T0 - 4) * 1000).toISOString());
      const canceled = await h.request('GET', '/v1/customers/cus_sync_005');
      assert.equal(canceled.body.subscriptions[0].status, 'canceled');
      const applying = progress.filter((p) => p.step === 'applying' && p.phase === 'customers');
      assert.equal(applying.length, 23);
      assert.deepEqual(applying.at(-1), { phase: 'customers', step: 'applying', done: 23, total: 23 });

      // A second run changes nothing it already knows: no duplicate cards or subscriptions.
      const again = await syncFromStripe(h.deps, h.workspaceId, stripeClient('rk_test_sync12345', fake.url));
      assert.notEqual(again.run, result.run);
      const [counts] = await h.db.query<{ cards: number; subs: number }>(
        `select (select count(*)::int8 from payment_methods where workspace_id = $1) as cards,
                (select count(*)::int8 from subscriptions where workspace_id = $1) as subs`,
        [h.workspaceId],
      );
      assert.deepEqual(counts, { cards: 12, subs: 23 });
      const redeemed = await h.request('GET', '/v1/redemptions?customer=cus_sync_001');
      assert.deepEqual(
        redeemed.body.data.map((r: { code: string; subscription: string }) => [r.code, r.subscription]),
        [['SYNCME', 'sub_sync_1']],
      );
    });

    it('.error a refused key is a typed error naming Stripe', async () => {
      fake.fail('/v1/products', 401);
      await assert.rejects(
        syncFromStripe(h.deps, h.workspaceId, stripeClient('rk_test_badkey12345', fake.url)),
        (err: Error & { code?: string }) =>
          err.code === 'stripe_not_configured' && /HTTP 401/.test(err.message),
      );
    });
  });
}

describe('perks stripe sync, the command', () => {
  let fake: FakeStripe;
  let dir: string;
  const saved = { ...process.env };
  before(async () => {
    fake = await startFakeStripe();
    dir = mkdtempSync(path.join(tmpdir(), 'perks-sync-'));
  });
  after(async () => {
    process.env = saved;
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the workspace’s key, fills the store and prints a progress bar and a summary', async () => {
    fillStripe(fake, 5);
    const db = await openPglite({ dataDir: dir, command: 'test' });
    const deps = { db, clock: systemClock, ids: systemIds() };
    await migrate(db);
    const { workspace } = await createWorkspace(deps, 'sync');
    await db.transaction((tx) =>
      putStripeSettings(deps, tx, workspace.id, { api_key: 'rk_test_fromSettings1' }),
    );
    await db.close();

    process.env.PERKS_DATA_DIR = dir;
    delete process.env.DATABASE_URL;
    process.env.STRIPE_API_BASE = fake.url;
    const lines: string[] = [];
    const log = console.log;
    console.log = (line: string) => lines.push(line);
    try {
      const program = new Command().exitOverride();
      registerStripeCommands(program);
      await program.parseAsync(['stripe', 'sync', '--workspace', workspace.id], { from: 'user' });
    } finally {
      console.log = log;
    }
    assert.match(lines.join('\n'), /customers\s+5 applied, 0 ignored, 0 waiting, 0 failed/);
    assert.ok(fake.requests.every((r) => r.authorization === 'Bearer rk_test_fromSettings1'));

    const reopened = await openPglite({ dataDir: dir, command: 'test' });
    const [row] = await reopened.query<{ n: number }>(
      'select count(*)::int8 as n from customers where workspace_id = $1',
      [workspace.id],
    );
    await reopened.close();
    assert.equal(row!.n, 5);
  });

  it('the progress bar fills to its total', () => {
    const written: string[] = [];
    const stream = { isTTY: false, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    const print = progressPrinter(stream);
    for (let done = 1; done <= 40; done++) print({ phase: 'customers', step: 'applying', done, total: 40 });
    assert.equal(written.at(-1), `Applying customers [${'#'.repeat(30)}] 40/40\n`);
    assert.ok(written.length <= 12, 'a line per tenth when not a terminal');
    assert.match(written[0]!, /^Applying customers \[-*#*-*\] 1\/40/);
  });
});
