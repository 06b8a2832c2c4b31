import { PerksError } from '../core/errors.js';
import { type CustomerRow, customerViews, type Page } from './customers.js';
import type { Sql } from './ports.js';

/** The longest text a search takes; longer than any id or e-mail the API stores. */
export const MAX_SEARCH_LENGTH = 255;

/**
 * The smallest string greater than every string that starts with `prefix`, in code point order
 * (byte order of UTF-8, the "C" collation), or null when there is none (a prefix of U+10FFFF only).
 * With it a prefix match is a range `[prefix, upper)`, which a "C" btree index answers directly.
 */
export function prefixUpperBound(prefix: string): string | null {
  const points = [...prefix].map((c) => c.codePointAt(0)!);
  while (points.length > 0) {
    let last = points.pop()! + 1;
    if (last >= 0xd800 && last <= 0xdfff) last = 0xe000; // surrogates are not characters
    if (last <= 0x10ffff) return String.fromCodePoint(...points, last);
  }
  return null;
}

// What a customer matched, as SQL over the parameters: $2 the search, $3 its upper bound, $4 the
// search lower-cased, $5 that one's upper bound. Every comparison is in byte order ("C"), as the
// indexes of migration 0015 are.
const EXTERNAL = `external_id collate "C"`;
const EMAIL = `lower(email) collate "C"`;
const EXTERNAL_MATCHES = `(${EXTERNAL} >= $2 and ($3::text is null or ${EXTERNAL} < $3))`;
const EMAIL_MATCHES = `(${EMAIL} >= $4 and ($5::text is null or ${EMAIL} < $5))`;
/** A customer's sort key in a search: the smallest of what matched (its id, external id, e-mail). */
const SEARCH_KEY = `least(case when id = $2 then id collate "C" end,
  case when ${EXTERNAL_MATCHES} then ${EXTERNAL} end, case when ${EMAIL_MATCHES} then ${EMAIL} end)`;

/**
 * Customers whose Perks id is exactly `search`, whose external id starts with it, or whose e-mail
 * starts with it ignoring case, ordered by what matched (then id), so a page is read straight off
 * the indexes whatever the search matches: each kind of match is one ordered range of its own index
 * (a page from each, merged), never a walk through the workspace's customers filtering them. A
 * customer that matches twice is listed once, under the smaller of its keys. `starting_after` is a
 * customer of the previous page; its key is looked up again.
 */
export async function searchCustomers(
  sql: Sql,
  workspaceId: string,
  page: Page,
  search: string,
  email?: string,
) {
  const lowered = search.toLowerCase();
  const bounds = [search, prefixUpperBound(search), lowered, prefixUpperBound(lowered)];
  let after: { key: string; id: string } | null = null;
  if (page.starting_after !== undefined) {
    const [row] = await sql.query<{ key: string | null; id: string }>(
      `select ${SEARCH_KEY} as key, id from customers where workspace_id = $1 and id = $6`,
      [workspaceId, ...bounds, page.starting_after],
    );
    if (!row || row.key === null) {
      throw new PerksError(
        'parameter_invalid',
        `'starting_after': '${page.starting_after}' is not a customer this search found; start again without it`,
        'starting_after',
      );
    }
    after = { key: row.key, id: row.id };
  }
  // $6/$7 the cursor's key and id, $8 the e-mail filter, $9 the page size plus one.
  const rows = await sql.query<CustomerRow>(
    `with hits as (
       (select id, id collate "C" as k from customers
         where workspace_id = $1 and id = $2 and ($8::text is null or email = $8)
           and ($6::text is null or (id collate "C", id) > ($6::text collate "C", $7)))
       union all
       (select id, ${EXTERNAL} as k from customers
         where workspace_id = $1 and ${EXTERNAL_MATCHES} and id <> $2
           and not coalesce(${EMAIL_MATCHES} and ${EMAIL} < ${EXTERNAL}, false)
           and ($8::text is null or email = $8)
           and ($6::text is null or (${EXTERNAL}, id) > ($6::text collate "C", $7))
         order by ${EXTERNAL}, id limit $9)
       union all
       (select id, ${EMAIL} as k from customers
         where workspace_id = $1 and ${EMAIL_MATCHES} and id <> $2
           and not coalesce(${EXTERNAL_MATCHES} and ${EXTERNAL} <= ${EMAIL}, false)
           and ($8::text is null or email = $8)
           and ($6::text is null or (${EMAIL}, id) > ($6::text collate "C", $7))
         order by ${EMAIL}, id limit $9))
     select c.* from hits h join customers c on c.workspace_id = $1 and c.id = h.id
     order by h.k, h.id limit $9`,
    [workspaceId, ...bounds, after?.key ?? null, after?.id ?? null, email ?? null, page.limit + 1],
  );
  const data = await customerViews(sql, rows.slice(0, page.limit));
  return { object: 'list' as const, data, has_more: rows.length > page.limit };
}
