import { type Command, InvalidArgumentError } from 'commander';
import { getStripeSettings } from '../../app/stripe_settings.js';
import { loadConfig } from '../../config.js';
import { PerksError } from '../../core/errors.js';
import { makeDeps, openStore } from '../../main.js';
import { stripeClient } from '../billing/stripe/client.js';
import { SYNC_PHASES, type SyncPhase, type SyncProgress, syncFromStripe } from '../billing/stripe/sync.js';
import { migrate } from '../db/migrate.js';

/** `perks stripe ...`: the Stripe commands. main.ts registers them with `registerStripeCommands(program)`. */

const LABELS: Record<SyncPhase, string> = {
  products: 'products',
  customers: 'customers',
  subscriptions: 'subscriptions',
  payment_methods: 'cards',
};

const BAR_WIDTH = 30;

/**
 * Draws the progress on one line of stderr when it is a terminal; otherwise prints a line when a step
 * starts and every 10% of it, so logs stay readable.
 */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr) {
  let lastKey = '';
  let lastTenth = -1;
  return (p: SyncProgress) => {
    const label = LABELS[p.phase];
    const text =
      p.total === undefined
        ? `Listing ${label} ... ${p.done}`
        : `${p.step === 'listing' ? 'Listing' : 'Applying'} ${label} [${'#'
            .repeat(Math.round((BAR_WIDTH * p.done) / Math.max(p.total, 1)))
            .padEnd(BAR_WIDTH, '-')}] ${p.done}/${p.total}`;
    const key = `${p.phase}:${p.step}`;
    if (stream.isTTY) {
      if (key !== lastKey && lastKey !== '') stream.write('\n');
      stream.write(`\r${text}`);
      lastKey = key;
      return;
    }
    const tenth = p.total ? Math.floor((10 * p.done) / Math.max(p.total, 1)) : -1;
    if (key !== lastKey || (p.total !== undefined && tenth !== lastTenth) || p.done === p.total) {
      stream.write(`${text}\n`);
      lastKey = key;
      lastTenth = tenth;
    }
  };
}

const workspaceOption = (value: string) => {
  if (!/^ws_[0-9a-z]{26}$/.test(value))
    throw new InvalidArgumentError('expected a workspace id like ws_01...');
  return value;
};

export function registerStripeCommands(program: Command): void {
  const stripe = program.command('stripe').description('The Stripe integration');
  stripe
    .command('sync')
    .description(
      'Backfill products, customers, subscriptions and cards from Stripe into a workspace (with a progress bar)',
    )
    .requiredOption('--workspace <id>', 'the workspace to fill', workspaceOption)
    .option(
      '--api-key <key>',
      "a Stripe key to read with (default: the workspace's key from PUT /v1/stripe/settings)",
    )
    .option('--json', 'print the result as JSON')
    .action(async (opts: { workspace: string; apiKey?: string; json?: boolean }) => {
      const config = loadConfig();
      const db = await openStore(config, 'perks stripe sync');
      try {
        await migrate(db);
        const deps = makeDeps(db);
        const apiKey = opts.apiKey ?? (await getStripeSettings(db, opts.workspace))?.api_key;
        if (!apiKey) {
          throw new PerksError(
            'stripe_not_configured',
            `workspace ${opts.workspace} has no Stripe API key: set one with PUT /v1/stripe/settings or pass --api-key`,
          );
        }
        const printer = progressPrinter();
        const result = await syncFromStripe(
          deps,
          opts.workspace,
          stripeClient(apiKey, config.stripeApiBase),
          printer,
        );
        if (process.stderr.isTTY) process.stderr.write('\n');
        if (opts.json) {
          console.log(JSON.stringify(result, null, 2));
          return;
        }
        console.log(`Synced from Stripe (run ${result.run}):`);
        for (const phase of SYNC_PHASES) {
          const c = result.counts[phase];
          console.log(
            `  ${LABELS[phase].padEnd(14)} ${c.processed} applied, ${c.ignored} ignored, ${c.deferred} waiting, ${c.failed} failed`,
          );
        }
        const failed = SYNC_PHASES.reduce((n, p) => n + result.counts[p].failed, 0);
        if (failed > 0) console.log(`See the failures with: GET /v1/stripe/events?status=failed`);
      } finally {
        await db.close();
      }
    });
}
