/**
 * Operations on one account are serialised by its row lock in the database; that alone is what makes
 * them correct. This in-process queue is only about speed: when many requests for the same account
 * arrive at once, they wait here, one at a time, instead of each opening a transaction and waiting on
 * the row lock. The request holding the lock then has the event loop (and the pool) to itself, so the
 * lock is released sooner. Different accounts never wait for each other.
 */
const tails = new Map<string, Promise<unknown>>();

export async function oneAtATime<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = tails.get(key) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const tail = run.then(
    () => {},
    () => {},
  );
  tails.set(key, tail);
  try {
    return await run;
  } finally {
    // The last one out removes the key, so the map holds only accounts with work in flight.
    if (tails.get(key) === tail) tails.delete(key);
  }
}
