import { type Locked, type LockTarget, lockLedger, Posting } from './ledger_posting.js';
import { takeTurn } from './ledger_queue.js';
import type { Deps, Sql } from './ports.js';

/**
 * Deciding on a known state, writing if it still holds.
 *
 * The usual shape of a ledger operation is lock, decide, write, commit: four round trips, with the
 * account locked across two of them (the write and the commit). For the operations that many
 * requests make on one account, that lock time is what bounds the account, and the round trips are
 * most of what a request costs the server.
 *
 * Here the operation is decided by the same core code on the state this process last wrote for the
 * account (or read, the first time), and ledger_apply writes it in one call if the database still
 * holds that state, compared by the version every write stamps on the account. When it does not (a
 * write from another process, a rollback), ledger_apply answers the current state and the operation
 * is decided again on it. Inside a transaction the first ledger_apply keeps the accounts locked, so
 * the second attempt holds. Outside one, the single call is the whole operation, and the account is
 * locked only while the database runs it.
 *
 * What is remembered is only ever a starting guess: nothing is written unless it is the state.
 */

/** States remembered, per (workspace, customer as named, assets or currency, subscription). */
const known = new Map<string, Locked<never>>();
/** Beyond this many, the least recently used go. */
const KNOWN_LIMIT = 10_000;

function remember(key: string, state: Locked<never>) {
  known.delete(key);
  if (known.size >= KNOWN_LIMIT) known.delete(known.keys().next().value!);
  known.set(key, state);
}

/**
 * Takes the remembered state out (an operation changes it in place), as a read for a new operation
 * would find it: without its closed lots, with nothing recorded under the new operation's reference
 * or invoice, and no discount to look at. ledger_apply checks all of it.
 */
function recall(key: string): Locked<never> | undefined {
  const state = known.get(key);
  if (!state) return undefined;
  known.delete(key);
  for (const acc of state.accounts) acc.lots = acc.lots.filter((l) => l.remaining > 0);
  return { ...state, prior: null, may_have_discounts: false };
}

/**
 * What an operation decided on a state: its posting (and, for an invoice, its settlement row) with
 * the answer, built once the writes are in while the state is still this operation's; an answer
 * with nothing to write (the grant or settlement already made); or a refusal (e.g. insufficient
 * balance). Either of the last two is given only once it is known to hold for the current state.
 */
export type Decision<R> =
  Posted<R> | { posting?: undefined; answer: () => R } | { posting?: undefined; refusal: Error };

/** A decision that comes with its posting (empty when there is nothing to write). */
export type Posted<R> =
  | { posting: Posting; settlement?: Record<string, unknown>; answer: () => R }
  | { posting: Posting; refusal: Error };

/**
 * The operation cannot be settled in one call: the state kept changing under it, or it needs a step
 * only a transaction allows (creating the account, a discount step). Outside a transaction, the
 * caller runs it in one.
 */
export class NeedsTransaction extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'NeedsTransaction';
  }
}

/**
 * Runs `decide` on the known state of `target` and writes its posting with ledger_apply, deciding
 * again on the current state until one holds (at most `attempts` times; then NeedsTransaction).
 *
 * With `standalone` (no transaction around `sql`), operations on one key take turns
 * (ledger_queue.ts): each starts from the state the one before it wrote. A turn is waited for
 * holding no connection, which is why an operation inside a transaction never waits for one: the
 * operation whose turn it is may need a connection of the pool to write.
 */
export async function decideOnKnownState<R>(
  deps: Deps,
  sql: Sql,
  workspaceId: string,
  target: LockTarget,
  decide: (state: Locked<never>) => Decision<R>,
  options: { attempts: number; standalone: boolean },
): Promise<R> {
  const key = [
    workspaceId,
    target.customerRef,
    target.currency ?? target.assets.map((a) => a.id).join(','),
    target.subscription ?? '',
  ].join('/');
  const turn = options.standalone ? takeTurn(key) : undefined;
  try {
    await turn?.ready;
    let state =
      recall(key) ??
      (await lockLedger(deps, sql, workspaceId, target.customerRef, target.assets, {
        lots: true,
        currency: target.currency,
        reference: target.reference,
        invoice: target.invoice,
        subscription: target.subscription,
        param: target.param,
      }));
    for (let attempt = 1; ; attempt++) {
      const decision = decide(state);
      const write = 'answer' in decision && decision.posting !== undefined;
      const posting = decision.posting ?? new Posting(deps, workspaceId, deps.clock.now(), 'check', null, []);
      const outcome = await posting.apply(sql, target, state, {
        write,
        settlement: 'settlement' in decision ? decision.settlement : undefined,
      });
      if (outcome.applied) {
        // A refusal changed nothing in the database, but deciding it may have changed `state`.
        if (!('answer' in decision)) throw decision.refusal;
        // The answer is built before the state is handed on: the next operation changes it in place.
        const answer = decision.answer();
        if (write) remember(key, state);
        return answer;
      }
      if (attempt >= options.attempts)
        throw new NeedsTransaction('the ledger state changed on every attempt');
      state = outcome.state;
    }
  } finally {
    turn?.done();
  }
}
