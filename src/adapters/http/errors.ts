import type { FastifyError } from 'fastify';
import type { $ZodError as ZodError } from 'zod/v4/core';
import { type ErrorCode, isPerksError, PerksError } from '../../core/errors.js';

export const ERROR_TYPES = [
  'invalid_request_error',
  'authentication_error',
  'idempotency_error',
  'rate_limit_error',
  'api_error',
] as const;
type ErrorType = (typeof ERROR_TYPES)[number];

/** The one place where error codes meet HTTP: every code has its status and type here. */
export const HTTP_ERRORS: Record<ErrorCode, { status: number; type: ErrorType }> = {
  body_malformed: { status: 400, type: 'invalid_request_error' },
  body_too_large: { status: 413, type: 'invalid_request_error' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  parameter_missing: { status: 400, type: 'invalid_request_error' },
  parameter_invalid: { status: 400, type: 'invalid_request_error' },
  parameter_unknown: { status: 400, type: 'invalid_request_error' },
  route_not_found: { status: 404, type: 'invalid_request_error' },
  api_key_missing: { status: 401, type: 'authentication_error' },
  api_key_malformed: { status: 401, type: 'authentication_error' },
  api_key_invalid: { status: 401, type: 'authentication_error' },
  api_key_revoked: { status: 401, type: 'authentication_error' },
  customer_token_missing: { status: 401, type: 'authentication_error' },
  customer_token_malformed: { status: 401, type: 'authentication_error' },
  customer_token_invalid: { status: 401, type: 'authentication_error' },
  customer_token_expired: { status: 401, type: 'authentication_error' },
  idempotency_key_invalid: { status: 400, type: 'idempotency_error' },
  idempotency_key_reused: { status: 409, type: 'idempotency_error' },
  idempotency_key_in_use: { status: 409, type: 'idempotency_error' },
  resource_not_found: { status: 404, type: 'invalid_request_error' },
  customer_parent_invalid: { status: 400, type: 'invalid_request_error' },
  asset_key_taken: { status: 409, type: 'invalid_request_error' },
  asset_not_applicable: { status: 400, type: 'invalid_request_error' },
  currency_mismatch: { status: 400, type: 'invalid_request_error' },
  expiry_invalid: { status: 400, type: 'invalid_request_error' },
  grant_reference_reused: { status: 409, type: 'invalid_request_error' },
  insufficient_balance: { status: 409, type: 'invalid_request_error' },
  balance_limit_exceeded: { status: 409, type: 'invalid_request_error' },
  invoice_already_settled: { status: 409, type: 'invalid_request_error' },
  subscription_not_owned: { status: 400, type: 'invalid_request_error' },
  payout_below_minimum: { status: 400, type: 'invalid_request_error' },
  payout_not_pending: { status: 409, type: 'invalid_request_error' },
  code_invalid: { status: 404, type: 'invalid_request_error' },
  code_expired: { status: 422, type: 'invalid_request_error' },
  code_not_yet_active: { status: 422, type: 'invalid_request_error' },
  code_exhausted: { status: 409, type: 'invalid_request_error' },
  code_already_used_by_customer: { status: 409, type: 'invalid_request_error' },
  subscription_already_has_promotion: { status: 409, type: 'invalid_request_error' },
  not_first_time: { status: 422, type: 'invalid_request_error' },
  minimum_not_met: { status: 422, type: 'invalid_request_error' },
  plan_not_eligible: { status: 422, type: 'invalid_request_error' },
  code_bound_to_other_customer: { status: 422, type: 'invalid_request_error' },
  promotion_currency_mismatch: { status: 422, type: 'invalid_request_error' },
  code_already_exists: { status: 409, type: 'invalid_request_error' },
  program_invalid: { status: 400, type: 'invalid_request_error' },
  referrer_not_eligible: { status: 422, type: 'invalid_request_error' },
  referral_code_invalid: { status: 400, type: 'invalid_request_error' },
  referral_code_taken: { status: 409, type: 'invalid_request_error' },
  referral_repair_refused: { status: 422, type: 'invalid_request_error' },
  stripe_signature_invalid: { status: 400, type: 'invalid_request_error' },
  stripe_not_configured: { status: 409, type: 'invalid_request_error' },
  stripe_event_not_retryable: { status: 409, type: 'invalid_request_error' },
  outbox_item_not_retryable: { status: 409, type: 'invalid_request_error' },
  webhook_url_refused: { status: 400, type: 'invalid_request_error' },
  webhook_endpoint_limit_reached: { status: 409, type: 'invalid_request_error' },
  rate_limited: { status: 429, type: 'rate_limit_error' },
  service_unavailable: { status: 503, type: 'api_error' },
  internal_error: { status: 500, type: 'api_error' },
};

export function envelope(err: PerksError, requestId: string) {
  const { status, type } = HTTP_ERRORS[err.code];
  return {
    status,
    body: {
      error: {
        type,
        code: err.code,
        message: err.message,
        param: err.param ?? null,
        request_id: requestId,
        ...err.details,
      },
    },
  };
}

/** `a.b.0.c` -> `a.b[0].c`, the way a caller writes the path to the field. */
function paramPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    return acc ? `${acc}.${String(key)}` : String(key);
  }, '');
}

type Issue = ZodError['issues'][number];

/**
 * A union reports one list of issues per branch. The branch the caller meant is the one that fits the
 * fields the input has: fewest issues about fields the input lacks (or has but the branch does not
 * know), then the one that got furthest into the input (deepest issue path); ties go to the earlier
 * branch. So `{"events": [1,001 events]}` is told about the batch limit, not about a missing `type`.
 */
function flatten(issues: readonly Issue[], prefix: readonly PropertyKey[] = []): Issue[] {
  return issues.flatMap((issue): Issue[] => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const input: unknown = issue.input;
      const fields = input !== null && typeof input === 'object' && !Array.isArray(input) ? input : undefined;
      const misses = (branch: readonly Issue[]) =>
        fields
          ? branch.filter((i) =>
              i.path.length === 0 ? i.code === 'unrecognized_keys' : !Object.hasOwn(fields, i.path[0]!),
            ).length
          : 0;
      const depth = (branch: readonly Issue[]) => Math.max(...branch.map((i) => i.path.length));
      const best = issue.errors.reduce((a, b) =>
        misses(b) < misses(a) || (misses(b) === misses(a) && depth(b) > depth(a)) ? b : a,
      );
      return flatten(best, path);
    }
    return [{ ...issue, path } as Issue];
  });
}

/** Turns the first zod issue into a typed error naming the field; the rest are listed in details. */
export function fromZod(error: ZodError, part: string): PerksError {
  const issues = flatten(error.issues).map((issue) => {
    const base = paramPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0] ?? '';
      const param = base ? `${base}.${key}` : key;
      return {
        code: 'parameter_unknown' as const,
        param,
        message: `unknown field '${param}' in the ${part}`,
      };
    }
    const where = base || part;
    if (issue.code === 'invalid_type' && issue.input === undefined && base) {
      return { code: 'parameter_missing' as const, param: where, message: `'${where}' is required` };
    }
    // A field the API answers as null may not be sent as null: say so, rather than the type it wants.
    if (issue.input === null && base) {
      return {
        code: 'parameter_invalid' as const,
        param: where,
        message: `'${where}' must not be null (leave an optional field out to leave it unset)`,
      };
    }
    // The validator's own wording ('Invalid option: expected one of "a"|"b"') in the house style; an
    // enum's own message stands.
    const message =
      issue.code === 'invalid_value' && issue.message.startsWith('Invalid option')
        ? `must be one of: ${issue.values.map(String).join(', ')}`
        : issue.message;
    return { code: 'parameter_invalid' as const, param: where, message: `'${where}': ${message}` };
  });
  const first = issues[0] ?? { code: 'parameter_invalid' as const, param: part, message: `invalid ${part}` };
  return new PerksError(
    first.code,
    first.message,
    first.param,
    issues.length > 1 ? { errors: issues.map(({ param, message }) => ({ param, message })) } : undefined,
  );
}

/** Maps what Fastify itself throws (body parsing, limits) onto the closed list of codes. */
export function fromFastify(err: FastifyError): PerksError | undefined {
  if (isPerksError(err)) return err;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PerksError('body_too_large', 'the request body exceeds the limit of 1048576 bytes (1 MiB)');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new PerksError('unsupported_media_type', 'send the body as application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new PerksError('body_malformed', 'the Content-Length header does not match the body');
    default:
      if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
        return new PerksError('body_malformed', `the body is not valid JSON: ${err.message}`);
      }
      if (err.statusCode === 400 && err.code === 'FST_ERR_VALIDATION') {
        return new PerksError('parameter_invalid', err.message);
      }
      // The docs' static files plugin refuses paths such as '/docs/static//': there is no such file.
      if (
        err.code === 'FST_STATIC_FORBIDDEN_PATH' ||
        (err.statusCode === 404 && err.code?.startsWith('FST_'))
      ) {
        return new PerksError('route_not_found', 'no such file under /docs');
      }
      // PostgreSQL refuses text it cannot hold (NUL, invalid UTF-8); the input is at fault, not the server.
      if (err.code === '22021' || err.code === '22P05') {
        return new PerksError(
          'parameter_invalid',
          'a value contains characters that cannot be stored (NUL or unpaired UTF-16 surrogates)',
        );
      }
      return undefined;
  }
}
