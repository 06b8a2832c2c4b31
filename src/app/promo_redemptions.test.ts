import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redemptionLimitError } from './promo_redemptions.js';

describe('redemptionLimitError', () => {
  it("points a slot taken at commit time at the customer when it is the customer's own slot", () => {
    for (const [message, param, text] of [
      [
        'slot cus:cus_01abc already holds a promotion',
        'customer',
        /this customer already has a promotion waiting/,
      ],
      [
        'slot sub:sub_01abc already holds a promotion',
        'subscription',
        /this subscription already has a promotion/,
      ],
    ] as const) {
      const err = redemptionLimitError({ code: 'PRX04', message });
      assert.equal(err?.code, 'subscription_already_has_promotion');
      assert.equal(err?.param, param);
      assert.match(err!.message, text);
    }
    const held = redemptionLimitError({ code: 'PRX07', detail: 'cus:cus_01abc' });
    assert.equal(held?.param, 'customer');
    assert.equal(redemptionLimitError({ code: 'PRX07', detail: 'sub:sub_01abc' })?.param, 'subscription');
  });
});
