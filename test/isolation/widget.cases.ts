import assert from 'node:assert/strict';
import type { Reply } from '../helpers/harness.js';
import { generatedIds, type IsolationCase, type IsolationContext } from '../helpers/isolation.js';

/**
 * Tenant-isolation cases for customer tokens and the widget endpoints. The widget routes take a
 * customer token, not a secret key, so besides A's key (refused there) each case attacks with A's
 * own customer tokens, and with tokens forged to name B's workspace or B's customer.
 */

const PROGRAM = 'free-days-or-commission';

/** B's commission program and a partner with $39 of withdrawable commission and a token of its own. */
async function seedB({ asB, h, unique }: IsolationContext) {
  const program = await asB('POST', '/v1/programs/from_template', { body: { template: PROGRAM } });
  assert.equal(program.status, 201, JSON.stringify(program.body));
  const partner = unique('b_partner');
  const client = unique('b_client');
  const at = () => h.clock.now().toISOString();
  const send = async (type: string, data: object) => {
    const res = await asB('POST', '/v1/events', {
      body: { id: unique('evt'), type, occurred_at: at(), data },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  };
  await send('customer.created', { customer: { external_id: partner } });
  const code = await asB('POST', `/v1/customers/${partner}/referral_code`, { body: { program: PROGRAM } });
  assert.equal(code.status, 201, JSON.stringify(code.body));
  await send('customer.created', { customer: { external_id: client }, referral_code: code.body.code });
  await asB('POST', `/v1/customers/${partner}/referral_option`, {
    body: { program: PROGRAM, option: 'cash' },
  });
  await asB('POST', `/v1/customers/${partner}/contract`, { body: {} });
  h.clock.advance(60_000);
  await send('payment.succeeded', {
    customer: client,
    payment: { id: unique('pay'), amount: 39000, currency: 'usd', interval: 'year' },
  });
  const token = await asB('POST', '/v1/customer_tokens', { body: { customer: partner } });
  assert.equal(token.status, 201, JSON.stringify(token.body));
  const own = await h.request('GET', `/v1/widget/referral?program=${PROGRAM}`, { key: token.body.token });
  assert.equal(own.status, 200, JSON.stringify(own.body));
  assert.equal(own.body.commission[0].available, 3900, "B's partner has commission to steal");
  return {
    programId: program.body.id as string,
    partner,
    partnerId: code.body.customer as string,
    code: code.body.code as string,
    token: token.body.token as string,
  };
}

type Seed = Awaited<ReturnType<typeof seedB>>;

function readsOf(seed: Seed) {
  return [
    `/v1/customers/${seed.partner}/balances`,
    `/v1/customers/${seed.partner}/referral_summary`,
    `/v1/payouts?customer=${seed.partnerId}`,
  ];
}

/** A's customer with the same external id as B's partner, and a token for it minted with A's key. */
async function tokenOfA(ctx: IsolationContext, seed: Seed) {
  await ctx.asA('POST', '/v1/customers', { body: { external_id: seed.partner } });
  const minted = await ctx.asA('POST', '/v1/customer_tokens', { body: { customer: seed.partner } });
  assert.equal(minted.status, 201, JSON.stringify(minted.body));
  assert.notEqual(minted.body.customer, seed.partnerId, "the external id resolves to A's own customer");
  return minted.body.token as string;
}

/** Tokens built from A's genuine token, re-pointed at B: each carries A's signature, so none verifies. */
function forgeries(tokenA: string, ctx: IsolationContext, seed: Seed): [string, string][] {
  const [, , expiry, signature] = tokenA.slice(3).split('.');
  return [
    ["B's workspace and B's customer", `ct_${ctx.b.workspaceId}.${seed.partnerId}.${expiry}.${signature}`],
    ["A's workspace and B's customer", `ct_${ctx.a.workspaceId}.${seed.partnerId}.${expiry}.${signature}`],
  ];
}

/** Sends a request with a customer token (asA always sends A's secret key) and checks for B's ids. */
async function withToken(
  ctx: IsolationContext,
  token: string,
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
): Promise<Reply> {
  const reply = await ctx.h.request(method, url, { key: token, ...(body === undefined ? {} : { body }) });
  const sent = `${url}\n${JSON.stringify(body ?? null)}\n${token}`;
  const answer = JSON.stringify(reply.body);
  for (const id of await generatedIds(ctx.h.db, ctx.b.workspaceId)) {
    if (sent.includes(id)) continue;
    assert.ok(!answer.includes(id), `${method} ${url} with A's token answered with B's id ${id}: ${answer}`);
  }
  return reply;
}

function expectTokenRefused(reply: Reply, code: string, what: string) {
  assert.equal(reply.status, 401, `${what}: ${JSON.stringify(reply.body)}`);
  assert.equal(reply.body?.error?.code, code, `${what}: ${JSON.stringify(reply.body)}`);
}

export const cases: IsolationCase[] = [
  {
    method: 'POST',
    url: '/v1/customer_tokens',
    name: "A cannot mint a token for B's customer, by Perks id or external id",
    async run(ctx) {
      const seed = await seedB(ctx);
      await ctx.unchangedForB(async () => {
        ctx.expectNotFound(
          await ctx.asA('POST', '/v1/customer_tokens', { body: { customer: seed.partnerId } }),
          "B's customer id",
        );
        ctx.expectNotFound(
          await ctx.asA('POST', '/v1/customer_tokens', { body: { customer: seed.partner } }),
          "B's external id",
        );
        await tokenOfA(ctx, seed);
      }, readsOf(seed));
    },
  },
  {
    method: 'GET',
    url: '/v1/widget/referral',
    name: "A's key and A's customer tokens read nothing of B; tokens re-pointed at B are refused",
    async run(ctx) {
      const seed = await seedB(ctx);
      const url = `/v1/widget/referral?program=${PROGRAM}`;
      await ctx.unchangedForB(async () => {
        expectTokenRefused(await ctx.asA('GET', url), 'customer_token_malformed', "A's secret key");
        const token = await tokenOfA(ctx, seed);
        ctx.expectNotFound(await withToken(ctx, token, 'GET', url), "B's program key");
        ctx.expectNotFound(
          await withToken(ctx, token, 'GET', `/v1/widget/referral?program=${seed.programId}`),
          "B's program id",
        );
        const named = await withToken(ctx, token, 'GET', `${url}&customer=${seed.partnerId}`);
        assert.equal(named.status, 400, 'the customer comes from the token only');
        assert.equal(named.body.error.code, 'parameter_unknown');
        for (const [what, forged] of forgeries(token, ctx, seed)) {
          expectTokenRefused(await withToken(ctx, forged, 'GET', url), 'customer_token_invalid', what);
        }
        // With the same program in A, A's customer sees its own, empty panel.
        await ctx.asA('POST', '/v1/programs/from_template', { body: { template: PROGRAM } });
        const mine = await withToken(ctx, token, 'GET', url);
        assert.equal(mine.status, 200, JSON.stringify(mine.body));
        assert.notEqual(mine.body.code, seed.code);
        assert.deepEqual(mine.body.referrals, { invited: 0, converted: 0, pending: 0 });
        assert.deepEqual(mine.body.rewards, []);
      }, readsOf(seed));
    },
  },
  {
    method: 'POST',
    url: '/v1/widget/payouts',
    name: "neither A's key nor A's tokens can withdraw B's commission",
    async run(ctx) {
      const seed = await seedB(ctx);
      const body = { program: PROGRAM };
      await ctx.unchangedForB(async () => {
        expectTokenRefused(
          await ctx.asA('POST', '/v1/widget/payouts', { body }),
          'customer_token_malformed',
          "A's secret key",
        );
        const token = await tokenOfA(ctx, seed);
        ctx.expectNotFound(await withToken(ctx, token, 'POST', '/v1/widget/payouts', body), "B's program");
        for (const [what, forged] of forgeries(token, ctx, seed)) {
          expectTokenRefused(
            await withToken(ctx, forged, 'POST', '/v1/widget/payouts', body),
            'customer_token_invalid',
            what,
          );
        }
        await ctx.asA('POST', '/v1/programs/from_template', { body: { template: PROGRAM } });
        const mine = await withToken(ctx, token, 'POST', '/v1/widget/payouts', { ...body, amount: 3900 });
        assert.equal(mine.status, 409, JSON.stringify(mine.body));
        assert.equal(mine.body.error.code, 'insufficient_balance', "A's customer has nothing to withdraw");
      }, readsOf(seed));
    },
  },
];
