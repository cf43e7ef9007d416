/**
 * The restart policy (connection-keeper.ts) on two real engines in virtual time (test/engine/lab.ts):
 * an on-load connection comes back after its peer restarted (DPD finds it dead, RFC 7296 2.4),
 * after the peer's Delete (1.4.1) and after failed attempts (with growing waits); never after the
 * user ended it, and never with two attempts at once.
 */
import { describe, expect, it } from 'vitest';
import type { ConnectionConfig } from '../../src/config/model.js';
import { ConnectionKeeper, DEFAULT_RESTART_BACKOFF } from '../../src/daemon/connection-keeper.js';
import type { SaEvent } from '../../src/engine/engine-ports.js';
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
      status: () => lab.a.engine.status(),
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
});
