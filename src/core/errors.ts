/**
 * The one closed list of error codes Perks answers with. Every layer throws a PerksError with one of
 * these codes; the HTTP adapter maps each code to a status and an error type in one table
 * (adapters/http/errors.ts), and the compiler checks that table covers every code.
 */
export const ERROR_CODES = [
  // Request shape
  'body_malformed',
  'body_too_large',
  'unsupported_media_type',
  'parameter_missing',
  'parameter_invalid',
  'parameter_unknown',
  'route_not_found',
  // Authentication
  'api_key_missing',
  'api_key_malformed',
  'api_key_invalid',
  'api_key_revoked',
  'customer_token_missing',
  'customer_token_malformed',
  'customer_token_invalid',
  'customer_token_expired',
  // Idempotency
  'idempotency_key_invalid',
  'idempotency_key_reused',
  'idempotency_key_in_use',
  // Resources
  'resource_not_found',
  'customer_parent_invalid',
  // Ledger
  'asset_key_taken',
  'asset_not_applicable',
  'currency_mismatch',
  'expiry_invalid',
  'grant_reference_reused',
  'insufficient_balance',
  'balance_limit_exceeded',
  'invoice_already_settled',
  'subscription_not_owned',
  'payout_below_minimum',
  'payout_not_pending',
  // Promotion codes
  'code_invalid',
  'code_expired',
  'code_not_yet_active',
  'code_exhausted',
  'code_already_used_by_customer',
  'subscription_already_has_promotion',
  'not_first_time',
  'minimum_not_met',
  'plan_not_eligible',
  'code_bound_to_other_customer',
  'promotion_currency_mismatch',
  'code_already_exists',
  // Referral programs
  'program_invalid',
  'referrer_not_eligible',
  'referral_code_invalid',
  'referral_code_taken',
  'referral_repair_refused',
  // Stripe and outbound webhooks
  'stripe_signature_invalid',
  'stripe_not_configured',
  'stripe_event_not_retryable',
  'outbox_item_not_retryable',
  'webhook_url_refused',
  'webhook_endpoint_limit_reached',
  // Server
  'rate_limited',
  'service_unavailable',
  'internal_error',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class PerksError extends Error {
  override readonly name = 'PerksError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly param?: string,
    /** Extra machine-readable facts (limits, conflicting ids) returned beside the message. */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function isPerksError(err: unknown): err is PerksError {
  return err instanceof PerksError;
}
