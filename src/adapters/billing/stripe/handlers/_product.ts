import { parseObject, type StripeHandler } from '../mapping.js';
import { product } from '../shapes.js';

/**
 * product.created and product.updated keep the product's metadata, where a plan's units may be
 * stated (subscriptions name their product by id only). An older event than the stored state is ignored.
 */
export function productHandler(type: 'product.created' | 'product.updated'): StripeHandler {
  return {
    type,
    async handle(ctx, object) {
      const prod = parseObject(product, object);
      const rows = await ctx.tx.query(
        `insert into stripe_products (workspace_id, id, name, metadata, state_as_of, updated_at)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (workspace_id, id) do update set name = excluded.name, metadata = excluded.metadata,
           state_as_of = excluded.state_as_of, updated_at = excluded.updated_at
         where stripe_products.state_as_of <= excluded.state_as_of
         returning id`,
        [
          ctx.workspaceId,
          prod.id,
          prod.name ?? null,
          prod.metadata,
          ctx.event.occurred_at,
          ctx.deps.clock.now(),
        ],
      );
      if (rows.length === 0)
        return { kind: 'ignore', reason: 'an older state of the product than the one stored' };
      return { kind: 'apply', events: [] };
    },
  };
}
