/**
 * Operations on one account are serialised by its row lock in the database; that alone is what makes
 * them correct. This in-process queue is about speed: when many requests for the same account arrive
 * at once, they wait here, one at a time, instead of each sending its write to wait on the row lock.
 * Each then starts from the state the one before it wrote (ledger_known.ts), and the one writing has
 * the event loop and the pool to itself. Different accounts never wait for each other.
 */
const tails = new Map<string, Promise<void>>();

export interface Turn {
  /** Resolves when it is this operation's turn. */
  ready: Promise<void>;
  /** The operation is over, written or not: the next may start. */
  done(): void;
}

export function takeTurn(key: string): Turn {
  const before = tails.get(key) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((resolve) => (done = resolve));
  tails.set(key, mine);
  return {
    ready: before,
    done() {
      done();
      // The last one out removes the key, so the map holds only accounts with work in flight.
      if (tails.get(key) === mine) tails.delete(key);
    },
  };
}
