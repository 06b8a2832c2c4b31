import { createHmac, timingSafeEqual } from 'node:crypto';
import { PerksError } from '../core/errors.js';
import { requireCustomer } from './customers.js';
import type { Deps, Sql } from './ports.js';

/**
 * Customer tokens: what a product's backend hands to the referral widget in its page so the widget
 * can read one customer's referral figures without ever holding a secret key. A token names its
 * workspace, its customer and its expiry, signed with HMAC-SHA256 under a per-workspace secret kept in
 * the database; nothing about the token itself is stored, so every server process sharing the database
 * verifies it, and a token cannot be revoked other than by letting it expire (hence the short life).
 *
 * Shape: `ct_{workspace}.{customer}.{expires_at in ms, base 36}.{signature}`.
 */

export const TOKEN_PREFIX = 'ct_';
export const DEFAULT_TTL_SECONDS = 900;
export const MIN_TTL_SECONDS = 1;
export const MAX_TTL_SECONDS = 3600;

/** An id inside a token: Perks ids are a lower-case prefix, `_` and a ULID; no dots, bounded. */
const ID_PART = /^[a-z]{1,16}_[0-9a-z]{1,64}$/;
const EXPIRY_PART = /^[0-9a-z]{1,12}$/;
/** HMAC-SHA256 is 32 bytes: 43 base64url characters. */
const SIGNATURE_PART = /^[A-Za-z0-9_-]{43}$/;
/** No well-formed token is longer; anything longer is refused before it is split. */
const MAX_TOKEN_LENGTH = TOKEN_PREFIX.length + 81 + 1 + 81 + 1 + 12 + 1 + 43;

export interface CustomerTokenInput {
  customer: string;
  ttl_seconds?: number | undefined;
}

export interface CustomerTokenView {
  object: 'customer_token';
  token: string;
  customer: string;
  customer_external_id: string;
  expires_at: string;
}

/** The authority a verified token carries. */
export interface CustomerTokenClaims {
  workspace_id: string;
  customer_id: string;
  expires_at: Date;
}

/** The workspace's signing secret, created on first use (two concurrent first uses keep one). */
async function signingSecret(deps: Deps, sql: Sql, workspaceId: string): Promise<string> {
  await sql.query(
    `insert into customer_token_secrets (workspace_id, secret, created_at) values ($1, $2, $3)
     on conflict do nothing`,
    [workspaceId, deps.ids.secret('cts', 256), deps.clock.now()],
  );
  const [row] = await sql.query<{ secret: string }>(
    'select secret from customer_token_secrets where workspace_id = $1',
    [workspaceId],
  );
  return row!.secret;
}

function sign(secret: string, body: string): string {
  // The label keeps a signature over the same text made for another purpose from ever matching.
  return createHmac('sha256', secret).update(`customer_token.v1:${body}`).digest('base64url');
}

/**
 * Mints a token for one customer of the workspace (by Perks id or external id). The token names the
 * Perks id, so renaming the external id later does not change whom it reaches.
 */
export async function mintCustomerToken(
  deps: Deps,
  workspaceId: string,
  input: CustomerTokenInput,
): Promise<CustomerTokenView> {
  const ttl = input.ttl_seconds ?? DEFAULT_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < MIN_TTL_SECONDS || ttl > MAX_TTL_SECONDS) {
    throw new PerksError(
      'parameter_invalid',
      `'ttl_seconds' must be an integer from ${MIN_TTL_SECONDS} to ${MAX_TTL_SECONDS} (one hour)`,
      'ttl_seconds',
      { minimum: MIN_TTL_SECONDS, maximum: MAX_TTL_SECONDS },
    );
  }
  const customer = await requireCustomer(deps.db, workspaceId, input.customer, 'customer');
  if (!ID_PART.test(workspaceId) || !ID_PART.test(customer.id)) {
    // Every id Perks generates fits; this guards the token grammar, not the caller's input.
    throw new Error(`ids '${workspaceId}' / '${customer.id}' do not fit the customer token grammar`);
  }
  const secret = await signingSecret(deps, deps.db, workspaceId);
  const expiresAt = new Date(deps.clock.now().getTime() + ttl * 1000);
  const body = `${workspaceId}.${customer.id}.${expiresAt.getTime().toString(36)}`;
  return {
    object: 'customer_token',
    token: `${TOKEN_PREFIX}${body}.${sign(secret, body)}`,
    customer: customer.id,
    customer_external_id: customer.external_id,
    expires_at: expiresAt.toISOString(),
  };
}

interface ParsedToken {
  workspace_id: string;
  customer_id: string;
  expires_at: Date;
  body: string;
  signature: string;
}

/** The parts of a token, checked for shape only (the signature needs the workspace's secret). */
export function parseCustomerToken(token: string): ParsedToken | undefined {
  if (token.length > MAX_TOKEN_LENGTH || !token.startsWith(TOKEN_PREFIX)) return undefined;
  const parts = token.slice(TOKEN_PREFIX.length).split('.');
  if (parts.length !== 4) return undefined;
  const [ws, customer, expiry, signature] = parts as [string, string, string, string];
  if (!ID_PART.test(ws) || !ID_PART.test(customer) || !EXPIRY_PART.test(expiry)) return undefined;
  if (!SIGNATURE_PART.test(signature)) return undefined;
  const ms = Number.parseInt(expiry, 36);
  if (!Number.isSafeInteger(ms)) return undefined;
  return {
    workspace_id: ws,
    customer_id: customer,
    expires_at: new Date(ms),
    body: `${ws}.${customer}.${expiry}`,
    signature,
  };
}

const HOW_TO =
  "the product's backend mints one with POST /v1/customer_tokens and the page passes it as `Authorization: Bearer ct_...`";

/**
 * Resolves an `Authorization` header to the one customer its token reaches. The signature is checked
 * before the expiry, so only a token Perks signed can be told apart as expired.
 */
export async function verifyCustomerToken(
  deps: Deps,
  header: string | undefined,
): Promise<CustomerTokenClaims> {
  if (!header) throw new PerksError('customer_token_missing', `no customer token: ${HOW_TO}`);
  const match = /^Bearer (\S+)$/.exec(header);
  const token = match?.[1];
  if (token?.startsWith('sk_')) {
    throw new PerksError(
      'customer_token_malformed',
      'a secret key is not accepted here: the widget endpoints take a customer token (ct_...), so a secret key never reaches a browser',
    );
  }
  const parsed = token ? parseCustomerToken(token) : undefined;
  if (!parsed) {
    throw new PerksError(
      'customer_token_malformed',
      `the Authorization header holds no customer token: ${HOW_TO}`,
    );
  }
  const [row] = await deps.db.query<{ secret: string }>(
    'select secret from customer_token_secrets where workspace_id = $1',
    [parsed.workspace_id],
  );
  const expected = row ? Buffer.from(sign(row.secret, parsed.body)) : undefined;
  const given = Buffer.from(parsed.signature);
  if (!expected || expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new PerksError(
      'customer_token_invalid',
      'this customer token was not signed by Perks for this workspace (altered, or from another installation); mint a new one',
    );
  }
  const now = deps.clock.now();
  if (now.getTime() >= parsed.expires_at.getTime()) {
    throw new PerksError(
      'customer_token_expired',
      `this customer token expired at ${parsed.expires_at.toISOString()}; mint a new one`,
      undefined,
      { expired_at: parsed.expires_at.toISOString() },
    );
  }
  return {
    workspace_id: parsed.workspace_id,
    customer_id: parsed.customer_id,
    expires_at: parsed.expires_at,
  };
}
