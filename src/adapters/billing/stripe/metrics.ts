import { Counter, register } from 'prom-client';

/**
 * Stripe webhook outcomes, in the process-wide registry that `/metrics` renders beside the HTTP
 * metrics: unhandled types are not stored, so this counter is where they show.
 */
export const stripeWebhooks = new Counter({
  name: 'perks_stripe_webhooks_total',
  help: 'Stripe webhooks received, by event type and outcome (processed, failed, ignored, deferred, duplicate, unhandled, rejected)',
  labelNames: ['type', 'outcome'] as const,
  registers: [register],
});
