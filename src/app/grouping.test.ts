import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type GroupRunner, Grouping } from './grouping.js';

/** A statement the test finishes by hand. */
interface Statement {
  items: number[];
  finish(fail?: boolean): void;
}

/** A runner whose statements wait for the test, logging what happens in order. */
function manualRunner(log: string[]) {
  const statements: Statement[] = [];
  const start = (items: number[]) =>
    new Promise<number[]>((resolve, reject) => {
      log.push(`sent ${items.join('+')}`);
      statements.push({
        items,
        finish: (fail) => (fail ? reject(new Error('group failed')) : resolve(items.map((i) => i * 10))),
      });
    });
  const runner: GroupRunner<number, number> = {
    one: async (item) => {
      if (item < 0) throw new Error(`bad item ${item}`);
      return (await start([item]))[0]!;
    },
    many: (items) => start(items),
  };
  return { runner, statements };
}

/** Lets every pending callback of the event loop run (timers, immediates, promise jobs). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('Grouping', () => {
  it('runs a lone call at once, and the calls that arrive meanwhile in one next statement', async () => {
    const log: string[] = [];
    const { runner, statements } = manualRunner(log);
    const g = new Grouping({ maxInFlight: 1, maxGroup: 64 }, runner);
    const store = {};
    const answers = [1, 2, 3, 4].map((i) => g.submit(store, 'ws', i));
    await settle();
    assert.deepEqual(log, ['sent 1']);
    statements[0]!.finish();
    await settle();
    assert.deepEqual(log, ['sent 1', 'sent 2+3+4']);
    statements[1]!.finish();
    assert.deepEqual(await Promise.all(answers), [10, 20, 30, 40]);
  });

  it('runs each call of a failed group alone, so each gets its own answer', async () => {
    const log: string[] = [];
    const { runner, statements } = manualRunner(log);
    const g = new Grouping({ maxInFlight: 1, maxGroup: 64 }, runner);
    const store = {};
    const answers = [1, -2, 3].map((i) => g.submit(store, 'ws', i).catch((err: Error) => err.message));
    await settle();
    statements[0]!.finish();
    await settle();
    statements[1]!.finish(true); // the group of -2 and 3
    await settle();
    assert.deepEqual(log, ['sent 1', 'sent -2+3', 'sent 3']);
    statements[2]!.finish();
    assert.deepEqual(await Promise.all(answers), [10, 'bad item -2', 30]);
  });

  it('keeps lanes apart and takes at most maxGroup calls per statement', async () => {
    const log: string[] = [];
    const { runner, statements } = manualRunner(log);
    const g = new Grouping({ maxInFlight: 1, maxGroup: 2 }, runner);
    const store = {};
    const a = [1, 2, 3, 4].map((i) => g.submit(store, 'a', i));
    const b = g.submit(store, 'b', 9);
    await settle();
    assert.deepEqual(log, ['sent 1', 'sent 9']);
    statements[0]!.finish();
    statements[1]!.finish();
    await settle();
    assert.deepEqual(log.slice(2), ['sent 2+3']);
    statements[2]!.finish();
    await settle();
    assert.deepEqual(log.slice(3), ['sent 4']);
    statements[3]!.finish();
    assert.deepEqual(await Promise.all([...a, b]), [10, 20, 30, 40, 90]);
  });
});
