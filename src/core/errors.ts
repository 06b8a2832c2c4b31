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
  // Idempotency
  'idempotency_key_invalid',
  'idempotency_key_reused',
  'idempotency_key_in_use',
  // Resources
  'resource_not_found',
  'customer_parent_invalid',
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
