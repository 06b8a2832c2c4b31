import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { parse as parseYaml } from 'yaml';
import { applyProgram, createFromTemplate } from '../../app/programs.js';
import type { Db, Deps } from '../../app/ports.js';
import { loadConfig } from '../../config.js';
import { isPerksError, PerksError } from '../../core/errors.js';
import { programJsonSchema } from '../../core/programs/schema.js';
import { TEMPLATE_NAMES, TEMPLATES } from '../../core/programs/templates.js';
import { makeDeps, openStore } from '../../main.js';
import { migrate } from '../db/migrate.js';

/**
 * `perks programs ...`: programs as files. `apply` reads a program document (JSON or YAML) and
 * creates the program or adds a version, exactly as POST /v1/programs does; `create --template`
 * starts from a reference program.
 */

const workspaceOption = (value: string) => {
  if (!/^ws_[0-9a-z]{26}$/.test(value))
    throw new InvalidArgumentError('expected a workspace id like ws_01...');
  return value;
};

/** The largest program file read; a program document is a few kilobytes. */
const MAX_FILE_BYTES = 1024 * 1024;

/** Reads a document: `.json` as JSON, `.yaml`/`.yml` as YAML, anything else tried as JSON then YAML. */
export function readProgramFile(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  if (Buffer.byteLength(text) > MAX_FILE_BYTES) {
    throw new PerksError('body_too_large', `${file} exceeds ${MAX_FILE_BYTES} bytes`);
  }
  const ext = path.extname(file).toLowerCase();
  try {
    if (ext === '.json') return JSON.parse(text);
    if (ext === '.yaml' || ext === '.yml') return parseYaml(text);
    try {
      return JSON.parse(text);
    } catch {
      return parseYaml(text);
    }
  } catch (err) {
    throw new PerksError(
      'body_malformed',
      `${file} is not valid ${ext === '.json' ? 'JSON' : 'JSON or YAML'}: ${(err as Error).message}`,
    );
  }
}

/**
 * Opens the store and resolves the workspace: the one named, or, when none is named, the only one
 * the store has (a fresh `perks serve` creates exactly one).
 */
async function inWorkspace<T>(
  command: string,
  named: string | undefined,
  fn: (deps: Deps, db: Db, workspaceId: string) => Promise<T>,
): Promise<T> {
  const db = await openStore(loadConfig(), `perks ${command}`);
  try {
    await migrate(db);
    const rows = await db.query<{ workspace_id: string }>(
      'select workspace_id from workspaces where ($1::text is null or workspace_id = $1) order by 1 limit 2',
      [named ?? null],
    );
    if (named !== undefined && rows.length === 0) {
      throw new PerksError('resource_not_found', `no workspace '${named}'`, 'workspace');
    }
    if (rows.length !== 1) {
      throw new PerksError(
        'parameter_missing',
        rows.length === 0
          ? 'the store has no workspace yet: create one with `perks workspaces create NAME`'
          : 'the store has several workspaces: name one with --workspace ws_...',
        'workspace',
      );
    }
    return await fn(makeDeps(db), db, rows[0]!.workspace_id);
  } finally {
    await db.close();
  }
}

/** Prints every error a refused document has, one per line, and sets a failing exit code. */
function reportFailure(err: unknown): void {
  if (!isPerksError(err)) throw err;
  console.error(`perks: ${err.message}`);
  const errors = (err.details?.errors ?? []) as { param: string; message: string }[];
  for (const e of errors) console.error(`  ${e.param}: ${e.message}`);
  process.exitCode = 1;
}

function describe(result: Awaited<ReturnType<typeof applyProgram>>): string {
  const p = result.program;
  if (!result.changed) return `Program "${p.key}" (${p.id}) is unchanged at version ${p.latest_version}.`;
  const verb = result.created ? 'Created' : 'Updated';
  const when = p.pending_version
    ? `version ${p.latest_version} takes effect at ${p.pending_version.effective_at}`
    : `version ${p.latest_version} is in force since ${p.effective_at}`;
  return `${verb} program "${p.key}" (${p.id}): ${when}.`;
}

export function registerProgramCommands(program: Command): void {
  const programs = program.command('programs').description('Referral programs as versioned documents');

  programs
    .command('apply <file>')
    .description('Create a program from a JSON or YAML document, or add a version when its key exists')
    .option('--workspace <id>', 'the workspace (default: the only one in the store)', workspaceOption)
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { workspace?: string; json?: boolean }) => {
      try {
        const document = readProgramFile(file);
        await inWorkspace('programs apply', opts.workspace, async (deps, db, workspaceId) => {
          const result = await db.transaction((tx) =>
            applyProgram(deps, tx, workspaceId, document, { actor: 'cli' }),
          );
          console.log(opts.json ? JSON.stringify(result, null, 2) : describe(result));
        });
      } catch (err) {
        reportFailure(err);
      }
    });

  programs
    .command('create')
    .description(`Create a program from a reference template (${TEMPLATE_NAMES.join(', ')})`)
    .requiredOption('--template <name>', 'the template')
    .option('--workspace <id>', 'the workspace (default: the only one in the store)', workspaceOption)
    .option('--key <key>', "the program's key (default: the template's name)")
    .option('--landing-url <url>', 'where referral links land')
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        template: string;
        workspace?: string;
        key?: string;
        landingUrl?: string;
        json?: boolean;
      }) => {
        try {
          await inWorkspace('programs create', opts.workspace, async (deps, db, workspaceId) => {
            const result = await db.transaction((tx) =>
              createFromTemplate(deps, tx, workspaceId, {
                template: opts.template,
                key: opts.key,
                landing_url: opts.landingUrl,
              }),
            );
            console.log(opts.json ? JSON.stringify(result, null, 2) : describe(result));
          });
        } catch (err) {
          reportFailure(err);
        }
      },
    );

  programs
    .command('templates')
    .description('List the reference templates')
    .option('--json', 'print JSON (with each document)')
    .action((opts: { json?: boolean }) => {
      console.log(
        opts.json
          ? JSON.stringify(TEMPLATES, null, 2)
          : TEMPLATES.map((t) => `${t.name}\t${t.summary}`).join('\n'),
      );
    });

  programs
    .command('schema')
    .description('Print the JSON Schema of a program document')
    .action(() => {
      console.log(JSON.stringify(programJsonSchema(), null, 2));
    });
}
