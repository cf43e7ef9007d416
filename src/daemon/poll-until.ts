/**
 * Polls a condition until it holds or a timeout passes, as the daemon waits for the SAs it
 * deleted (`down`, the stop) to be gone. A check looks at each SA still waited for: with 100 000
 * of them it takes tens of milliseconds, and at a fixed 20 ms between checks the event loop did
 * little else than check, while the Delete answers it waited for queued up. So the pause after
 * a check is at least `costFactor` times as long as the check took: checking costs at most about
 * 1 / (1 + costFactor) of the loop.
 */
export interface PollClock {
  /** Milliseconds, monotonic. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface PollOptions {
  readonly timeoutMs: number;
  /** The shortest pause between two checks. */
  readonly intervalMs: number;
  /** The pause is at least this many times what the check took. */
  readonly costFactor: number;
}

/** True when `condition` held before `timeoutMs`, false when the time ran out. */
export async function pollUntil(condition: () => boolean, options: PollOptions, clock: PollClock): Promise<boolean> {
  const deadline = clock.now() + options.timeoutMs;
  for (;;) {
    const started = clock.now();
    if (condition()) return true;
    const checked = clock.now();
    if (checked >= deadline) return false;
    const pause = Math.max(options.intervalMs, options.costFactor * (checked - started));
    await clock.sleep(Math.min(pause, deadline - checked));
  }
}
