/**
 * Idempotency-Key semantics: replay, conflicts, stored errors, concurrency, per-workspace scope,
 * key validation and takeover of a key abandoned by a crashed process.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Harness, type Reply, startHarness } from './helpers/harness.js';
import { workspaceState } from './helpers/isolation.js';
import { storeCases } from './helpers/stores.js';

const KEY = 'idempotency-key';

async function count(h: Harness, table: string, workspaceId = h.workspaceId): Promise<number> {
  const [row] = await h.db.query<{ n: number }>(
    `select count(*)::int as n from ${table} where workspace_id = $1`,
    [workspaceId],
  );
  return row!.n;
}

const replayed = (r: Reply) => r.headers['idempotent-replayed'] === 'true';

/** Locks a customer's row from another connection until `release`, so requests on it wait. */
async function lockCustomer(h: Harness, workspaceId: string, externalId: string) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => {
    locked = resolve;
  });
  const blocker = h.db.transaction(async (tx) => {
    await tx.query('select 1 from customers where workspace_id = $1 and external_id = $2 for update', [
      workspaceId,
      externalId,
    ]);
    locked();
    await released;
  });
  await isLocked;
  return {
    release: async () => {
      release();
      await blocker;
    },
  };
}

/** Waits until `n` sessions of the test database wait on a lock. */
async function lockWaiters(h: Harness, n: number, failure: string) {
  for (let i = 0; ; i++) {
    const [row] = await h.db.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity
       where datname = current_database() and wait_event_type = 'Lock'`,
    );
    if (row!.n >= n) return;
    assert.ok(i < 200, failure);
    await new Promise((r) => setTimeout(r, 25));
  }
}

for (const store of storeCases()) {
  describe(`idempotency (${store.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(store);
    });
    after(() => h.close());

    it('replays the stored status and body for the same key and body, and writes nothing new', async () => {
      const { key } = await h.newWorkspace('replay');
      const body = {
        external_id: 'team_replay',
        email: 'a@replay.example',
        metadata: { plan: 'pro' },
      };
      const first = await h.request('POST', '/v1/customers', {
        key,
        body,
        headers: { [KEY]: 'k-replay' },
      });
      assert.equal(first.status, 201);
      assert.equal(first.headers['idempotent-replayed'], undefined, 'the first answer is not a replay');
      assert.equal(first.headers['original-request'], undefined);
      h.clock.advance(60_000);
      // The same body with its keys in another order is the same request.
      const reordered = {
        metadata: { plan: 'pro' },
        email: 'a@replay.example',
        external_id: 'team_replay',
      };
      for (const again of [body, reordered]) {
        const second = await h.request('POST', '/v1/customers', {
          key,
          body: again,
          headers: { [KEY]: 'k-replay' },
        });
        assert.equal(second.status, 201, 'the stored status, not the 200 an update would give');
        assert.ok(replayed(second));
        assert.deepEqual(second.body, first.body);
        assert.equal(second.headers['original-request'], first.headers['request-id']);
      }
      const stored = await h.request('GET', '/v1/customers/team_replay', {
        key,
      });
      assert.equal(stored.body.updated_at, first.body.updated_at, 'the replay did not run the update');

      const event = {
        id: 'evt_replay',
        type: 'payment.succeeded',
        occurred_at: '2026-01-01T00:00:00Z',
        data: {
          customer: 'team_replay',
          payment: { id: 'pay_replay', amount: 500, currency: 'usd' },
        },
      };
      const e1 = await h.request('POST', '/v1/events', {
        key,
        body: event,
        headers: { [KEY]: 'k-evt' },
      });
      const e2 = await h.request('POST', '/v1/events', {
        key,
        body: event,
        headers: { [KEY]: 'k-evt' },
      });
      assert.equal(e1.status, 200);
      assert.equal(e1.body.duplicate, false);
      assert.ok(replayed(e2));
      assert.deepEqual(e2.body, e1.body, 'a replay, not a dedupe answer (which would say duplicate: true)');
      const list = await h.request('GET', '/v1/events', { key });
      assert.equal(list.body.data.length, 1);
    });

    it('refuses the same key with another body or another route (409 idempotency_key_reused), changing nothing', async () => {
      const ws = await h.newWorkspace('reuse');
      const key = ws.key;
      const first = await h.request('POST', '/v1/customers', {
        key,
        body: { external_id: 'team_reuse', name: 'First' },
        headers: { [KEY]: 'k-reuse' },
      });
      assert.equal(first.status, 201);
      const before = await workspaceState(h.db, ws.workspaceId);
      const attempts: [string, unknown][] = [
        ['/v1/customers', { external_id: 'team_reuse', name: 'Second' }],
        ['/v1/customers', { external_id: 'team_other' }],
        [
          '/v1/events',
          {
            id: 'evt_reuse',
            type: 'customer.created',
            occurred_at: '2026-01-01T00:00:00Z',
            data: { customer: { external_id: 'team_reuse', name: 'Third' } },
          },
        ],
      ];
      for (const [url, body] of attempts) {
        const res = await h.request('POST', url, {
          key,
          body,
          headers: { [KEY]: 'k-reuse' },
        });
        assert.equal(res.status, 409, `${url} ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, 'idempotency_key_reused');
        assert.equal(res.body.error.type, 'idempotency_error');
        assert.equal(res.body.error.param, 'Idempotency-Key');
      }
      assert.deepEqual(await workspaceState(h.db, ws.workspaceId), before, 'nothing changed');
    });

    it('replays a stored 4xx domain error even after the cause went away', async () => {
      const { key } = await h.newWorkspace('stored-error');
      const body = { external_id: 'child', parent_customer_id: 'parent' };
      const first = await h.request('POST', '/v1/customers', {
        key,
        body,
        headers: { [KEY]: 'k-err' },
      });
      assert.equal(first.status, 400);
      assert.equal(first.body.error.code, 'customer_parent_invalid');
      // The parent now exists, but a retry with the same key gets the answer the key already holds.
      const parent = await h.request('POST', '/v1/customers', {
        key,
        body: { external_id: 'parent' },
      });
      assert.equal(parent.status, 201);
      const second = await h.request('POST', '/v1/customers', {
        key,
        body,
        headers: { [KEY]: 'k-err' },
      });
      assert.equal(second.status, 400);
      assert.ok(replayed(second));
      assert.deepEqual(second.body, first.body);
      // The stored envelope names the first request; the replay says so, under an id of its own.
      assert.equal(second.body.error.request_id, first.headers['request-id']);
      assert.equal(second.headers['original-request'], first.headers['request-id']);
      assert.notEqual(second.headers['request-id'], first.headers['request-id']);
      assert.equal((await h.request('GET', '/v1/customers/child', { key })).status, 404);
      // Without the key (or with a new one) the request runs afresh and now succeeds.
      const fresh = await h.request('POST', '/v1/customers', {
        key,
        body,
        headers: { [KEY]: 'k-err-2' },
      });
      assert.equal(fresh.status, 201);
    });

    it('does not store answers to requests that failed validation, so a corrected retry with the key runs', async () => {
      const { key } = await h.newWorkspace('validation');
      const bad = await h.request('POST', '/v1/customers', {
        key,
        body: { external_id: 'v', email: 'not-an-email' },
        headers: { [KEY]: 'k-valid' },
      });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'parameter_invalid');
      const good = await h.request('POST', '/v1/customers', {
        key,
        body: { external_id: 'v', email: 'v@valid.example' },
        headers: { [KEY]: 'k-valid' },
      });
      assert.equal(good.status, 201);
      // The same for input refused past the schema, where the check needs more than the field (a
      // date's end in a time zone falls after 9999-12-31T23:59:59.999Z in UTC).
      const send = (expires_at: string) =>
        h.request('POST', '/v1/promotions', {
          key,
          body: { name: 'Late', percent_off_bps: 1000, expires_at },
          headers: { [KEY]: 'k-range' },
        });
      const outOfRange = await send('9999-12-31T23:00:00-02:00');
      assert.equal(outOfRange.status, 400, JSON.stringify(outOfRange.body));
      assert.equal(outOfRange.body.error.param, 'expires_at');
      const corrected = await send('2030-01-01T00:00:00Z');
      assert.equal(corrected.status, 201, JSON.stringify(corrected.body));
    });

    it('runs concurrent requests with one key exactly once', async () => {
      const ws = await h.newWorkspace('concurrent');
      const body = { external_id: 'team_race', email: 'race@example.com' };
      const replies = await Promise.all(
        Array.from({ length: 25 }, () =>
          h.request('POST', '/v1/customers', {
            key: ws.key,
            body,
            headers: { [KEY]: 'k-race' },
          }),
        ),
      );
      const executed = replies.filter((r) => r.status < 300 && !replayed(r));
      assert.equal(executed.length, 1, `exactly one execution: ${replies.map((r) => r.status)}`);
      assert.equal(executed[0]!.status, 201);
      for (const r of replies) {
        if (r.status === 409) assert.equal(r.body.error.code, 'idempotency_key_in_use');
        else {
          assert.equal(r.status, 201);
          assert.deepEqual(r.body, executed[0]!.body);
        }
      }
      assert.equal(await count(h, 'customers', ws.workspaceId), 1);
      const keys = await h.db.query<{ state: string }>(
        'select state from idempotency_keys where workspace_id = $1',
        [ws.workspaceId],
      );
      assert.deepEqual(
        keys.map((k) => k.state),
        ['done'],
      );
    });

    if (store.name === 'postgres') {
      it('answers 409 idempotency_key_in_use while the first request holds its transaction open', async () => {
        const ws = await h.newWorkspace('in-use');
        const created = await h.request('POST', '/v1/customers', {
          key: ws.key,
          body: { external_id: 'team_locked' },
        });
        assert.equal(created.status, 201);
        // Another connection locks the customer row, so the first request blocks inside its transaction.
        const lock = await lockCustomer(h, ws.workspaceId, 'team_locked');
        const body = { external_id: 'team_locked', name: 'Renamed once' };
        const first = h.request('POST', '/v1/customers', {
          key: ws.key,
          body,
          headers: { [KEY]: 'k-held' },
        });
        try {
          // Wait until the first request is really waiting on the lock, inside its transaction.
          await lockWaiters(h, 1, 'the first request never reached the lock');
          const second = await h.request('POST', '/v1/customers', {
            key: ws.key,
            body,
            headers: { [KEY]: 'k-held' },
          });
          assert.equal(second.status, 409, JSON.stringify(second.body));
          assert.equal(second.body.error.code, 'idempotency_key_in_use');
          assert.match(second.body.error.message, /still running/);
          const other = await h.request('POST', '/v1/customers', {
            key: ws.key,
            body: { external_id: 'team_locked', name: 'Something else' },
            headers: { [KEY]: 'k-held' },
          });
          assert.equal(other.status, 409);
          assert.equal(other.body.error.code, 'idempotency_key_reused');
        } finally {
          await lock.release();
        }
        const done = await first;
        assert.equal(done.status, 200);
        assert.equal(done.body.name, 'Renamed once');
        const third = await h.request('POST', '/v1/customers', {
          key: ws.key,
          body,
          headers: { [KEY]: 'k-held' },
        });
        assert.ok(replayed(third));
        assert.deepEqual(third.body, done.body);
      });

      it('keeps only the retry when a request still running after 60 s has its key taken over', async () => {
        const ws = await h.newWorkspace('taken-over');
        const created = await h.request('POST', '/v1/customers', {
          key: ws.key,
          body: { external_id: 'team_slow' },
        });
        assert.equal(created.status, 201);
        // Another connection locks the customer row, so the first request blocks inside its transaction.
        const lock = await lockCustomer(h, ws.workspaceId, 'team_slow');
        const body = { external_id: 'team_slow', name: 'Renamed' };
        const send = () =>
          h.request('POST', '/v1/customers', { key: ws.key, body, headers: { [KEY]: 'k-slow' } });
        const first = send();
        let retry: Promise<Reply>;
        try {
          for (let i = 0; ; i++) {
            const [claimed] = await h.db.query<{ n: number }>(
              `select count(*)::int as n from idempotency_keys where workspace_id = $1 and key = 'k-slow'`,
              [ws.workspaceId],
            );
            if (claimed!.n > 0) break;
            assert.ok(i < 200, 'the first request never claimed its key');
            await new Promise((r) => setTimeout(r, 25));
          }
          // The first request looks abandoned: the retry takes its key over and waits on the lock too.
          h.clock.advance(61_000);
          retry = send();
          await lockWaiters(h, 2, 'the retry never reached the lock');
        } finally {
          await lock.release();
        }
        const [firstReply, retryReply] = await Promise.all([first, retry!]);
        assert.equal(firstReply.status, 409, JSON.stringify(firstReply.body));
        assert.equal(firstReply.body.error.code, 'idempotency_key_in_use');
        assert.match(firstReply.body.error.message, /took the key over; nothing this request did was kept/);
        assert.equal(retryReply.status, 200, JSON.stringify(retryReply.body));
        // The key holds the retry's answer, named by the retry's request id.
        const again = await send();
        assert.ok(replayed(again));
        assert.deepEqual(again.body, retryReply.body);
        assert.equal(again.headers['original-request'], retryReply.headers['request-id']);
      });

      it('executes once under many concurrent attempts on several connections', async () => {
        const ws = await h.newWorkspace('many');
        const event = (n: number) => ({
          id: `evt_many_${n}`,
          type: 'card.attached',
          occurred_at: '2026-01-01T00:00:00Z',
          data: {
            customer: 'team_many',
            payment_method: { fingerprint: `fp_${n}` },
          },
        });
        // The batch is slow enough for the attempts to overlap the first one's transaction.
        const body = {
          events: Array.from({ length: 200 }, (_, n) => event(n)),
        };
        const replies = await Promise.all(
          Array.from({ length: 15 }, () =>
            h.request('POST', '/v1/events', {
              key: ws.key,
              body,
              headers: { [KEY]: 'k-many' },
            }),
          ),
        );
        const executed = replies.filter((r) => r.status === 200 && !replayed(r));
        assert.equal(executed.length, 1, `statuses ${replies.map((r) => r.status)}`);
        const inUse = replies.filter((r) => r.status === 409);
        assert.ok(inUse.length > 0, 'overlapping attempts meet the running first one');
        for (const r of inUse) assert.equal(r.body.error.code, 'idempotency_key_in_use');
        assert.equal(await count(h, 'events', ws.workspaceId), 200);
        assert.equal(await count(h, 'payment_methods', ws.workspaceId), 200);
      });
    }

    it('scopes keys to the workspace: the same key in two workspaces is independent', async () => {
      const one = await h.newWorkspace('one');
      const two = await h.newWorkspace('two');
      const r1 = await h.request('POST', '/v1/customers', {
        key: one.key,
        body: { external_id: 'shared', name: 'One' },
        headers: { [KEY]: 'k-shared' },
      });
      const r2 = await h.request('POST', '/v1/customers', {
        key: two.key,
        body: { external_id: 'shared', name: 'Two' },
        headers: { [KEY]: 'k-shared' },
      });
      assert.equal(r1.status, 201);
      assert.equal(r2.status, 201, 'not a conflict with the other workspace');
      assert.equal(r2.headers['idempotent-replayed'], undefined);
      assert.notEqual(r2.body.id, r1.body.id);
      assert.equal(r2.body.name, 'Two');
      const r3 = await h.request('POST', '/v1/customers', {
        key: two.key,
        body: { external_id: 'shared', name: 'One' },
        headers: { [KEY]: 'k-shared' },
      });
      assert.equal(r3.status, 409, "workspace two's own use of the key governs");
      assert.equal(r3.body.error.code, 'idempotency_key_reused');
    });

    it('refuses an invalid Idempotency-Key header with a typed 400 and writes nothing', async () => {
      const ws = await h.newWorkspace('bad-keys');
      for (const bad of ['x'.repeat(256), 'clé', 'tab\there', '']) {
        const res = await h.request('POST', '/v1/customers', {
          key: ws.key,
          body: { external_id: 'never' },
          headers: { [KEY]: bad },
        });
        assert.equal(res.status, 400, JSON.stringify(bad));
        assert.equal(res.body.error.code, 'idempotency_key_invalid');
        assert.equal(res.body.error.type, 'idempotency_error');
        assert.equal(res.body.error.param, 'Idempotency-Key');
        assert.match(res.body.error.message, /1 to 255 printable ASCII/);
      }
      assert.equal(await count(h, 'customers', ws.workspaceId), 0);
      assert.equal(await count(h, 'idempotency_keys', ws.workspaceId), 0);
      const longest = await h.request('POST', '/v1/customers', {
        key: ws.key,
        body: { external_id: 'longest' },
        headers: { [KEY]: '~'.repeat(255) },
      });
      assert.equal(longest.status, 201, 'a key of exactly 255 characters is accepted');
    });

    it('takes over a key abandoned by a crashed process after 60 s, not before', async () => {
      const ws = await h.newWorkspace('abandoned');
      const body = { external_id: 'team_abandoned' };
      // A claim whose process died: 'started' with no response and no effects.
      const first = await h.request('POST', '/v1/customers', {
        key: ws.key,
        body,
        headers: { [KEY]: 'k-abandoned' },
      });
      assert.equal(first.status, 201);
      await h.db.query(
        `update idempotency_keys set state = 'started', response_status = null, response_body = null, locked_at = $2
         where workspace_id = $1`,
        [ws.workspaceId, h.clock.now()],
      );
      await h.db.query('delete from customers where workspace_id = $1', [ws.workspaceId]);
      const early = await h.request('POST', '/v1/customers', {
        key: ws.key,
        body,
        headers: { [KEY]: 'k-abandoned' },
      });
      assert.equal(early.status, 409);
      assert.equal(early.body.error.code, 'idempotency_key_in_use');
      h.clock.advance(61_000);
      const late = await h.request('POST', '/v1/customers', {
        key: ws.key,
        body,
        headers: { [KEY]: 'k-abandoned' },
      });
      assert.equal(late.status, 201, JSON.stringify(late.body));
      assert.equal(late.headers['idempotent-replayed'], undefined);
      assert.equal(await count(h, 'customers', ws.workspaceId), 1);
    });
  });
}
