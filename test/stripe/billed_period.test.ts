import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { billedPeriod, parseObject } from '../../src/adapters/billing/stripe/mapping.js';
import { invoice as invoiceShape } from '../../src/adapters/billing/stripe/shapes.js';
import { invoice, type Json, T0 } from './fixtures.js';

/**
 * Which period an invoice bills, as the paid period of invoice.paid and the period_start of a draft's
 * settlement: the subscription line's, in the invoice lines of every API version.
 */

const DAY = 86_400;
const iso = (unix: number) => new Date(unix * 1000).toISOString();

/** A renewal draft for [T0+30d, T0+60d) whose own period is the one that ended, as Stripe sends it. */
function renewal(): Json {
  const inv = invoice('in_renewal', 'cus_1', { subscription: 'sub_1', start: T0 + 30 * DAY });
  inv.period_start = T0;
  inv.period_end = T0 + 30 * DAY;
  return inv;
}

/** A proration line (old shape) billing days of the period before, after a mid-period upgrade. */
function prorationLine(subscriptionLine: Json): Json {
  const line = structuredClone(subscriptionLine);
  line.id = 'il_proration';
  line.type = 'invoiceitem';
  line.proration = true;
  line.amount = 500;
  line.period = { start: T0 + 15 * DAY, end: T0 + 30 * DAY };
  return line;
}

/** The same invoice as API versions from 2025-03-31 send it: no `type`, `price` or `proration` on lines. */
function newShape(inv: Json): Json {
  delete inv.subscription;
  inv.parent = { type: 'subscription_details', subscription_details: { subscription: 'sub_1' } };
  for (const line of inv.lines.data) {
    const proration = line.proration === true;
    const fromItem = line.type === 'invoiceitem';
    delete line.type;
    delete line.price;
    delete line.proration;
    line.parent = fromItem
      ? { type: 'invoice_item_details', invoice_item_details: { proration, subscription: 'sub_1' } }
      : {
          type: 'subscription_item_details',
          subscription_item_details: { proration, subscription: 'sub_1' },
        };
  }
  return inv;
}

const period = (inv: Json) => {
  const p = billedPeriod(parseObject(invoiceShape, inv));
  return [p.start.toISOString(), p.end.toISOString()];
};

describe('billedPeriod', () => {
  it("takes the subscription line's period, not the invoice's own", () => {
    assert.deepEqual(period(renewal()), [iso(T0 + 30 * DAY), iso(T0 + 60 * DAY)]);
  });

  it('prefers the subscription line to a proration listed before it', () => {
    for (const shape of [(inv: Json) => inv, newShape]) {
      const inv = renewal();
      inv.lines.data = [prorationLine(inv.lines.data[0]), inv.lines.data[0]];
      assert.deepEqual(period(shape(inv)), [iso(T0 + 30 * DAY), iso(T0 + 60 * DAY)]);
    }
  });

  it("reads the lines of newer API versions: a first invoice bills its line's period, not an instant", () => {
    // A subscription's first invoice has period_start = period_end = its creation.
    const first = newShape(
      invoice('in_first', 'cus_1', { subscription: 'sub_1', status: 'paid', start: T0 }),
    );
    assert.equal(first.period_start, first.period_end);
    assert.deepEqual(period(first), [iso(T0), iso(T0 + 30 * DAY)]);
  });

  it('an invoice of prorations only bills its proration period', () => {
    const inv = renewal();
    inv.lines.data = [prorationLine(inv.lines.data[0])];
    assert.deepEqual(period(newShape(inv)), [iso(T0 + 15 * DAY), iso(T0 + 30 * DAY)]);
  });
});
