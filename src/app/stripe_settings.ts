import type { Deps, Sql } from './ports.js';

/**
 * A workspace's Stripe settings. The signing secrets verify inbound webhooks (several at once while
 * one is being rotated), the API key (a restricted key is enough) is used for the calls Perks makes to
 * Stripe, and `plan_units_key` names the price or product metadata key that states a plan's units.
 */
export interface StripeSettingsRow {
  workspace_id: string;
  webhook_secrets: string[];
  api_key: string | null;
  plan_units_key: string;
  created_at: Date;
  updated_at: Date;
}

export const DEFAULT_PLAN_UNITS_KEY = 'perks_plan_units';
export const MAX_WEBHOOK_SECRETS = 5;

export interface StripeSettingsInput {
  webhook_secrets?: string[] | undefined;
  api_key?: string | null | undefined;
  plan_units_key?: string | undefined;
}

export async function getStripeSettings(
  sql: Sql,
  workspaceId: string,
): Promise<StripeSettingsRow | undefined> {
  const rows = await sql.query<StripeSettingsRow>('select * from stripe_settings where workspace_id = $1', [
    workspaceId,
  ]);
  return rows[0];
}

/** Fields left out keep their value; `api_key: null` removes the key. */
export async function putStripeSettings(
  deps: Deps,
  tx: Sql,
  workspaceId: string,
  input: StripeSettingsInput,
): Promise<StripeSettingsRow> {
  const now = deps.clock.now();
  const rows = await tx.query<StripeSettingsRow>(
    `insert into stripe_settings (workspace_id, webhook_secrets, api_key, plan_units_key, created_at, updated_at)
     values ($1, coalesce($2::jsonb, '[]'::jsonb), $4, coalesce($5, $6), $7, $7)
     on conflict (workspace_id) do update set
       webhook_secrets = coalesce($2::jsonb, stripe_settings.webhook_secrets),
       api_key = case when $3::boolean then $4 else stripe_settings.api_key end,
       plan_units_key = coalesce($5, stripe_settings.plan_units_key),
       updated_at = $7
     returning *`,
    [
      workspaceId,
      input.webhook_secrets === undefined ? null : JSON.stringify(input.webhook_secrets),
      input.api_key !== undefined,
      input.api_key ?? null,
      input.plan_units_key ?? null,
      DEFAULT_PLAN_UNITS_KEY,
      now,
    ],
  );
  return rows[0]!;
}

const last4 = (secret: string) => secret.slice(-4);

/** Secrets are never shown again: only their last four characters, so they can be told apart. */
export function stripeSettingsView(workspaceId: string, row: StripeSettingsRow | undefined) {
  return {
    object: 'stripe_settings' as const,
    webhook_path: `/v1/stripe/webhook/${workspaceId}`,
    webhook_secrets: (row?.webhook_secrets ?? []).map((s) => ({ last4: last4(s) })),
    api_key: row?.api_key
      ? { last4: last4(row.api_key), livemode: /^(rk|sk)_live_/.test(row.api_key) }
      : null,
    plan_units_key: row?.plan_units_key ?? DEFAULT_PLAN_UNITS_KEY,
    updated_at: row?.updated_at.toISOString() ?? null,
  };
}
export type StripeSettingsView = ReturnType<typeof stripeSettingsView>;
