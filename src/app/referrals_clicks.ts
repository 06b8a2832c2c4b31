import { fromMs } from './batch_sql.js';
import type { Db, Deps } from './ports.js';
import { keyedHash, type LinkTarget, makeClickId, resolveLink } from './referrals_codes.js';

/**
 * Link clicks are the hottest path Perks has (every visitor of every shared link), and nothing waits
 * on the click row itself: the click id handed to the visitor is signed and carries the code and the
 * click time, so attribution never needs the row. Clicks are therefore written in batches, at most
 * MAX_DELAY_MS after they happen, in one statement per batch; the per-referrer click counters are
 * updated in the same transaction.
 */
const MAX_BATCH = 500;
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
  workspace_id: string;
  id: string;
  code: string;
  program_id: string;
  referrer_customer_id: string;
  ip_hash: string | null;
  user_agent_hash: string | null;
  clicked_at_ms: number;
}

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
      workspace_id: target.workspace_id,
      id,
      code: target.code,
      program_id: target.program_id,
      referrer_customer_id: target.customer_id,
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
   * raised by the clicks actually inserted. A failed write is tried again a few times before it is
   * reported, so a passing hiccup of the store loses nothing.
   */
  private async write(batch: PendingClick[]): Promise<void> {
    // JSON is the cheapest way to hand the store a batch of rows: serialised natively, one parameter.
    const rows = JSON.stringify(batch);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.deps.db.query(
          `with inserted as (
             insert into referral_clicks (workspace_id, id, code, program_id, referrer_customer_id, ip_hash,
               user_agent_hash, clicked_at)
             select workspace_id, id, code, program_id, referrer_customer_id, ip_hash, user_agent_hash,
               ${fromMs('clicked_at_ms')}
             from json_to_recordset($1::json) as x(workspace_id text, id text, code text, program_id text,
               referrer_customer_id text, ip_hash text, user_agent_hash text, clicked_at_ms bigint)
             on conflict do nothing
             returning workspace_id, program_id, referrer_customer_id
           )
           update referrers r set clicks = r.clicks + x.n
           from (select workspace_id, program_id, referrer_customer_id, count(*) as n from inserted
                 group by 1, 2, 3) x
           where r.workspace_id = x.workspace_id and r.program_id = x.program_id
             and r.customer_id = x.referrer_customer_id`,
          [rows],
        );
        return;
      } catch (err) {
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
