/**
 * Keeps NAT-keepalives (RFC 3948 2.3) running exactly for the peers of established IKE SAs behind
 * whose NAT we are (the engine's status says so, RFC 7296 2.23): called after every SA event,
 * it starts what is missing and stops what is no longer needed.
 */
import type { IkeSaStatus } from '../engine/ike-engine.js';
import type { Endpoint } from '../ports.js';
import type { NatKeepalive } from '../transport/nat-keepalive.js';
import { ikeStateName, parseEndpoint } from './status-snapshot.js';

const keyOf = (e: Endpoint): string => `${e.address}|${e.port}`;

export function syncNatKeepalives(keepalive: NatKeepalive, status: readonly IkeSaStatus[]): void {
  const wanted = new Map<string, { remote: Endpoint; local: Endpoint }>();
  for (const sa of status) {
    if (!sa.nat.localBehindNat || ikeStateName(sa.state) !== 'ESTABLISHED') continue;
    const remote = parseEndpoint(sa.remote);
    // Behind a NAT the IKE SA has moved to the NAT-T port on both sides: keepalives go from there.
    wanted.set(keyOf(remote), { remote, local: parseEndpoint(sa.local) });
  }
  const active = new Set(keepalive.active().map(keyOf));
  for (const [key, { remote, local }] of wanted) if (!active.has(key)) keepalive.start(remote, local);
  for (const remote of keepalive.active()) if (!wanted.has(keyOf(remote))) keepalive.stop(remote);
}
