/**
 * `ikekm load`'s handshakes (LeanHandshake) driven over a Lab's in-memory network against its
 * side b, `window` at a time, on the Lab's virtual time: for the generator's tests and for
 * bench/responder.bench.ts (the engine's cost per responder handshake without sockets).
 */
import { pooledRandom } from '../../src/crypto/pooled-random.js';
import { cryptoRegistry } from '../../src/crypto/registry.js';
import type { ConnectionConfig } from '../../src/config/model.js';
import { LeanHandshake, type HandshakeStep, type LeanHandshakeShared } from '../../src/load/lean-handshake.js';
import type { Endpoint } from '../../src/ports.js';
import type { Lab } from '../engine/lab.js';

/** Where the generator stands: side a's address, a port of its own. */
export const GENERATOR: Endpoint = { address: '192.0.2.1', port: 600 };

/** The run's shared state for `connection` (the initiator's), sending from GENERATOR. */
export function generatorShared(connection: ConnectionConfig): LeanHandshakeShared {
  return {
    connection,
    registry: cryptoRegistry,
    random: pooledRandom(),
    local: GENERATOR,
    remote: { address: connection.remote.address, port: connection.remote.port },
    childSa: true,
    keyPairs: new Map(),
  };
}

/**
 * Runs `count` handshakes, `window` in flight (default all at once), for at most `maxMs` of virtual
 * time; resolves with each outcome, in the order they ended (fewer than `count` when time ran out).
 */
export async function runLabHandshakes(lab: Lab, shared: LeanHandshakeShared, count: number, window = count, maxMs = 60_000): Promise<HandshakeStep[]> {
  const outcomes: HandshakeStep[] = [];
  const inFlight = new Map<string, LeanHandshake>();
  let started = 0;
  const send = (bytes: Buffer): void => lab.network.port.send({ local: shared.local, remote: shared.remote, bytes });
  const startMore = (): void => {
    while (started < count && inFlight.size < window) {
      const handshake = new LeanHandshake(shared, shared.random(8));
      inFlight.set(handshake.spiI.toString('hex'), handshake);
      started++;
      send(handshake.firstRequest);
    }
  };
  lab.network.attach(shared.local, (d) => {
    const key = d.bytes.toString('hex', 0, 8);
    const handshake = inFlight.get(key);
    if (handshake === undefined) return;
    const step = handshake.receive(d.bytes);
    if (step.kind === 'send') return send(step.bytes);
    if (step.kind === 'ignored') return;
    inFlight.delete(key);
    outcomes.push(step);
    startMore();
  });
  startMore();
  await lab.runUntil(() => outcomes.length === count, maxMs);
  return outcomes;
}
