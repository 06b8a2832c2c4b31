import { z } from 'zod';
import {
  type BillingEvent,
  EVENT_TYPES,
  type EventResult,
  ingestEvents,
  MAX_EVENTS_PER_BATCH,
} from '../../../app/events.js';
import { execute } from '../idempotency.js';
import {
  amountMinor,
  commonErrors,
  currency,
  identifier,
  positiveAmountMinor,
  text,
  timestamp,
} from '../schemas.js';
import { customerInput } from './customer_schema.js';
import { referralEventResult } from './referral_schema.js';
import type { RegisterRoute } from './index.js';

const customerRef = identifier.describe('The customer: its external_id (or Perks id)');
const interval = z.enum(['month', 'year']);
/** Attribution carried by signup and card events (see docs/referral-programs.md). */
const referralFields = {
  referral_code: text(64)
    .optional()
    .describe(
      'A referral code the customer entered; an unknown code is reported on the result, the facts still apply',
    ),
  click_id: text(200).optional().describe('The perks_click value the referral link handed to the visitor'),
};

const envelopeOf = <T extends string, D extends z.ZodType>(type: T, data: D) =>
  z.strictObject({
    id: identifier.describe('Your id for this event; a repeated id is a duplicate and changes nothing'),
    type: z.literal(type),
    occurred_at: timestamp,
    data,
  });

const event = z
  .discriminatedUnion(
    'type',
    [
      envelopeOf('customer.created', z.strictObject({ customer: customerInput, ...referralFields })),
      envelopeOf(
        'card.attached',
        z.strictObject({
          customer: customerRef,
          ...referralFields,
          payment_method: z.strictObject({
            id: identifier.optional(),
            fingerprint: identifier.describe(
              'The card fingerprint: the same card has the same one everywhere',
            ),
            brand: text(40).optional(),
            last4: z
              .string()
              .regex(/^\d{4}$/, 'must be 4 digits')
              .optional(),
          }),
        }),
      ),
      envelopeOf(
        'subscription.updated',
        z.strictObject({
          customer: customerRef,
          subscription: z.strictObject({
            id: identifier,
            plan_id: identifier,
            plan_units: amountMinor.optional().describe('Units the plan includes per period, e.g. minutes'),
            interval,
            status: z.enum(['trialing', 'active', 'past_due', 'unpaid', 'canceled', 'incomplete', 'paused']),
            current_period_start: timestamp,
            current_period_end: timestamp,
            amount: amountMinor,
            currency,
          }),
        }),
      ),
      envelopeOf(
        'subscription.canceled',
        z.strictObject({ customer: customerRef, subscription: z.strictObject({ id: identifier }) }),
      ),
      envelopeOf(
        'payment.succeeded',
        z.strictObject({
          customer: customerRef,
          payment: z.strictObject({
            id: identifier,
            amount: positiveAmountMinor,
            currency,
            interval: interval.optional(),
            period_start: timestamp.optional(),
            period_end: timestamp.optional(),
            subscription: identifier.optional(),
          }),
        }),
      ),
      envelopeOf(
        'payment.refunded',
        z.strictObject({
          customer: customerRef,
          payment: z.strictObject({ id: identifier, amount_refunded: positiveAmountMinor.optional() }),
        }),
      ),
      envelopeOf(
        'payment.disputed',
        z.strictObject({ customer: customerRef, payment: z.strictObject({ id: identifier }) }),
      ),
    ],
    {
      error: (iss) =>
        iss.code === 'invalid_union' ? `must be one of: ${EVENT_TYPES.join(', ')}` : undefined,
    },
  )
  .meta({ id: 'BillingEvent' });

const batch = z.strictObject({
  events: z
    .array(event)
    .min(1, 'must hold at least one event')
    .max(MAX_EVENTS_PER_BATCH, `must hold at most ${MAX_EVENTS_PER_BATCH} events`),
});

const result = z
  .object({
    object: z.literal('event'),
    id: z.string(),
    event_id: z.string(),
    type: z.string(),
    occurred_at: z.string(),
    duplicate: z.boolean().describe('True when this event id was received before; nothing changed'),
    outcome: z
      .enum(['applied', 'stale'])
      .describe('stale: older than the state it would overwrite; kept, not applied'),
    referral: referralEventResult.optional(),
  })
  .meta({ id: 'EventResult' });

// Compile-time proof that what the schema accepts is what the use case takes.
type Accepted = z.output<typeof event>;
const _conforms: (e: Accepted) => BillingEvent = (e) => e;
void _conforms;

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/events',
    {
      schema: {
        summary: `Send one billing event, or a batch of up to ${MAX_EVENTS_PER_BATCH} as {"events": [...]}`,
        tags: ['events'],
        body: z.union([event, batch]),
        response: {
          200: z.union([result, z.object({ object: z.literal('list'), data: z.array(result) })]),
          ...commonErrors,
        },
      },
    },
    (req, reply) =>
      execute<EventResult | { object: 'list'; data: EventResult[] }>(deps, req, reply, async (tx) => {
        if ('events' in req.body) {
          const data = await ingestEvents(
            deps,
            tx,
            req.workspaceId,
            'api',
            req.body.events,
            (i) => `events[${i}].`,
          );
          return { status: 200, body: { object: 'list' as const, data } };
        }
        const [one] = await ingestEvents(deps, tx, req.workspaceId, 'api', [req.body]);
        return { status: 200, body: one! };
      }),
  );
};
export default register;
