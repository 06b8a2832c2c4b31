/**
 * ISO 4217 currencies, read from the runtime's ICU data so the list stays current without a
 * hand-kept table. Codes are lower case on the wire, as in Stripe.
 */
const known: ReadonlyMap<string, number> = (() => {
  const map = new Map<string, number>();
  for (const code of Intl.supportedValuesOf('currency')) {
    const digits = new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions()
      .maximumFractionDigits;
    map.set(code.toLowerCase(), digits ?? 2);
  }
  return map;
})();

export function isKnownCurrency(code: string): boolean {
  return known.has(code);
}

/** Number of minor-unit digits (2 for usd, 0 for jpy). */
export function minorUnitDigits(code: string): number {
  const digits = known.get(code);
  if (digits === undefined) throw new RangeError(`unknown currency '${code}'`);
  return digits;
}

/** The largest amount in minor units any single API value may carry; sums stay exact in a double. */
export const MAX_AMOUNT_MINOR = 1_000_000_000_000;

/**
 * An amount in minor units as people read it, exactly (no floating point, no locale): `300, 'usd'`
 * -> `3.00 USD`, `500, 'jpy'` -> `500 JPY`. For text a person reads (invoice lines, messages); the
 * API's amounts stay integers in minor units.
 */
export function formatMoney(amountMinor: number, currency: string): string {
  const digits = minorUnitDigits(currency);
  const sign = amountMinor < 0 ? '-' : '';
  const units = String(Math.abs(amountMinor)).padStart(digits + 1, '0');
  const whole = units.slice(0, units.length - digits);
  const fraction = digits === 0 ? '' : `.${units.slice(units.length - digits)}`;
  return `${sign}${whole}${fraction} ${currency.toUpperCase()}`;
}
