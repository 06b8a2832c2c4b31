import { fromMs, textArray } from './batch_sql.js';
import type { Db, Deps } from './ports.js';
import { keyedHash, type LinkTarget, makeClickId, resolveLink } from './referrals_codes.js';

/**
 * Link clicks are the hottest path Perks has (every visitor of every shared link), and nothing waits
 * on the click row itself: the click id handed to the visitor is signed and carries the code and the
 * click time, so attribution never needs the row. Clicks are therefore written in batches, at most
 * MAX_DELAY_MS after they happen, in one statement per batch; the per-referrer click counters are
 * updated in the same transaction.
 */
const MAX_BATCH = 2_000;
const MAX_DELAY_MS = 50;
const WRITE_ATTEMPTS = 3;
const WRITE_RETRY_MS = 100;
/** How long a resolved link is reused; a changed landing URL reaches links within this time. */
const TARGET_TTL_MS = 5_000;
/** A link in use is looked up again in the background once its entry is this old. */
const TARGET_REFRESH_MS = TARGET_TTL_MS / 2;
const TARGET_CACHE_LIMIT = 50_000;
/**
 * Stands for the click id in a cached redirect URL. A click id holds only letters, digits, '.', '_' and
 * '-', which a query string keeps as they are, so putting it in place of this gives the same URL as
 * setting the parameter.
 */
const CLICK_PLACEHOLDER = 'PERKSCLICKID0';

interface PendingClick {
  target: LinkTarget;
  id: string;
  ip_hash: string | null;
  user_agent_hash: string | null;
  clicked_at_ms: number;
}

/** unique_violation: the click ids of a batch already stored, by an attempt whose answer was lost. */
const UNIQUE_VIOLATION = '23505';

/**
 * Keyed hashes of recent visitors' IP addresses and user agents. A hash costs more than the rest of
 * a click's answer, and the values repeat: a handful of browsers' user agents, and a visitor who
 * clicks again. Bounded, and emptied when full.
 */
const HASH_CACHE_LIMIT = 10_000;
const HASH_CACHE_VALUE_LIMIT = 512;

export interface RecordedClick {
  click_id: string;
  landing_url: string;
  window_days: number;
  code: string;
  /** The landing URL with `ref` and `perks_click` set: where the visitor goes. */
  location: string;
}

interface CachedTarget {
  target: LinkTarget;
  /** The redirect URL split around the click id, built once per lookup rather than per click. */
  location: [before: string, after: string];
  at_ms: number;
  refreshing: boolean;
}

/** The landing URL with the code and a placeholder click id, split around the placeholder. */
function locationTemplate(target: LinkTarget): [string, string] {
  const url = new URL(target.landing_url);
  url.searchParams.set('ref', target.code);
  url.searchParams.set('perks_click', CLICK_PLACEHOLDER);
  const href = url.toString();
  const at = href.lastIndexOf(CLICK_PLACEHOLDER);
  return [href.slice(0, at), href.slice(at + CLICK_PLACEHOLDER.length)];
}

/** Referral codes are matched without case, spaces or dashes, as codes are everywhere. */
const cacheKey = (code: string) => code.replace(/[\s-]/g, '').toUpperCase();

export class ClickRecorder {
  private pending: PendingClick[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> = Promise.resolve();
  private targets = new Map<string, CachedTarget>();
  /** Lookups under way, shared so that a burst of clicks on a cold link queries the store once. */
  private resolving = new Map<string, Promise<CachedTarget | undefined>>();
  /** Per workspace secret (so one workspace's hash is never served for another's): value to hash. */
  private hashes = new Map<string, Map<string, string>>();
  private hashCount = 0;

  constructor(
    private readonly deps: Deps,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  private resolve(key: string): Promise<CachedTarget | undefined> {
    let pending = this.resolving.get(key);
    if (pending) return pending;
    pending = resolveLink(this.deps, key)
      .then((target) => {
        // Only found links are kept: a code created a moment after someone tried it must work at once.
        if (!target) {
          this.targets.delete(key);
          return undefined;
        }
        if (this.targets.size >= TARGET_CACHE_LIMIT) this.targets.clear();
        const entry: CachedTarget = {
          target,
          location: locationTemplate(target),
          at_ms: this.deps.clock.now().getTime(),
          refreshing: false,
        };
        this.targets.set(key, entry);
        return entry;
      })
      .finally(() => this.resolving.delete(key));
    this.resolving.set(key, pending);
    return pending;
  }

  /**
   * The cached link for a code, if it was looked up less than TARGET_TTL_MS ago; an entry past half
   * that age is looked up again in the background, so a link in steady use never falls out.
   */
  private cached(key: string, now: Date): CachedTarget | undefined {
    const hit = this.targets.get(key);
    if (!hit) return undefined;
    const age = now.getTime() - hit.at_ms;
    if (age >= TARGET_TTL_MS || age < 0) return undefined;
    if (age >= TARGET_REFRESH_MS && !hit.refreshing) {
      hit.refreshing = true;
      this.resolve(key).catch((err: unknown) => {
        hit.refreshing = false;
        this.onError(err);
      });
    }
    return hit;
  }

  /**
   * Records a click on `code` and returns where to send the visitor, or undefined for a code that
   * no program with links knows. The visitor's IP address and user agent are kept only as hashes
   * keyed by the workspace's secret.
   */
  async record(
    code: string,
    ip: string | undefined,
    userAgent: string | undefined,
  ): Promise<RecordedClick | undefined> {
    const key = cacheKey(code);
    const entry = this.cached(key, this.deps.clock.now()) ?? (await this.resolve(key));
    return entry ? this.add(entry, this.deps.clock.now(), ip, userAgent) : undefined;
  }

  /**
   * Records a click without waiting, when the code's link is in the cache; undefined otherwise (the
   * caller then takes the `record` path, which looks the code up). Serves the hot path of `GET /r/`.
   */
  recordCached(
    code: string,
    ip: string | undefined,
    userAgent: string | undefined,
  ): RecordedClick | undefined {
    const now = this.deps.clock.now();
    const entry = this.cached(cacheKey(code), now);
    return entry ? this.add(entry, now, ip, userAgent) : undefined;
  }

  private add(
    entry: CachedTarget,
    at: Date,
    ip: string | undefined,
    userAgent: string | undefined,
  ): RecordedClick {
    const target = entry.target;
    const id = this.deps.ids.id('clk');
    this.pending.push({
      target,
      id,
      ip_hash: ip ? this.hash(target.secret, `ip:${ip}`) : null,
      user_agent_hash: userAgent ? this.hash(target.secret, `ua:${userAgent}`) : null,
      clicked_at_ms: at.getTime(),
    });
    if (this.pending.length >= MAX_BATCH) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), MAX_DELAY_MS).unref();
    const clickId = makeClickId(target.secret, id, target.code, at);
    return {
      click_id: clickId,
      landing_url: target.landing_url,
      window_days: target.window_days,
      code: target.code,
      location: `${entry.location[0]}${clickId}${entry.location[1]}`,
    };
  }

  private hash(secret: string, value: string): string {
    if (value.length > HASH_CACHE_VALUE_LIMIT) return keyedHash(secret, value);
    let known = this.hashes.get(secret);
    let hash = known?.get(value);
    if (hash !== undefined) return hash;
    hash = keyedHash(secret, value);
    if (this.hashCount >= HASH_CACHE_LIMIT) {
      this.hashes.clear();
      this.hashCount = 0;
      known = undefined;
    }
    if (!known) {
      known = new Map();
      this.hashes.set(secret, known);
    }
    known.set(value, hash);
    this.hashCount++;
    return hash;
  }

  /** Writes every click recorded so far; resolves once they are stored. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length > 0) {
      this.inFlight = this.inFlight.then(() => this.write(batch)).catch(this.onError);
    }
    return this.inFlight;
  }

  /**
   * One statement per batch (atomic on its own): the click rows, and each referrer's click counter
   * raised by as many. The batch goes as arrays: its links once each, then per click the index of
   * its link, its id, hashes and time. A failed write is tried again a few times before it is
   * reported, so a passing hiccup of the store loses nothing; a retry that finds the batch's click ids
   * already stored means the attempt before it was committed, and stops there.
   */
  private async write(batch: PendingClick[]): Promise<void> {
    const links = new Map<LinkTarget, number>();
    const linkOf: number[] = [];
    const counts: number[] = [];
    for (const click of batch) {
      let index = links.get(click.target);
      if (index === undefined) {
        index = links.size + 1;
        links.set(click.target, index);
        counts.push(0);
      }
      counts[index - 1]!++;
      linkOf.push(index);
    }
    const targets = [...links.keys()];
    const params = [
      textArray(targets.map((t) => t.workspace_id)),
      textArray(targets.map((t) => t.code)),
      textArray(targets.map((t) => t.program_id)),
      textArray(targets.map((t) => t.customer_id)),
      `{${counts.join(',')}}`,
      `{${linkOf.join(',')}}`,
      textArray(batch.map((c) => c.id)),
      textArray(batch.map((c) => c.ip_hash)),
      textArray(batch.map((c) => c.user_agent_hash)),
      `{${batch.map((c) => c.clicked_at_ms).join(',')}}`,
    ];
    for (let attempt = 1; ; attempt++) {
      try {
        await this.deps.db.query(
          `with links as (
             select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[]) with ordinality
               as l(workspace_id, code, program_id, referrer_customer_id, clicks, n)
           ), inserted as (
             insert into referral_clicks (workspace_id, id, code, program_id, referrer_customer_id, ip_hash,
               user_agent_hash, clicked_at)
             select l.workspace_id, c.id, l.code, l.program_id, l.referrer_customer_id, c.ip_hash,
               c.user_agent_hash, ${fromMs('c.clicked_at_ms')}
             from unnest($6::int[], $7::text[], $8::text[], $9::text[], $10::int8[])
               as c(link, id, ip_hash, user_agent_hash, clicked_at_ms)
             join links l on l.n = c.link
           )
           update referrers r set clicks = r.clicks + x.n
           from (select workspace_id, program_id, referrer_customer_id, sum(clicks) as n from links
                 group by 1, 2, 3) x
           where r.workspace_id = x.workspace_id and r.program_id = x.program_id
             and r.customer_id = x.referrer_customer_id`,
          params,
        );
        return;
      } catch (err) {
        if (attempt > 1 && (err as { code?: unknown }).code === UNIQUE_VIOLATION) return;
        if (attempt >= WRITE_ATTEMPTS) throw err;
        await new Promise((resolve) => setTimeout(resolve, WRITE_RETRY_MS * attempt));
      }
    }
  }
}

const recorders = new WeakMap<Db, ClickRecorder>();

/** The one recorder of a store in this process. */
export function clickRecorder(deps: Deps, onError?: (err: unknown) => void): ClickRecorder {
  let recorder = recorders.get(deps.db);
  if (!recorder) {
    recorder = new ClickRecorder(deps, onError);
    recorders.set(deps.db, recorder);
  }
  return recorder;
}

/** Waits until this process's recorded clicks are stored (reads that count clicks call it first). */
export async function flushClicks(deps: Deps): Promise<void> {
  await recorders.get(deps.db)?.flush();
}
