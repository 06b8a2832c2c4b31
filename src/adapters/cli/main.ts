import { Command, InvalidArgumentError } from 'commander';
import type { Db } from '../../app/ports.js';
import { createKey, createWorkspace, listKeys, listWorkspaces, revokeKey } from '../../app/workspaces.js';
import { ConfigError, loadConfig } from '../../config.js';
import { isPerksError } from '../../core/errors.js';
import { describeStore, makeDeps, openStore, serve } from '../../main.js';
import { DataDirLockedError } from '../db/lock.js';
import { registerLedgerCommands } from './ledger.js';
import { registerProgramCommands } from './programs.js';
import { registerPromotionCommands } from './promotions.js';
import { registerStripeCommands } from './stripe.js';
import { migrate } from '../db/migrate.js';

const program = new Command()
  .name('perks')
  .description('Referral programs, promo codes and account credits, wired to your billing.')
  .showHelpAfterError();

function print(value: unknown, json: boolean | undefined, human: () => string) {
  console.log(json ? JSON.stringify(value, null, 2) : human());
}

/** Opens the store for one command, migrated, and always closes it (freeing the data-folder lock). */
async function withStore<T>(command: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const db = await openStore(config, `perks ${command}`);
  try {
    await migrate(db);
    return await fn(db);
  } finally {
    await db.close();
  }
}

program
  .command('serve')
  .description('Start the HTTP API (PORT, default 4000) on the configured store')
  .action(async () => {
    const running = await serve();
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        running.app.log.info({ signal }, 'shutting down: finishing in-flight requests');
        running.stop().then(
          () => process.exit(0),
          (err) => {
            console.error(err);
            process.exit(1);
          },
        );
      });
    }
  });

program
  .command('migrate')
  .description('Apply pending database migrations')
  .action(async () => {
    const config = loadConfig();
    await withStore('migrate', async (db) => {
      const applied = await migrate(db, (line) => console.log(line));
      console.log(
        applied.length ? `done (${describeStore(config)})` : `up to date (${describeStore(config)})`,
      );
    });
  });

const workspaces = program.command('workspaces').description('Manage workspaces');
workspaces
  .command('create <name>')
  .description('Create a workspace and print its first secret key (shown once)')
  .option('--json', 'print JSON')
  .action(async (name: string, opts: { json?: boolean }) => {
    await withStore('workspaces create', async (db) => {
      const created = await createWorkspace(makeDeps(db), name);
      print(created, opts.json, () =>
        [
          `Created workspace "${created.workspace.name}" (${created.workspace.id}).`,
          'Secret key (shown only this once; store it now):',
          `  ${created.secret}`,
        ].join('\n'),
      );
    });
  });
workspaces
  .command('list')
  .option('--json', 'print JSON')
  .action(async (opts: { json?: boolean }) => {
    await withStore('workspaces list', async (db) => {
      const list = await listWorkspaces(makeDeps(db));
      print(
        list,
        opts.json,
        () => list.map((w) => `${w.id}\t${w.name}\t${w.created_at}`).join('\n') || '(none)',
      );
    });
  });

const workspaceOption = (value: string) => {
  if (!/^ws_[0-9a-z]{26}$/.test(value))
    throw new InvalidArgumentError('expected a workspace id like ws_01...');
  return value;
};

const keys = program.command('keys').description('Manage API keys');
keys
  .command('create')
  .requiredOption('--workspace <id>', 'the workspace the key reaches', workspaceOption)
  .option('--name <name>', 'a label for the key')
  .option('--json', 'print JSON')
  .action(async (opts: { workspace: string; name?: string; json?: boolean }) => {
    await withStore('keys create', async (db) => {
      const created = await createKey(makeDeps(db), opts.workspace, opts.name ?? null);
      print(created, opts.json, () =>
        [
          `Created key ${created.key.id} for ${opts.workspace}. Secret (shown only this once):`,
          `  ${created.secret}`,
        ].join('\n'),
      );
    });
  });
keys
  .command('list')
  .requiredOption('--workspace <id>', 'the workspace', workspaceOption)
  .option('--json', 'print JSON')
  .action(async (opts: { workspace: string; json?: boolean }) => {
    await withStore('keys list', async (db) => {
      const list = await listKeys(makeDeps(db), opts.workspace);
      print(list, opts.json, () =>
        list
          .map(
            (k) =>
              `${k.id}\t${k.prefix}...\t${k.name ?? ''}\t${k.revoked_at ? `revoked ${k.revoked_at}` : 'active'}`,
          )
          .join('\n'),
      );
    });
  });
keys
  .command('revoke <key-id>')
  .description('Revoke a key at once; requests with it get 401 api_key_revoked')
  .option('--json', 'print JSON')
  .action(async (keyId: string, opts: { json?: boolean }) => {
    await withStore('keys revoke', async (db) => {
      const key = await revokeKey(makeDeps(db), keyId);
      print(key, opts.json, () => `Revoked ${key.id} (${key.prefix}...) at ${key.revoked_at}`);
    });
  });

registerProgramCommands(program);
registerPromotionCommands(program);
registerStripeCommands(program);
registerLedgerCommands(program);

program.parseAsync().catch((err: unknown) => {
  if (err instanceof DataDirLockedError || err instanceof ConfigError || isPerksError(err)) {
    console.error(`perks: ${err.message}`);
  } else {
    console.error('perks:', err);
  }
  process.exit(1);
});
