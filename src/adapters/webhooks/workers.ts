import type { Db, Deps } from '../../app/ports.js';
import type { PrivateAddressPolicy } from '../../config.js';
import { sendDueStripeCalls } from '../billing/stripe/calls_worker.js';
import { deliverDueWebhooks } from './worker.js';

export interface WorkersOptions {
  /** STRIPE_API_BASE: where the SDK sends calls; undefined is Stripe itself. */
  stripeApiBase?: string | undefined;
  /** PERKS_WEBHOOKS_ALLOW_PRIVATE. */
  webhooksAllowPrivate: PrivateAddressPolicy;
  /** How long a webhook endpoint may take to answer (default 15 s). */
  webhookTimeout_ms?: number | undefined;
  /** How long one call to Stripe may take (default 30 s). */
  stripeTimeout_ms?: number | undefined;
  /** How long a worker with nothing due waits before looking again. */
  pollInterval_ms?: number | undefined;
  webhookBatch?: number | undefined;
  stripeBatch?: number | undefined;
  log?: ((message: string, err?: unknown) => void) | undefined;
}

const running = new WeakMap<Db, () => Promise<void>>();

/**
 * Starts the outbox workers in this process: webhook deliveries and Stripe calls, each a loop that
 * claims due rows, sends them, and looks again at once when it found work or after the poll interval
 * when it did not. Any number of processes may run them on one database. Answers a stop function that
 * lets the batches in flight finish. Starting twice on one store returns the running workers' stop.
 */
export function startWorkers(deps: Deps, options: WorkersOptions): () => Promise<void> {
  const existing = running.get(deps.db);
  if (existing) return existing;
  const poll_ms = options.pollInterval_ms ?? 500;
  const log = options.log ?? ((message, err) => console.error(message, err));
  let stopped = false;
  const sleepers = new Set<() => void>();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      sleepers.add(wake);
    });

  const loop = async (name: string, batch: () => Promise<number>) => {
    while (!stopped) {
      let found = 0;
      try {
        found = await batch();
      } catch (err) {
        log(`the ${name} worker failed to claim work; it tries again in ${poll_ms} ms`, err);
      }
      if (found === 0 && !stopped) await sleep(poll_ms);
    }
  };
  const loops = [
    loop('webhook', () =>
      deliverDueWebhooks(deps, {
        policy: options.webhooksAllowPrivate,
        timeout_ms: options.webhookTimeout_ms,
        batch: options.webhookBatch,
        log,
      }),
    ),
    loop('Stripe call', () =>
      sendDueStripeCalls(deps, {
        apiBase: options.stripeApiBase,
        timeout_ms: options.stripeTimeout_ms,
        batch: options.stripeBatch,
        log,
      }),
    ),
  ];
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      stopped = true;
      for (const wake of [...sleepers]) wake();
      await Promise.all(loops);
      running.delete(deps.db);
    })();
    return stopping;
  };
  running.set(deps.db, stop);
  return stop;
}
