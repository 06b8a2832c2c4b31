/**
 * The server process the chaos test starts and kills: `perks serve` (the same `serve()` the CLI runs)
 * plus the outbox workers on a pool of their own, with short timeouts so that leases of deliveries
 * interrupted by a kill run out within the test. `perks serve` starts the same workers itself, but
 * with production timeouts (15 s per delivery, 30 s per Stripe call) that would make every kill cost
 * the test that long, so this entry turns them off and starts a set with short ones.
 */
import { startWorkers } from '../../src/adapters/webhooks/workers.js';
import { loadConfig } from '../../src/config.js';
import { makeDeps, openStore, serve } from '../../src/main.js';

const config = loadConfig();
// The workers below run with the test's short timeouts; `serve` itself must not start another set.
await serve({ ...config, workers: false });
const db = await openStore(config, 'chaos workers');
startWorkers(makeDeps(db), {
  stripeApiBase: config.stripeApiBase,
  webhooksAllowPrivate: config.webhooksAllowPrivate,
  webhookTimeout_ms: 2_000,
  stripeTimeout_ms: 3_000,
  pollInterval_ms: 200,
  log: (message, err) => console.error(message, err),
});
