import { VirtualAction, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../src/ports.js';
import { DEFAULT_NAT_KEEPALIVE_INTERVAL_MS, NatKeepalive } from '../../src/transport/nat-keepalive.js';
import { NATT_KEEPALIVE } from '../../src/wire/natt.js';

const LOCAL: Endpoint = { address: '192.0.2.2', port: 4500 };
const PEER_A: Endpoint = { address: '198.51.100.1', port: 4500 };
const PEER_B: Endpoint = { address: '2001:db8::1', port: 61000 };

function setup(intervalMs?: number) {
  const scheduler = new VirtualTimeScheduler(VirtualAction, 0);
  const sent: { at: number; local: Endpoint; remote: Endpoint; bytes: Buffer }[] = [];
  const keepalive = new NatKeepalive({
    scheduler,
    send: (local, remote, bytes) => sent.push({ at: scheduler.now(), local, remote, bytes }),
    ...(intervalMs === undefined ? {} : { intervalMs }),
  });
  /**
   * Runs virtual time up to `ms` (inclusive). VirtualTimeScheduler leaves its clock at the last
   * action it ran, so move it on to `ms` for what is scheduled next.
   */
  const runUntil = (ms: number): void => {
    scheduler.maxFrames = ms;
    scheduler.flush();
    scheduler.frame = ms;
  };
  return { scheduler, sent, keepalive, runUntil };
}

describe('NatKeepalive (RFC 3948 2.3)', () => {
  it('sends one 0xFF octet from the NAT-T endpoint every 20 s by default', () => {
    const { sent, keepalive, runUntil } = setup();
    expect(DEFAULT_NAT_KEEPALIVE_INTERVAL_MS).toBe(20_000);
    keepalive.start(PEER_A, LOCAL);
    runUntil(19_999);
    expect(sent).toEqual([]);
    runUntil(60_000);
    expect(sent.map((s) => s.at)).toEqual([20_000, 40_000, 60_000]);
    for (const s of sent) {
      expect(s.bytes.equals(NATT_KEEPALIVE)).toBe(true);
      expect(s.local).toEqual(LOCAL);
      expect(s.remote).toEqual(PEER_A);
    }
  });

  it('keeps one timer per peer; stop ends only that one', () => {
    const { sent, keepalive, runUntil } = setup(10_000);
    keepalive.start(PEER_A, LOCAL);
    keepalive.start(PEER_B, { address: '2001:db8::2', port: 4500 });
    expect(keepalive.active()).toEqual([PEER_A, PEER_B]);
    runUntil(10_000);
    keepalive.stop(PEER_A);
    runUntil(30_000);
    expect(sent.filter((s) => s.remote.address === PEER_A.address).map((s) => s.at)).toEqual([10_000]);
    expect(sent.filter((s) => s.remote.address === PEER_B.address).map((s) => s.at)).toEqual([10_000, 20_000, 30_000]);
    expect(keepalive.active()).toEqual([PEER_B]);
    keepalive.stopAll();
    runUntil(100_000);
    expect(sent).toHaveLength(4);
    expect(keepalive.active()).toEqual([]);
  });

  it('restarting for a peer replaces its timer (new local endpoint, new phase)', () => {
    const { sent, keepalive, runUntil } = setup(10_000);
    keepalive.start(PEER_A, LOCAL);
    runUntil(5_000);
    const moved = { address: '192.0.2.3', port: 4500 };
    keepalive.start(PEER_A, moved);
    runUntil(25_000);
    expect(sent.map((s) => [s.at, s.local.address])).toEqual([
      [15_000, '192.0.2.3'],
      [25_000, '192.0.2.3'],
    ]);
  });

  it('goes on after a send that throws, reporting it', () => {
    const scheduler = new VirtualTimeScheduler(VirtualAction, 0);
    const errors: unknown[] = [];
    let calls = 0;
    const keepalive = new NatKeepalive({
      scheduler,
      intervalMs: 1000,
      send: () => {
        calls++;
        throw new Error('boom');
      },
      onError: (error) => errors.push(error),
    });
    keepalive.start(PEER_A, LOCAL);
    scheduler.maxFrames = 3000;
    scheduler.flush();
    expect(calls).toBe(3);
    expect(errors).toHaveLength(3);
  });

  it('refuses a non-positive interval', () => {
    expect(() => setup(0)).toThrow(RangeError);
  });
});
