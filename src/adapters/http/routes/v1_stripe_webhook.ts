import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { receiveStripeWebhook } from '../../billing/stripe/inbound.js';
import { PerksError } from '../../../core/errors.js';
import { commonErrors, identifier } from '../schemas.js';
import type { RegisterRoute } from './index.js';

/**
 * The body exactly as received. The signature is computed over these bytes, so this route does not
 * parse JSON itself. The bytes sit in a private field: the server's nesting check walks the values
 * of a parsed body and has nothing to walk here.
 */
class RawBody {
  readonly #bytes: Buffer;
  constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }
  get bytes(): Buffer {
    return this.#bytes;
  }
}

const receipt = z
  .object({
    object: z.literal('stripe_webhook_receipt'),
    received: z.literal(true),
    id: z.string().nullable(),
    stripe_event_id: z.string().nullable(),
    type: z.string().nullable(),
    status: z.enum(['received', 'processed', 'failed', 'ignored', 'deferred', 'unhandled']),
    duplicate: z.boolean(),
    reason: z.string().nullable(),
  })
  .meta({ id: 'StripeWebhookReceipt' });

const register: RegisterRoute = (app, deps) => {
  // A scope of its own, so that the raw-body parser applies to this route only.
  app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodTypeProvider>();
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => {
      done(null, new RawBody(body as Buffer));
    });
    scope.post(
      '/v1/stripe/webhook/:workspace_id',
      {
        config: { public: true },
        schema: {
          summary: 'Receive a Stripe webhook for a workspace (authenticated by the Stripe-Signature header)',
          description:
            'Give Stripe this URL as the webhook endpoint. No API key: the request is authenticated by its ' +
            'Stripe-Signature, checked against the signing secrets set with PUT /v1/stripe/settings.',
          tags: ['stripe'],
          security: [],
          params: z.strictObject({ workspace_id: identifier }),
          response: { 200: receipt, ...commonErrors },
        },
      },
      async (req) => {
        const body = req.body instanceof RawBody ? req.body.bytes : Buffer.alloc(0);
        const header = req.headers['stripe-signature'];
        if (Array.isArray(header)) {
          throw new PerksError(
            'stripe_signature_invalid',
            'send one Stripe-Signature header',
            'Stripe-Signature',
          );
        }
        return receiveStripeWebhook(deps, req.params.workspace_id, body, header);
      },
    );
  });
};
export default register;
