/**
 * Grouping concurrent calls into fewer statements. Calls are sorted into lanes (per store, since
 * tests run several in one process, and per key, e.g. a workspace). A lane runs at most `maxInFlight`
 * statements at once; calls that arrive while it is full wait, and the next statement takes up to
 * `maxGroup` of them. An idle server therefore runs each call alone, at once, and a busy one sends
 * larger groups as its statements take longer: the grouping follows the load without a timer.
 *
 * A group is all or nothing: when its statement fails, each of its calls is run again alone, so every
 * call gets the answer it would have had alone (a limit reached, a bad input) and no call fails for
 * another's sake.
 */

/** How to run the calls of one kind. */
export interface GroupRunner<I, O> {
  /** One call on its own. */
  one(item: I): Promise<O>;
  /** Several calls in one statement, answered in the order given; throws when the group fails. */
  many(items: I[]): Promise<O[]>;
}

interface Waiting<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (err: unknown) => void;
}

interface Lane<I, O> {
  waiting: Waiting<I, O>[];
  inFlight: number;
}

export class Grouping<I, O> {
  /** Lanes by store, then by key. A key is present exactly while a statement of its lane is in flight. */
  private readonly lanes = new WeakMap<object, Map<string, Lane<I, O>>>();

  constructor(
    private readonly limits: { maxInFlight: number; maxGroup: number },
    private readonly runner: GroupRunner<I, O>,
  ) {}

  /** Runs `item` in the next statement of the lane (`store`, `key`). */
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

  /** Runs statements for one lane until nobody waits, then frees it. */
  private async drain(lanes: Map<string, Lane<I, O>>, key: string, lane: Lane<I, O>, first: Waiting<I, O>[]) {
    let group = first;
    while (group.length > 0) {
      await this.run(group);
      group = lane.waiting.splice(0, this.limits.maxGroup);
    }
    lane.inFlight--;
    if (lane.inFlight === 0) lanes.delete(key);
  }

  /** Answers every call of the group: together when it can, else each alone. Never throws. */
  private async run(group: Waiting<I, O>[]): Promise<void> {
    const alone = async (w: Waiting<I, O>) => {
      try {
        w.resolve(await this.runner.one(w.item));
      } catch (err) {
        w.reject(err);
      }
    };
    if (group.length === 1) return alone(group[0]!);
    let answers: O[];
    try {
      answers = await this.runner.many(group.map((w) => w.item));
    } catch {
      // Nothing of the group was kept. Each again on its own, for its own answer.
      await Promise.all(group.map(alone));
      return;
    }
    group.forEach((w, i) => w.resolve(answers[i]!));
  }
}
