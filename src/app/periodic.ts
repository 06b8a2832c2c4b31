/**
 * A background loop of a server process: runs `work` at once, then again `interval_ms` after each
 * run ends, and at once again while `work` says there is more to do now. An error is reported to
 * `onError` and the loop carries on: a store that is briefly unreachable must not stop it. The timer
 * does not keep the process alive on its own.
 */
export interface Periodic {
  /** Stops the loop and waits for a run in progress to finish. */
  stop(): Promise<void>;
}

export function startPeriodic(
  work: () => Promise<boolean>,
  interval_ms: number,
  onError: (err: unknown) => void = () => {},
): Periodic {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const schedule = (delay_ms: number) => {
    timer = setTimeout(tick, delay_ms);
    timer.unref();
  };
  const tick = () => {
    running = (async () => {
      let more = false;
      try {
        more = await work();
      } catch (err) {
        onError(err);
      }
      if (!stopped) schedule(more ? 0 : interval_ms);
    })();
  };
  schedule(0);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
