/**
 * The restart policy (connection-keeper.ts) on two real engines in virtual time (test/engine/lab.ts):
 * an on-load connection comes back after its peer restarted (DPD finds it dead, RFC 7296 2.4),
 * after the peer's Delete (1.4.1) and after failed attempts (with growing waits); never after the
 * user ended it, and never with two attempts at once. The peer's INVALID_IKE_SPI (2.21.4) starts
 * a liveness check at once, which finds a restarted peer dead without waiting for DPD.
 */
import { describe, expect, it } from 'vitest';
import type { ConnectionConfig } from '../../src/config/model.js';
import { ConnectionKeeper, DEFAULT_RESTART_BACKOFF } from '../../src/daemon/connection-keeper.js';
import type { SaEvent } from '../../src/engine/engine-ports.js';
import { encodeMessage, ExchangeType, NotifyType, notifyPayload } from '../../src/wire/index.js';
import { connectionPair, seededRandom, type PairOptions } from '../engine/fixtures.js';
import { capturingLog, Lab, type LogRecord } from '../engine/lab.js';

const DPD = { intervalSeconds: 30, timeoutSeconds: 60 };
/** Gives up on an unanswered request after 1 + 2 + 4 s (RFC 7296 2.1 schedule, shortened). */
const QUICK_RETRANSMIT = { initialMs: 1000, factor: 2, tries: 2 };

interface KeptLab {
  readonly lab: Lab;
  readonly keeper: ConnectionKeeper;
  /** Virtual times at which the keeper initiated (its attempts). */
  readonly attempts: number[];
  readonly logs: LogRecord[];
  readonly connection: ConnectionConfig;
}

/** A (on-load, kept by a ConnectionKeeper) initiates to B (listen). */
function keptLab(options: { pair?: PairOptions; connection?: Partial<ConnectionConfig> } = {}): KeptLab {
  const pair = connectionPair({ dpd: DPD, ...options.pair });
  const connection: ConnectionConfig = { ...pair.a, start: 'on-load', ...options.connection };
  let keeper: ConnectionKeeper | undefined;
  const lab = new Lab({ connections: { a: [connection], b: [pair.b] }, onEvent: (side, event) => (side === 'a' ? keeper?.onSaEvent(event) : undefined) });
  const attempts: number[] = [];
  const logs: LogRecord[] = [];
  keeper = new ConnectionKeeper({
    engine: {
      initiate: (name, o) => {
        attempts.push(lab.scheduler.now());
        return lab.a.engine.initiate(name, o);
      },
      statusOfConnection: (name) => lab.a.engine.statusOfConnection(name),
      statusOf: (id) => lab.a.engine.statusOf(id),
    },
    connection: (name) => (name === connection.name ? connection : undefined),
    scheduler: lab.scheduler,
    random: seededRandom('keeper'),
    log: capturingLog(logs),
  });
  return { lab, keeper, attempts, logs, connection };
}

const establishedId = (lab: Lab): string | undefined =>
  lab.a.engine.status().find((s) => s.state === 'established' && s.children.some((c) => c.state === 'installed'))?.id;

const downs = (events: readonly SaEvent[]) => events.filter((e): e is Extract<SaEvent, { kind: 'ike-sa-down' }> => e.kind === 'ike-sa-down');

describe('restart policy (dpdAction restart, closeAction start)', () => {
  it('re-initiates once DPD finds the restarted peer dead, with one attempt and no storm', async () => {
    const { lab, keeper, attempts } = keptLab();
    keeper.start('lab');
    expect(await lab.runUntil(() => establishedId(lab) !== undefined, 30_000)).toBe(true);
    const first = establishedId(lab);
    // The peer crashes and comes back with nothing: our SA is stale, it answers nothing on it.
    lab.restart('b');
    // DPD: 30 s of silence, then a liveness check unanswered for its 60 s timeout.
    expect(await lab.runUntil(() => establishedId(lab) !== undefined && establishedId(lab) !== first, 30_000 + 60_000 + 30_000)).toBe(true);
    expect(downs(lab.a.events)).toMatchObject([{ id: first, cause: 'peer-dead' }]);
    expect(attempts).toHaveLength(2);
    expect(lab.b.engine.status().filter((s) => s.state === 'established')).toHaveLength(1);
    // Up again and kept: ten quiet minutes bring no further attempt.
    await lab.run(600_000);
    expect(attempts).toHaveLength(2);
    expect(keeper.status()).toEqual([]);
  });

  it("re-initiates at once after the peer's Delete (closeAction start)", async () => {
    const { lab, keeper, attempts } = keptLab();
    keeper.start('lab');
    expect(await lab.runUntil(() => establishedId(lab) !== undefined, 30_000)).toBe(true);
    const first = establishedId(lab);
    await lab.run(60_000);
    lab.b.engine.terminate({ connection: 'lab' }, 'swanctl --terminate');
    expect(await lab.runUntil(() => establishedId(lab) !== undefined && establishedId(lab) !== first, 10_000)).toBe(true);
    expect(downs(lab.a.events)).toMatchObject([{ id: first, cause: 'peer-deleted', reason: 'deleted by the peer' }]);
    expect(attempts).toHaveLength(2);
  });

  it('leaves the connection down with dpdAction clear and closeAction none', async () => {
    const { lab, keeper, attempts } = keptLab({ connection: { dpdAction: 'clear', closeAction: 'none' } });
    keeper.start('lab');
    expect(await lab.runUntil(() => establishedId(lab) !== undefined, 30_000)).toBe(true);
    lab.b.engine.terminate({ connection: 'lab' }, 'swanctl --terminate');
    await lab.run(600_000);
    expect(attempts).toHaveLength(1);
    expect(establishedId(lab)).toBeUndefined();
  });

  it('does not re-initiate what the user ended (ikekm down releases the connection)', async () => {
    const { lab, keeper, attempts } = keptLab();
    keeper.start('lab');
    expect(await lab.runUntil(() => establishedId(lab) !== undefined, 30_000)).toBe(true);
    keeper.release('lab', 'ikekm down');
    lab.a.engine.terminate({ connection: 'lab' }, 'ikekm down');
    await lab.run(600_000);
    expect(downs(lab.a.events)).toMatchObject([{ cause: 'local' }]);
    expect(attempts).toHaveLength(1);
    expect(lab.a.engine.status()).toEqual([]);
  });

  it('retries failed attempts with waits doubling from 5 s to 5 min, then resets once up', async () => {
    const { lab, keeper, attempts } = keptLab({ pair: { retransmit: QUICK_RETRANSMIT } });
    // The peer is unreachable: every IKE_SA_INIT goes unanswered (1 + 2 + 4 s, then given up).
    lab.network.filter = () => false;
    keeper.start('lab');
    await lab.run(40 * 60_000);
    const giveUpMs = 7_000;
    const waits = attempts.slice(1).map((at, i) => at - (attempts[i] ?? 0) - giveUpMs);
    const { initialMs, maxMs, jitter } = DEFAULT_RESTART_BACKOFF;
    expect(waits.length).toBeGreaterThanOrEqual(9);
    waits.forEach((wait, i) => {
      const full = Math.min(maxMs, initialMs * 2 ** i);
      expect(wait).toBeGreaterThanOrEqual(Math.floor(full * (1 - jitter)));
      expect(wait).toBeLessThanOrEqual(full);
    });
    // Never two attempts at once: each began after the previous one had failed.
    const failed = lab.a.events.filter((e) => e.kind === 'ike-sa-failed');
    expect(failed.length).toBeGreaterThanOrEqual(attempts.length - 1);
    attempts.slice(1).forEach((at, i) => expect(at).toBeGreaterThan(failed[i]?.atMs ?? Infinity));
    expect(keeper.status()).toMatchObject([{ connection: 'lab', failures: failed.length }]);

    // The peer is back: the next attempt succeeds and the backoff starts over.
    lab.network.filter = undefined;
    expect(await lab.runUntil(() => establishedId(lab) !== undefined, maxMs + 10_000)).toBe(true);
    expect(keeper.status()).toEqual([]);
    const before = attempts.length;
    lab.b.engine.terminate({ connection: 'lab' }, 'swanctl --terminate');
    expect(await lab.runUntil(() => attempts.length > before, 10_000)).toBe(true);
  });

  describe("the peer's INVALID_IKE_SPI (RFC 7296 2.21.4)", () => {
    /** What a peer that lost the IKE SA answers (unprotected, our SPIs, its side's I flag, R set). */
    const invalidIkeSpi = (lab: Lab, messageId: number) => {
      const sa = lab.a.engine.status()[0]!;
      const bytes = encodeMessage({
        header: {
          spiI: Buffer.from(sa.spiI, 'hex'),
          spiR: Buffer.from(sa.spiR, 'hex'),
          majorVersion: 2,
          minorVersion: 0,
          exchangeType: ExchangeType.INFORMATIONAL,
          flags: { initiator: false, version: false, response: true },
          messageId,
        },
        payloads: [notifyPayload({ name: 'other', notifyType: NotifyType.INVALID_IKE_SPI, protocolId: 0, spi: Buffer.alloc(0), data: Buffer.alloc(0) })],
      });
      lab.a.engine.receive({ local: { address: lab.a.address, port: 500 }, remote: { address: lab.b.address, port: 500 }, bytes });
    };

    it('starts a liveness check at once: a restarted peer is found dead in one retransmission schedule (no DPD configured), then restarted', async () => {
      const { lab, keeper, attempts } = keptLab({ pair: { dpd: undefined, retransmit: QUICK_RETRANSMIT } });
      keeper.start('lab');
      expect(await lab.runUntil(() => establishedId(lab) !== undefined, 30_000)).toBe(true);
      const first = establishedId(lab);
      lab.restart('b');
      await lab.run(60_000);
      invalidIkeSpi(lab, 0);
      // 1 + 2 + 4 s of retransmissions, then the restart policy.
      expect(await lab.runUntil(() => establishedId(lab) !== undefined && establishedId(lab) !== first, 7_000 + 5_000)).toBe(true);
      expect(downs(lab.a.events)).toMatchObject([{ id: first, cause: 'peer-dead', reason: 'peer not responding (liveness unanswered)' }]);
      expect(attempts).toHaveLength(2);
    });

    it('changes nothing by itself (it may be forged): a live peer answers the check and the SA stays', async () => {
      const { lab, keeper, attempts } = keptLab({ pair: { dpd: undefined, retransmit: QUICK_RETRANSMIT } });
      keeper.start('lab');
      expect(await lab.runUntil(() => establishedId(lab) !== undefined, 30_000)).toBe(true);
      const first = establishedId(lab);
      const sent = lab.network.stats.sent;
      invalidIkeSpi(lab, 0);
      await lab.run(60_000);
      expect(establishedId(lab)).toBe(first);
      expect(downs(lab.a.events)).toEqual([]);
      expect(attempts).toHaveLength(1);
      // The check and its answer went (and nothing answered the hint itself).
      expect(lab.network.stats.sent - sent).toBe(2);
      expect(lab.a.logs.some((r) => r.message.includes('checking its liveness now'))).toBe(true);
    });
  });
});
