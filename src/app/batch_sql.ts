/**
 * Instants travel in the batch's JSON as milliseconds since the epoch, turned back into timestamps
 * with integer arithmetic: exact for every date an event may carry (an ISO string of a year before 1
 * or after 9999 is not one PostgreSQL reads).
 */
export const ms = (d: Date | null | undefined) => (d == null ? null : d.getTime());
export const fromMs = (column: string) =>
  `('epoch'::timestamptz + (${column} / 1000) * interval '1 second' + (${column} % 1000) * interval '1 millisecond')`;
