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
/** How long a resolved link is reused; a changed landing URL reaches links within this time. */
const TARGET_TTL_MS = 5_000;
const TARGET_CACHE_LIMIT = 50_000;

interface PendingClick {
  workspace_id: string;
  id: string;
  code: string;
  program_id: string;
  referrer_customer_id: string;
  ip_hash: string | null;
  user_agent_hash: string | null;
  clicked_at: string;
}

export interface RecordedClick {
  click_id: string;
  landing_url: string;
  window_days: number;
  code: string;
}

export class ClickRecorder {
  private pending: PendingClick[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> = Promise.resolve();
  private targets = new Map<string, { target: LinkTarget; until_ms: number }>();

  constructor(
    private readonly deps: Deps,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  private async target(code: string): Promise<LinkTarget | undefined> {
    const now = this.deps.clock.now().getTime();
    const hit = this.targets.get(code);
    if (hit && hit.until_ms > now) return hit.target;
    const target = await resolveLink(this.deps, code);
    // Only found links are kept: a code created a moment after someone tried it must work at once.
    if (!target) return undefined;
    if (this.targets.size >= TARGET_CACHE_LIMIT) this.targets.clear();
    this.targets.set(code, { target, until_ms: now + TARGET_TTL_MS });
    return target;
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
    const target = await this.target(code.replace(/[\s-]/g, '').toUpperCase());
    if (!target) return undefined;
    const at = this.deps.clock.now();
    const id = this.deps.ids.id('clk');
    this.pending.push({
      workspace_id: target.workspace_id,
      id,
      code: target.code,
      program_id: target.program_id,
      referrer_customer_id: target.customer_id,
      ip_hash: ip ? keyedHash(target.secret, `ip:${ip}`) : null,
      user_agent_hash: userAgent ? keyedHash(target.secret, `ua:${userAgent}`) : null,
      clicked_at: at.toISOString(),
    });
    if (this.pending.length >= MAX_BATCH) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), MAX_DELAY_MS).unref();
    return {
      click_id: makeClickId(target.secret, id, target.code, at),
      landing_url: target.landing_url,
      window_days: target.window_days,
      code: target.code,
    };
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

  private async write(batch: PendingClick[]): Promise<void> {
    const rows = JSON.stringify(batch);
    await this.deps.db.transaction(async (tx) => {
      await tx.query(
        `insert into referral_clicks (workspace_id, id, code, program_id, referrer_customer_id, ip_hash,
           user_agent_hash, clicked_at)
         select workspace_id, id, code, program_id, referrer_customer_id, ip_hash, user_agent_hash, clicked_at
         from jsonb_to_recordset($1::jsonb) as x(workspace_id text, id text, code text, program_id text,
           referrer_customer_id text, ip_hash text, user_agent_hash text, clicked_at timestamptz)
         on conflict do nothing`,
        [rows],
      );
      await tx.query(
        `update referrers r set clicks = r.clicks + x.n
         from (select workspace_id, program_id, referrer_customer_id, count(*) as n
               from jsonb_to_recordset($1::jsonb) as c(workspace_id text, program_id text, referrer_customer_id text)
               group by 1, 2, 3) x
         where r.workspace_id = x.workspace_id and r.program_id = x.program_id
           and r.customer_id = x.referrer_customer_id`,
        [rows],
      );
    });
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
