/**
 * The established IKE SAs by connection and authenticated peer, for INITIAL_CONTACT (RFC 7296
 * 2.4: the peer has no other IKE SA with us, so ours with it are stale). Without it each
 * INITIAL_CONTACT scanned every IKE SA of the table: at 100 000 peers each bringing its first
 * IKE SA up with one, that is 10^10 steps for a day's start. Updated in place by the supervisor,
 * as its other tables are.
 */
export class EstablishedPeers {
  private readonly byPeer = new Map<string, Set<string>>();

  private static key(connection: string | undefined, peerId: string | undefined): string {
    // As the scan compared them: undefined equals only undefined, never an empty text.
    return JSON.stringify([connection ?? null, peerId ?? null]);
  }

  add(id: string, connection: string | undefined, peerId: string | undefined): void {
    const key = EstablishedPeers.key(connection, peerId);
    let ids = this.byPeer.get(key);
    if (ids === undefined) {
      ids = new Set();
      this.byPeer.set(key, ids);
    }
    ids.add(id);
  }

  delete(id: string, connection: string | undefined, peerId: string | undefined): void {
    const key = EstablishedPeers.key(connection, peerId);
    const ids = this.byPeer.get(key);
    if (ids === undefined) return;
    ids.delete(id);
    if (ids.size === 0) this.byPeer.delete(key);
  }

  /** The established IKE SAs of this connection with this peer (a copy: the caller may change the index). */
  of(connection: string | undefined, peerId: string | undefined): string[] {
    return [...(this.byPeer.get(EstablishedPeers.key(connection, peerId)) ?? [])];
  }

  clear(): void {
    this.byPeer.clear();
  }
}
