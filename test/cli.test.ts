/**
 * The real CLI (`node --import tsx src/adapters/cli/main.ts`), run as a child process against the
 * embedded store (PERKS_DATA_DIR) and, when DATABASE_URL is set, against a fresh PostgreSQL database:
 * workspaces and keys are made, listed and revoked there, then a server on the same store proves
 * what the keys reach.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { buildServer } from '../src/adapters/http/server.js';
import { systemClock, systemIds } from '../src/adapters/system.js';
import { tenantTables } from './helpers/isolation.js';
import { type CliStore, cliStoreCases } from './helpers/cli_stores.js';
import { runCli } from './helpers/processes.js';

const SECRET = /sk_[0-9A-Za-z]{43}/g;

for (const { name, make } of cliStoreCases('cli')) {
  describe(`cli (${name})`, () => {
    let store: CliStore;
    const cli = async (...args: string[]) => runCli(args, store.env);
    /** What the CLI steps hand to the checks that follow. */
    const made = {
      workspaceA: '',
      workspaceB: '',
      keyA1: { id: '', secret: '' },
      keyA2: { id: '', secret: '' },
      keyB: '',
    };

    before(async () => {
      store = await make();
    });
    after(() => store.remove());

    it('workspaces create prints a key once; the store holds only its sha256 hash and prefix', async () => {
      const human = await cli('workspaces', 'create', 'Acme');
      assert.equal(human.code, 0, human.stderr);
      const secrets = human.stdout.match(SECRET) ?? [];
      assert.equal(secrets.length, 1, 'the key is printed exactly once');
      const secret = secrets[0]!;
      assert.match(secret, /^sk_[0-9A-Za-z]{43}$/);
      assert.match(human.stdout, /^ {2}sk_[0-9A-Za-z]{43}$/m, 'alone on its line, easy to copy');
      assert.match(human.stdout, /shown only this once/);
      const [, workspaceId] = human.stdout.match(/Created workspace "Acme" \((ws_[0-9a-z]{26})\)/) ?? [];
      assert.ok(workspaceId, human.stdout);

      const json = await cli('workspaces', 'create', 'Beta', '--json');
      assert.equal(json.code, 0, json.stderr);
      const beta = JSON.parse(json.stdout) as {
        workspace: { id: string; name: string };
        key: { id: string; prefix: string };
        secret: string;
      };
      assert.equal(beta.workspace.name, 'Beta');
      assert.match(beta.secret, /^sk_[0-9A-Za-z]{43}$/);
      assert.equal(beta.key.prefix, beta.secret.slice(0, 10));

      const db = await store.open();
      try {
        const keys = await db.query<{
          id: string;
          prefix: string;
          key_hash: string;
        }>('select id, prefix, key_hash from api_keys where workspace_id = $1', [workspaceId]);
        assert.equal(keys.length, 1);
        assert.equal(keys[0]!.key_hash, createHash('sha256').update(secret).digest('hex'));
        assert.equal(keys[0]!.prefix, secret.slice(0, 10));
        // The secret itself is nowhere in the store, in any column of any table.
        for (const table of [...(await tenantTables(db)), 'schema_migrations']) {
          const rows = await db.query(`select * from "${table}"`);
          const text = JSON.stringify(rows);
          assert.ok(!text.includes(secret), `${table} holds the secret`);
          assert.ok(!text.includes(beta.secret), `${table} holds the secret`);
          assert.ok(!text.includes(secret.slice(10)), `${table} holds the secret's hidden part`);
        }
        made.workspaceA = workspaceId!;
        made.keyA1 = { id: keys[0]!.id, secret };
        made.workspaceB = beta.workspace.id;
        made.keyB = beta.secret;
      } finally {
        await db.close();
      }
    });

    it('keys create, keys list (prefixes, never secrets) and keys revoke', async () => {
      assert.ok(made.workspaceA, 'runs after workspaces create');
      const created = await cli('keys', 'create', '--workspace', made.workspaceA, '--name', 'deploy');
      assert.equal(created.code, 0, created.stderr);
      const secrets = created.stdout.match(SECRET) ?? [];
      assert.equal(secrets.length, 1);
      const [, keyId] = created.stdout.match(/Created key (key_[0-9a-z]{26}) for /) ?? [];
      assert.ok(keyId, created.stdout);
      made.keyA2 = { id: keyId!, secret: secrets[0]! };

      const revoked = await cli('keys', 'revoke', made.keyA1.id);
      assert.equal(revoked.code, 0, revoked.stderr);
      assert.match(
        revoked.stdout,
        new RegExp(
          `^Revoked ${made.keyA1.id} \\(${made.keyA1.secret.slice(0, 10)}\\.\\.\\.\\) at \\S+Z$`,
          'm',
        ),
      );

      const listed = await cli('keys', 'list', '--workspace', made.workspaceA);
      assert.equal(listed.code, 0, listed.stderr);
      assert.doesNotMatch(listed.stdout, SECRET, 'no secret in the listing');
      const line = (key: { id: string; secret: string }, name: string, status: string) =>
        new RegExp(`^${key.id}\\t${key.secret.slice(0, 10)}\\.\\.\\.\\t${name}\\t${status}$`, 'm');
      assert.match(listed.stdout, line(made.keyA1, 'default', 'revoked \\d{4}-\\S+Z'));
      assert.match(listed.stdout, line(made.keyA2, 'deploy', 'active'));
      assert.equal(listed.stdout.trim().split('\n').length, 2, "only A's two keys");
      assert.ok(!listed.stdout.includes(made.keyB.slice(0, 10)), "another workspace's keys are not listed");
    });

    it('fails with a clear message and a non-zero exit on bad arguments', async () => {
      // Argument errors stop before the store is opened, so they can run beside a command that opens it.
      const [unknownKey, badWorkspace] = await Promise.all([
        cli('keys', 'revoke', 'key_nope'),
        cli('keys', 'create', '--workspace', 'acme'),
      ]);
      assert.equal(unknownKey.code, 1);
      assert.match(unknownKey.stderr, /no API key 'key_nope'/);
      assert.notEqual(badWorkspace.code, 0);
      assert.match(badWorkspace.stderr, /expected a workspace id like ws_01/);
      // A setting that cannot be used is one line naming it, its range and the value, not a stack.
      const badSetting = await runCli(['workspaces', 'list'], {
        ...store.env,
        DATABASE_POOL_IDLE_TIMEOUT_MS: '-5',
      });
      assert.equal(badSetting.code, 1);
      assert.equal(
        badSetting.stderr.trim(),
        "perks: DATABASE_POOL_IDLE_TIMEOUT_MS must be an integer from 0 to 86400000, got '-5'",
      );
      const missingWorkspace = await cli('keys', 'list', '--workspace', `ws_${'0'.repeat(26)}`);
      assert.equal(missingWorkspace.code, 1);
      assert.match(missingWorkspace.stderr, /no workspace 'ws_0+'/);
    });

    it('a server on the same store: revoked, missing, malformed and unknown keys get typed 401s; a key reaches only its workspace', async () => {
      assert.ok(made.keyA2.secret && made.keyB, 'runs after the CLI steps');
      const db = await store.open();
      const app = await buildServer({
        db,
        clock: systemClock,
        ids: systemIds(),
      });
      try {
        const call = async (method: 'GET' | 'POST', url: string, authorization?: string, body?: unknown) => {
          const res = await app.inject({
            method,
            url,
            headers: {
              ...(authorization === undefined ? {} : { authorization }),
              ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            },
            ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
          });
          return { status: res.statusCode, body: res.json() };
        };
        const unauthorized: [string | undefined, string][] = [
          [`Bearer ${made.keyA1.secret}`, 'api_key_revoked'],
          [undefined, 'api_key_missing'],
          ['', 'api_key_missing'],
          ['Bearer', 'api_key_malformed'],
          [`bearer ${made.keyA2.secret}`, 'api_key_malformed'],
          [made.keyA2.secret, 'api_key_malformed'],
          [`Basic ${Buffer.from(`${made.keyA2.secret}:`).toString('base64')}`, 'api_key_malformed'],
          [`Bearer ${made.keyA2.secret.slice(0, -1)}`, 'api_key_malformed'],
          [`Bearer sk_${'A'.repeat(43)}`, 'api_key_invalid'],
        ];
        for (const [authorization, code] of unauthorized) {
          for (const [method, url] of [
            ['GET', '/v1/customers'],
            ['POST', '/v1/customers'],
          ] as const) {
            const res = await call(
              method,
              url,
              authorization,
              method === 'POST' ? { external_id: 'x' } : undefined,
            );
            assert.equal(res.status, 401, `${authorization} ${method}`);
            assert.equal(res.body.error.code, code, `${authorization}: ${JSON.stringify(res.body)}`);
            assert.equal(res.body.error.type, 'authentication_error');
          }
        }
        const revoked = await call('GET', '/v1/customers', `Bearer ${made.keyA1.secret}`);
        assert.match(revoked.body.error.message, /revoked at \d{4}-\d\d-\d\dT/);

        // The new key of A works, and reaches A only.
        const a = `Bearer ${made.keyA2.secret}`;
        const b = `Bearer ${made.keyB}`;
        const mine = await call('POST', '/v1/customers', a, {
          external_id: 'team_a',
          email: 'a@a.example',
        });
        assert.equal(mine.status, 201);
        assert.equal((await call('GET', '/v1/customers/team_a', a)).status, 200);
        const fromB = await call('GET', `/v1/customers/${mine.body.id}`, b);
        assert.equal(fromB.status, 404);
        assert.equal((await call('GET', '/v1/customers', b)).body.data.length, 0);
        const theirs = await call('POST', '/v1/customers', b, {
          external_id: 'team_a',
          email: 'b@b.example',
        });
        assert.equal(theirs.status, 201, "B's team_a is B's own");
        assert.equal((await call('GET', '/v1/customers/team_a', a)).body.email, 'a@a.example');
        const rows = await db.query<{ workspace_id: string }>(
          'select workspace_id from customers where external_id = $1 order by workspace_id',
          ['team_a'],
        );
        assert.deepEqual(rows.map((r) => r.workspace_id).sort(), [made.workspaceA, made.workspaceB].sort());
      } finally {
        await app.close();
        await db.close();
      }
    });
  });
}
