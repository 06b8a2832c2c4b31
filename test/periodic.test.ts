import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startPeriodic } from '../src/app/periodic.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('startPeriodic (the loop of the background workers)', () => {
  it('runs at once, again at once while there is more, then waits the interval', async () => {
    const runs: number[] = [];
    let left = 3;
    const loop = startPeriodic(async () => {
      runs.push(Date.now());
      left -= 1;
      return left > 0;
    }, 60_000);
    await sleep(200);
    await loop.stop();
    assert.equal(runs.length, 3, 'three runs back to back, then the 60 s wait');
  });

  it('reports an error and carries on', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const loop = startPeriodic(
      async () => {
        calls += 1;
        if (calls === 1) throw new Error('store unreachable');
        return false;
      },
      5,
      (err) => errors.push(err),
    );
    const deadline = Date.now() + 5_000;
    while (calls < 3 && Date.now() < deadline) await sleep(5);
    await loop.stop();
    assert.ok(calls >= 3, `ran ${calls} times`);
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /store unreachable/);
  });

  it('stop waits for the run in progress and no run starts after it', async () => {
    let finished = false;
    let calls = 0;
    const loop = startPeriodic(async () => {
      calls += 1;
      await sleep(50);
      finished = true;
      return true;
    }, 5);
    await sleep(10);
    await loop.stop();
    assert.equal(finished, true, 'the run in progress ended before stop resolved');
    const after = calls;
    await sleep(50);
    assert.equal(calls, after, 'nothing ran after stop');
  });
});
