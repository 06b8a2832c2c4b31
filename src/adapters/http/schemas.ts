import { z } from 'zod';
import { ERROR_CODES } from '../../core/errors.js';
import { isKnownCurrency, MAX_AMOUNT_MINOR } from '../../core/money/currency.js';
import { isoInstant } from '../../core/time/instants.js';
import { ERROR_TYPES } from './errors.js';

/**
 * Building blocks shared by the endpoint schemas. Every string and array has a stated limit, and the
 * limit is in the message a caller sees when it is crossed.
 */
export const LIMITS = {
  bodyBytes: 1024 * 1024,
  idLength: 255,
  shortText: 500,
  metadataKeys: 50,
  metadataKeyLength: 40,
  metadataValueLength: 500,
  pageSize: 100,
} as const;

/**
 * PostgreSQL text and jsonb cannot hold NUL, and an unpaired UTF-16 surrogate is not Unicode (it
 * would be stored as U+FFFD); both are refused up front so they never reach the store.
 */
export const isStorableText = (s: string) => !s.includes('\u0000') && !/\p{Cs}/u.test(s);
const UNSTORABLE_MESSAGE = 'must not contain NUL characters or unpaired UTF-16 surrogates';

export const text = (max: number = LIMITS.shortText) =>
  z.string().max(max, `must be at most ${max} characters`).refine(isStorableText, UNSTORABLE_MESSAGE);

/** Text that must say something: not empty, nor spaces only. */
export const requiredText = (max: number) =>
  text(max).refine((s) => s.trim().length > 0, 'must not be empty');

export const identifier = z
  .string()
  .min(1, { message: 'must not be empty', abort: true })
  .max(LIMITS.idLength, `must be at most ${LIMITS.idLength} characters`)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

/** An instant inside INSTANT_RANGE (core/time/instants.ts), given with a time zone. */
export const timestamp = isoInstant(
  'must be an ISO 8601 date-time with a time zone, e.g. 2026-01-31T12:00:00Z',
).transform((s) => new Date(s));

type IntegerMessages = { range: string; notInteger: string; notNumber?: string };

/**
 * The checks of integerIn and queryIntegerIn. A number too large for JavaScript to hold (1e400 in JSON
 * is Infinity) or to hold exactly (1e20, past 2^53, which zod's int() refuses) is an integer to the
 * person who wrote it: it is out of range, and is told the range rather than that it is no integer.
 * After a failed int check no other runs, so each value gets one error.
 */
const integerChecks = <T extends z.ZodNumber | z.ZodCoercedNumber>(
  base: (params: { error: (issue: { input?: unknown }) => string }) => T,
  min: number,
  max: number,
  messages: IntegerMessages,
): T =>
  base({
    error: (issue) =>
      typeof issue.input === 'number' && !Number.isNaN(issue.input)
        ? messages.range
        : (messages.notNumber ?? messages.notInteger),
  })
    .int({
      abort: true,
      error: (issue) => (issue.code === 'invalid_type' ? messages.notInteger : messages.range),
    })
    .min(min, messages.range)
    // Each check returns the schema it is called on; TypeScript only sees the union's member.
    .max(max, messages.range) as T;

/** A JSON number that must be an integer from `min` to `max`, with one error whatever is wrong. */
export const integerIn = (min: number, max: number, messages: IntegerMessages) =>
  integerChecks((params) => z.number(params), min, max, messages);

/**
 * integerIn for a query parameter, which arrives as text: a non-number, a fraction or a repeated
 * parameter (`?limit=1&limit=2`, read as a list) is told the range too.
 */
export const queryIntegerIn = (min: number, max: number, messages: IntegerMessages) =>
  integerChecks((params) => z.coerce.number(params), min, max, messages);

const minorUnits = (min: 0 | 1) =>
  integerIn(min, MAX_AMOUNT_MINOR, {
    range: `must be from ${min} to ${MAX_AMOUNT_MINOR}`,
    notInteger: 'must be an integer amount in minor units (e.g. cents), not a fraction',
    notNumber: 'must be an integer amount in minor units (e.g. cents)',
  });

export const amountMinor = minorUnits(0);

export const positiveAmountMinor = minorUnits(1);

export const currency = z
  .string()
  .regex(/^[a-z]{3}$/, { message: 'must be a lower-case ISO 4217 code such as usd', abort: true })
  .refine(isKnownCurrency, 'is not a known ISO 4217 currency');

export const metadata = z
  .record(
    z
      .string()
      .max(LIMITS.metadataKeyLength, `keys must be at most ${LIMITS.metadataKeyLength} characters`)
      .refine(isStorableText, `keys ${UNSTORABLE_MESSAGE}`),
    z
      .string()
      .max(LIMITS.metadataValueLength, `values must be at most ${LIMITS.metadataValueLength} characters`)
      .refine(isStorableText, `values ${UNSTORABLE_MESSAGE}`),
  )
  .refine(
    (m) => Object.keys(m).length <= LIMITS.metadataKeys,
    `must have at most ${LIMITS.metadataKeys} keys`,
  );

/** A page size: `limit` on every list endpoint. */
export const pageLimit = queryIntegerIn(1, LIMITS.pageSize, {
  range: `must be between 1 and ${LIMITS.pageSize}`,
  notInteger: `must be an integer between 1 and ${LIMITS.pageSize}`,
}).default(10);

export const pageQuery = {
  limit: pageLimit,
  starting_after: identifier.optional(),
};

export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({ object: z.literal('list'), data: z.array(item), has_more: z.boolean() });

export const errorEnvelope = z
  .object({
    // Open: some errors carry more facts than the five common fields (every field error in `errors`,
    // `retry_after_seconds`, the limit crossed), and serialising must not drop them.
    error: z.looseObject({
      type: z.enum(ERROR_TYPES),
      code: z.enum(ERROR_CODES).describe('From one closed list; docs/api.md describes each'),
      message: z.string(),
      param: z.string().nullable(),
      request_id: z.string(),
    }),
  })
  .meta({ id: 'Error' });

/** The error responses every authenticated endpoint may give, for the OpenAPI document. */
export const commonErrors = {
  400: errorEnvelope,
  401: errorEnvelope,
  404: errorEnvelope,
  409: errorEnvelope,
};
