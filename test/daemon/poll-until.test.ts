import { describe, expect, it } from 'vitest';
import { pollUntil, type PollClock } from '../../src/daemon/poll-until.js';

/** A clock that moves only when told: each check costs `checkMs`, each pause what it asks. */
function fakeClock(): PollClock & { t: number; pauses: number[] } {
  const clock = {
    t: 0,
    pauses: [] as number[],
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.pauses.push(ms);
      clock.t += ms;
    },
  };
  return clock;
}

describe('pollUntil', () => {
  const options = { timeoutMs: 3_000, intervalMs: 20, costFactor: 4 };

  it('checks every intervalMs while checks are cheap, and says when the condition held', async () => {
    const clock = fakeClock();
    let checks = 0;
    expect(await pollUntil(() => ++checks === 5, options, clock)).toBe(true);
    expect(clock.pauses).toEqual([20, 20, 20, 20]);
  });

  it('pauses costFactor times as long as a slow check took (100 000 SAs to look at), so checking takes a fifth of the loop', async () => {
    const clock = fakeClock();
    let checks = 0;
    const slowCheck = (): boolean => {
      clock.t += 50;
      return ++checks === 4;
    };
    expect(await pollUntil(slowCheck, options, clock)).toBe(true);
    expect(clock.pauses).toEqual([200, 200, 200]);
  });

  it('gives up at the timeout, after one last check at the deadline; a pause never passes it', async () => {
    const clock = fakeClock();
    let checks = 0;
    const never = (): boolean => {
      checks++;
      clock.t += 100;
      return false;
    };
    expect(await pollUntil(never, { ...options, timeoutMs: 1_000 }, clock)).toBe(false);
    // 0-100 check, pause 400; 500-600 check, pause 400 (to 1000); 1000-1100 check: past the deadline.
    expect(clock.pauses).toEqual([400, 400]);
    expect(checks).toBe(3);
  });
});
