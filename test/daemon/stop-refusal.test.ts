/**
 * A daemon that is stopping takes no new IKE SA: a peer that re-initiates the moment it gets our
 * Delete (as libreswan does, or an ikekm on-load connection with closeAction start) must be left
 * with nothing, not with an SA we no longer hold.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startPair, waitFor, type Pair } from './support/daemon-pair.js';

let pair: Pair | undefined;
afterEach(async () => {
  await pair?.stop();
  pair = undefined;
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('stopping daemon', () => {
  it("refuses the peer's immediate re-initiation: the peer ends with no established SA", async () => {
    // b comes back at once after a's Delete (first restart immediate, then every 100 ms to 1 s).
    pair = await startPair({ a: [{ start: 'listen' }], b: [{ start: 'on-load' }] }, { restartBackoff: { initialMs: 100, maxMs: 1_000, jitter: 0 } });
    const p = pair;
    await waitFor('b up', async () => (await p.b.daemon.status()).ikeSas.some((sa) => sa.state === 'ESTABLISHED'));

    // a's kernel is slow to take the old Child SA out, so a is still stopping when b's new
    // IKE_SA_INIT arrives.
    const kernel = p.a.daemon.memoryKernel;
    const deleteSa = kernel.deleteSa.bind(kernel);
    kernel.deleteSa = async (destination, spi) => {
      await sleep(1_000);
      return deleteSa(destination, spi);
    };
    await p.a.daemon.stop({ graceMs: 5_000 });

    // b got the Delete and tried again at once, while a was stopping.
    await waitFor('b retried', () => p.b.logs.lines().some((l) => l.msg === 'initiating connection again (restart policy)'));
    // Long enough for a handshake on loopback to complete, had a answered it.
    await sleep(500);
    const status = await p.b.daemon.status();
    expect(status.ikeSas.filter((sa) => sa.state === 'ESTABLISHED')).toEqual([]);
    expect(status.ikeSas.flatMap((sa) => sa.childSas)).toEqual([]);
    // a refused it: no new IKE SA was left behind at a when it stopped.
    expect(p.a.logs.lines().filter((l) => l.msg === 'stopping: peers did not answer every Delete in time')).toEqual([]);
  });
});
