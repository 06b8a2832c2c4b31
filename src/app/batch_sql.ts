/**
 * Instants travel in the batch's JSON as milliseconds since the epoch, turned back into timestamps
 * with integer arithmetic: exact for every date an event may carry (an ISO string of a year before 1
 * or after 9999 is not one PostgreSQL reads).
 */
export const ms = (d: Date | null | undefined) => (d == null ? null : d.getTime());
export const fromMs = (column: string) =>
  `('epoch'::timestamptz + (${column} / 1000) * interval '1 second' + (${column} % 1000) * interval '1 millisecond')`;

/**
 * A PostgreSQL array literal of text values, for a `$n::text[]` parameter: each value quoted, so
 * that any value reads back as itself, and null as NULL. A batch handed over as a few such arrays
 * costs the store less to read than one JSON document, and the server less than one parameter per
 * value.
 */
export function textArray(values: readonly (string | null)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (i > 0) out += ',';
    out += value == null ? 'NULL' : `"${value.replace(/["\\]/g, '\\$&')}"`;
  }
  return `${out}}`;
}
