/**
 * A daemon that is stopping takes no new IKE SA: a peer that re-initiates the moment it gets our
 * Delete (as libreswan does, or an ikekm on-load connection with closeAction start) must be left
 * with nothing, not with an SA we no longer hold.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cryptoRegistry } from '../../src/crypto/registry.js';
import { runLoad } from '../../src/load/load-run.js';
import { startDaemon, startPair, waitFor, type Pair } from './support/daemon-pair.js';
import { loadedConfig, testPorts } from './support/lab-connections.js';

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

describe('stopping daemon with many silent peers', () => {
  it('names the first 20 IKE SAs whose Deletes went unanswered and counts them all, in one short record', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ikekm-stop-'));
    const ports = testPorts();
    const responder = await startDaemon(loadedConfig('a', ports, [{ name: 'lab' }]), join(dir, 'a.sock'), { level: 'info' });
    try {
      // 25 IKE SAs from a load generator that answers nothing once they are up (it has closed its socket).
      const initiator = loadedConfig('b', ports, [{ name: 'lab' }]).engine.connections[0]!;
      const load = await runLoad({ connection: initiator, registry: cryptoRegistry, count: 25, window: 2, timeoutMs: 10_000 });
      expect(load.established).toBe(25);
      await responder.daemon.stop({ graceMs: 300 });
      const records = responder.logs.lines().filter((l) => l.msg === 'stopping: peers did not answer every Delete in time');
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ ikeSas: 25 });
      const left = records[0]!.left as { connection: string; spiI: string }[];
      expect(left).toHaveLength(20);
      expect(left.every((sa) => sa.connection === 'lab' && /^[0-9a-f]{16}$/.test(sa.spiI))).toBe(true);
    } finally {
      await responder.daemon.stop({ graceMs: 0 });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
