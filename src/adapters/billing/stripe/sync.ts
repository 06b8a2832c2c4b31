import type Stripe from 'stripe';
import type { Deps } from '../../../app/ports.js';
import { getStripeSettings } from '../../../app/stripe_settings.js';
import type { StripeEventStatus } from '../../../app/stripe_events.js';
import { PerksError } from '../../../core/errors.js';
import { envelopeInput, storeAndApply } from './inbound.js';

/**
 * `perks stripe sync`: the backfill for a workspace that starts using Perks with customers already in
 * Stripe. Products (for plan units), customers, subscriptions (every status) and each customer's
 * cards are read from Stripe's list endpoints and go through exactly the path webhooks take: each
 * object becomes an event stored under an id of this run (`sync_<run>_<object id>`) and applied by
 * the same handler, so failures show in `GET /v1/stripe/events` like any other. The facts are true
 * as of the sync, so a webhook created before the sync and delivered after it changes nothing; a card
 * keeps the time it was created in Stripe as its attach time.
 *
 * Each list is read in full before it is applied, so the progress of the applying is known; that
 * holds every object of one kind in memory at once.
 */

export type SyncPhase = 'products' | 'customers' | 'subscriptions' | 'payment_methods';
export const SYNC_PHASES: readonly SyncPhase[] = [
  'products',
  'customers',
  'subscriptions',
  'payment_methods',
];

export interface SyncProgress {
  phase: SyncPhase;
  step: 'listing' | 'applying';
  done: number;
  /** Known while applying. */
  total?: number | undefined;
}

export type SyncCounts = Record<SyncPhase, Record<StripeEventStatus, number>>;

export interface SyncResult {
  run: string;
  counts: SyncCounts;
}

const LIST_PAGE = 100;

export async function syncFromStripe(
  deps: Deps,
  workspaceId: string,
  stripe: Stripe,
  onProgress: (p: SyncProgress) => void = () => {},
): Promise<SyncResult> {
  const settings = await getStripeSettings(deps.db, workspaceId);
  const run = deps.ids.id('sync');
  const empty = (): Record<StripeEventStatus, number> => ({
    received: 0,
    processed: 0,
    failed: 0,
    ignored: 0,
    deferred: 0,
  });
  const counts: SyncCounts = {
    products: empty(),
    customers: empty(),
    subscriptions: empty(),
    payment_methods: empty(),
  };

  const list = async <T extends { id: string }>(
    phase: SyncPhase,
    iterate: AsyncIterable<T>,
  ): Promise<T[]> => {
    const items: T[] = [];
    for await (const item of iterate) {
      items.push(item);
      if (items.length % LIST_PAGE === 0) onProgress({ phase, step: 'listing', done: items.length });
    }
    onProgress({ phase, step: 'listing', done: items.length });
    return items;
  };

  const apply = async (
    phase: SyncPhase,
    type: string,
    objects: readonly { id: string; created?: number }[],
    occurredAt: (o: { created?: number }) => number,
  ) => {
    let done = 0;
    for (const object of objects) {
      const event = {
        id: `${run}_${object.id}`,
        object: 'event',
        type,
        created: occurredAt(object),
        livemode: false,
        api_version: null,
        data: { object },
      };
      const body = JSON.stringify(event);
      const { row } = await storeAndApply(deps, workspaceId, envelopeInput(deps, event, body), settings);
      counts[phase][row.status]++;
      onProgress({ phase, step: 'applying', done: ++done, total: objects.length });
    }
  };

  const now_s = () => Math.floor(deps.clock.now().getTime() / 1000);
  try {
    const products = await list('products', stripe.products.list({ limit: LIST_PAGE }));
    await apply('products', 'product.updated', products, now_s);
    const customers = await list('customers', stripe.customers.list({ limit: LIST_PAGE }));
    await apply('customers', 'customer.updated', customers, now_s);
    const subscriptions = await list(
      'subscriptions',
      stripe.subscriptions.list({ status: 'all', limit: LIST_PAGE }),
    );
    await apply('subscriptions', 'customer.subscription.updated', subscriptions, now_s);
    let cardsListed = 0;
    const cards: Stripe.PaymentMethod[] = [];
    for (const customer of customers) {
      for await (const pm of stripe.customers.listPaymentMethods(customer.id, {
        type: 'card',
        limit: LIST_PAGE,
      })) {
        cards.push(pm);
      }
      onProgress({ phase: 'payment_methods', step: 'listing', done: ++cardsListed, total: customers.length });
    }
    await apply('payment_methods', 'payment_method.attached', cards, (o) => o.created ?? now_s());
  } catch (err) {
    const e = err as { type?: string; statusCode?: number; message?: string };
    if (e.type?.startsWith('Stripe')) {
      throw new PerksError(
        'stripe_not_configured',
        `Stripe refused the sync (${e.type}${e.statusCode ? `, HTTP ${e.statusCode}` : ''}): ${e.message}`,
      );
    }
    throw err;
  }
  return { run, counts };
}
