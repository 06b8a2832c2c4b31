/**
 * Grouping concurrent calls into fewer statements. Calls are sorted into lanes (per store, since
 * tests run several in one process, and per key, e.g. a workspace). A lane runs at most `maxInFlight`
 * groups at once; calls that arrive while it is full wait, and the next group takes up to `maxGroup`
 * of them. An idle server therefore runs each call alone, at once, and a busy one sends larger groups
 * as its statements take longer: the grouping follows the load without a timer.
 */

/** A call waiting for its group: what it asks, and how to answer it. */
export interface Waiting<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (err: unknown) => void;
}

/** Runs one group, and answers each of its calls (resolve or reject). */
export type RunGroup<I, O> = (group: Waiting<I, O>[]) => Promise<void>;

interface Lane<I, O> {
  waiting: Waiting<I, O>[];
  inFlight: number;
}

export class Grouping<I, O> {
  /** Lanes by store, then by key. A key is present exactly while a group of its lane is in flight. */
  private readonly lanes = new WeakMap<object, Map<string, Lane<I, O>>>();

  constructor(
    private readonly limits: { maxInFlight: number; maxGroup: number },
    private readonly run: RunGroup<I, O>,
  ) {}

  /** Runs `item` in the next group of the lane (`store`, `key`); settles as `run` answers it. */
  submit(store: object, key: string, item: I): Promise<O> {
    let byKey = this.lanes.get(store);
    if (!byKey) this.lanes.set(store, (byKey = new Map()));
    let lane = byKey.get(key);
    if (!lane) byKey.set(key, (lane = { waiting: [], inFlight: 0 }));
    const current = lane;
    const lanes = byKey;
    return new Promise<O>((resolve, reject) => {
      const waiting: Waiting<I, O> = { item, resolve, reject };
      if (current.inFlight >= this.limits.maxInFlight) {
        current.waiting.push(waiting);
        return;
      }
      current.inFlight++;
      void this.drain(lanes, key, current, [waiting]);
    });
  }

  /** Runs groups for one lane until nobody waits, then frees it. */
  private async drain(lanes: Map<string, Lane<I, O>>, key: string, lane: Lane<I, O>, first: Waiting<I, O>[]) {
    let group = first;
    while (group.length > 0) {
      try {
        await this.run(group);
      } catch (err) {
        // `run` answers every call itself; this only guards against leaving one unanswered (a call
        // already answered ignores a second answer).
        for (const w of group) w.reject(err);
      }
      group = lane.waiting.splice(0, this.limits.maxGroup);
    }
    lane.inFlight--;
    if (lane.inFlight === 0) lanes.delete(key);
  }
}
