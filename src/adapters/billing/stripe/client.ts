import Stripe from 'stripe';

/**
 * The official SDK, pointed at Stripe or, when STRIPE_API_BASE is set, at another server (tests use a
 * local one that records requests). The SDK's own retries are off: the outbox retries, with the same
 * Idempotency-Key, and records every failure.
 */
export function stripeClient(apiKey: string, apiBase?: string, timeout_ms = 30_000): Stripe {
  const config: Stripe.StripeConfig = { maxNetworkRetries: 0, timeout: timeout_ms, telemetry: false };
  if (apiBase) {
    const url = new URL(apiBase);
    config.host = url.hostname;
    config.protocol = url.protocol === 'http:' ? 'http' : 'https';
    config.port = url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443;
  }
  return new Stripe(apiKey, config);
}

/** One client per API key, reused across calls so its connections are kept alive. */
export function stripeClients(apiBase?: string, timeout_ms?: number): (apiKey: string) => Stripe {
  const cache = new Map<string, Stripe>();
  return (apiKey) => {
    let client = cache.get(apiKey);
    if (!client) {
      client = stripeClient(apiKey, apiBase, timeout_ms);
      if (cache.size > 1000) cache.clear();
      cache.set(apiKey, client);
    }
    return client;
  };
}

/** The signature helpers need no key; one instance serves every workspace. */
export const stripeWebhooks = stripeClient('sk_unused').webhooks;
