// Operators type money in major units ("25.50"); the API takes integer minor units. The conversion
// is done on the digits, never through floating point, so 0.29 is 29 cents and not 28.999…
import { ApiError } from '../../api';

/** An error for one form field found before anything is sent, shown beside the field like the API's. */
export function fieldError(param: string, message: string): ApiError {
  return new ApiError(400, 'parameter_invalid', message, param, [], null);
}

/** Minor-unit digits of a currency (2 for usd, 0 for jpy), from the browser's currency data. */
export function currencyExponent(currency: string): number {
  try {
    return (
      new Intl.NumberFormat('en-US', {
        style: 'currency',
        currency: currency.toUpperCase(),
      }).resolvedOptions().maximumFractionDigits ?? 2
    );
  } catch {
    return 2;
  }
}

/**
 * Parses a decimal amount with at most `exponent` decimals into an integer of minor units, or
 * answers why it cannot. Thousands separators (",", "_", spaces) are ignored.
 */
export function parseMinor(text: string, exponent: number): { value: number } | { error: string } {
  const clean = text.replace(/[\s,_]/g, '');
  const m = /^(\d+)(?:\.(\d*))?$/.exec(clean);
  if (!m) return { error: 'enter a positive number, e.g. 25 or 25.50' };
  const fraction = m[2] ?? '';
  if (fraction.length > exponent)
    return {
      error: exponent === 0 ? 'enter a whole number' : `enter at most ${exponent} decimals`,
    };
  const digits = `${m[1]}${fraction.padEnd(exponent, '0')}`.replace(/^0+(?=\d)/, '');
  const value = Number(digits);
  if (!Number.isSafeInteger(value)) return { error: 'is too large' };
  return { value };
}

/** An amount of an asset as typed: money in major units of its currency, units and days whole. */
export function parseAssetAmount(
  text: string,
  asset: { kind: string; currency: string | null } | undefined,
): { value: number } | { error: string } {
  const exponent = asset?.kind === 'money' && asset.currency ? currencyExponent(asset.currency) : 0;
  return parseMinor(text, exponent);
}
