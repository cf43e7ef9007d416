/**
 * Two daemons in one process: the restart policy as the daemon wires it (connection-keeper.ts),
 * and `ikekm down` waiting for the SAs it deleted, not for an empty connection.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SaEvent } from '../../src/engine/engine-ports.js';
import { startPair, waitFor, type Pair } from './support/daemon-pair.js';

let pair: Pair | undefined;
afterEach(async () => {
  await pair?.stop();
  pair = undefined;
});

/** Short waits, so a restart shows within the test's patience. */
const QUICK = { initialMs: 100, maxMs: 1_000, jitter: 0.2 };

const established = async (p: Pair, side: 'a' | 'b'): Promise<string | undefined> => {
  const status = await p[side].daemon.status();
  return status.ikeSas.find((sa) => sa.state === 'ESTABLISHED' && sa.childSas.some((c) => c.state === 'INSTALLED'))?.spiI;
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('restart policy in the daemon', () => {
  it("an on-load connection is initiated again after the peer's Delete (closeAction start by default)", async () => {
    pair = await startPair({ a: [{ start: 'listen' }], b: [{ start: 'on-load' }] }, { restartBackoff: QUICK });
    const p = pair;
    const first = await waitFor('b up', () => established(p, 'b'));
    expect(await p.a.daemon.down('lab')).toEqual({ connection: 'lab', deleted: 1 });
    const second = await waitFor('b up again', async () => {
      const spi = await established(p, 'b');
      return spi !== first ? spi : undefined;
    });
    expect(second).not.toBe(first);
    expect(p.b.events.find((e) => (e as SaEvent).kind === 'ike-sa-down')).toMatchObject({ spiI: first, cause: 'peer-deleted' });
    // The peer (listen) took it as responder.
    expect((await p.a.daemon.status()).ikeSas).toMatchObject([{ spiI: second, role: 'responder', state: 'ESTABLISHED' }]);
  });

  it('ikekm down on the on-load side ends it for good: nothing initiates it again', async () => {
    pair = await startPair({ a: [{ start: 'listen' }], b: [{ start: 'on-load' }] }, { restartBackoff: QUICK });
    const p = pair;
    await waitFor('b up', () => established(p, 'b'));
    expect(await p.b.daemon.down('lab')).toEqual({ connection: 'lab', deleted: 1 });
    // Ten times the shortest wait between attempts.
    await sleep(10 * QUICK.initialMs);
    expect((await p.b.daemon.status()).ikeSas).toEqual([]);
    expect(p.b.logs.lines().filter((l) => l.msg === 'initiating connection again (restart policy)')).toEqual([]);
  });

  it('ikekm down resolves for the SAs it deleted while the peer re-initiates at once', async () => {
    pair = await startPair({ a: [{ start: 'listen' }], b: [{ start: 'on-load' }] }, { restartBackoff: QUICK });
    const p = pair;
    const first = await waitFor('b up', () => established(p, 'b'));
    // A's kernel is slow to take the old Child SA out: the peer's new IKE SA (b re-initiates as
    // soon as it has answered our Delete) is up on a before a's old SA has left.
    const kernel = p.a.daemon.memoryKernel;
    const deleteSa = kernel.deleteSa.bind(kernel);
    kernel.deleteSa = async (destination, spi) => {
      await sleep(1_000);
      return deleteSa(destination, spi);
    };
    const down = await p.a.daemon.down('lab');
    expect(down).toEqual({ connection: 'lab', deleted: 1 });
    const status = await p.a.daemon.status();
    expect(status.ikeSas.every((sa) => sa.spiI !== first)).toBe(true);
    expect(status.ikeSas.length).toBeGreaterThan(0);
  });

  it('a refused attempt is retried with backoff, and status shows the failures and the next attempt', async () => {
    // B's PSK is not A's: every attempt ends in AUTHENTICATION_FAILED.
    pair = await startPair({ a: [{ start: 'listen' }], b: [{ start: 'on-load', psk: 'not the key a has at all' }] }, { restartBackoff: { initialMs: 2_000, maxMs: 60_000, jitter: 0 } });
    const p = pair;
    const restart = await waitFor('a failed attempt in status', async () => (await p.b.daemon.status()).restarts.find((r) => r.failures >= 1 && !r.pending));
    expect(restart).toMatchObject({ connection: 'lab', failures: 1 });
    expect(restart.nextAttemptSeconds).toBeGreaterThan(0);
    expect(restart.nextAttemptSeconds).toBeLessThanOrEqual(2);
    // The second failure doubles the wait.
    const second = await waitFor('the second failure', async () => (await p.b.daemon.status()).restarts.find((r) => r.failures >= 2 && !r.pending));
    expect(second.nextAttemptSeconds).toBeGreaterThan(2);
    expect(second.nextAttemptSeconds).toBeLessThanOrEqual(4);
    expect(p.b.events.filter((e) => (e as SaEvent).kind === 'ike-sa-failed').every((e) => (e as Extract<SaEvent, { kind: 'ike-sa-failed' }>).notify === 'AUTHENTICATION_FAILED')).toBe(true);
  });
});
