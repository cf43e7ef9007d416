/**
 * Keeps NAT-keepalives (RFC 3948 2.3) running exactly for the peers of established IKE SAs behind
 * whose NAT we are (RFC 7296 2.23), from the SA events alone: an `ike-sa-up` of such an SA names
 * the endpoints, its `ike-sa-down` ends it. Each event costs the same whatever the number of SAs
 * (no status of every SA is read): a peer's keepalives start with its first such SA and stop with
 * its last, a rekey's new SA coming up before the old one goes down.
 */
import type { SaEvent } from '../engine/engine-ports.js';
import type { Endpoint } from '../ports.js';

/** What the daemon's NatKeepalive offers (src/transport/nat-keepalive.ts). */
export interface KeepaliveControl {
  start(remote: Endpoint, local: Endpoint): void;
  stop(remote: Endpoint): void;
}

const keyOf = (e: Endpoint): string => `${e.address}|${e.port}`;

export class NatKeepaliveSync {
  /** IKE SA id → the remote endpoint it keeps a mapping open to. */
  private readonly sas = new Map<string, string>();
  /** Remote endpoint → how many established IKE SAs need its keepalives. */
  private readonly peers = new Map<string, { readonly remote: Endpoint; count: number }>();

  constructor(private readonly keepalive: KeepaliveControl) {}

  onSaEvent(event: SaEvent): void {
    if (event.kind === 'ike-sa-up' && event.natKeepalive !== undefined) this.up(event.id, event.natKeepalive);
    else if (event.kind === 'ike-sa-down') this.down(event.id);
  }

  /** IKE SAs that keep a peer's keepalives running now. */
  get size(): number {
    return this.sas.size;
  }

  private up(id: string, endpoints: { readonly local: Endpoint; readonly remote: Endpoint }): void {
    if (this.sas.has(id)) return;
    const key = keyOf(endpoints.remote);
    this.sas.set(id, key);
    const peer = this.peers.get(key);
    if (peer !== undefined) {
      peer.count++;
      return;
    }
    this.peers.set(key, { remote: endpoints.remote, count: 1 });
    this.keepalive.start(endpoints.remote, endpoints.local);
  }

  private down(id: string): void {
    const key = this.sas.get(id);
    if (key === undefined) return;
    this.sas.delete(id);
    const peer = this.peers.get(key)!;
    if (--peer.count > 0) return;
    this.peers.delete(key);
    this.keepalive.stop(peer.remote);
  }
}
