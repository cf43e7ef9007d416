/**
 * The IKE SAs of the table by connection name, as the supervisor's entries name it (an
 * initiator's from the start, a responder's once IKE_AUTH chose it). `ikekm up`, `down` and
 * `rekey`, the restart policy and each acquire look at one connection's SAs: without this index
 * each of them listed every SA of the table (100 000 road warriors for one connection's SA).
 * Updated in place by the supervisor, as its other tables are.
 */
export class SasByConnection {
  private readonly byName = new Map<string, Set<string>>();

  add(id: string, connection: string | undefined): void {
    if (connection === undefined) return;
    let ids = this.byName.get(connection);
    if (ids === undefined) {
      ids = new Set();
      this.byName.set(connection, ids);
    }
    ids.add(id);
  }

  delete(id: string, connection: string | undefined): void {
    if (connection === undefined) return;
    const ids = this.byName.get(connection);
    if (ids === undefined) return;
    ids.delete(id);
    if (ids.size === 0) this.byName.delete(connection);
  }

  /** The IKE SA ids of `connection`, in the order they came (a copy: the caller may change the index). */
  of(connection: string): string[] {
    const ids = this.byName.get(connection);
    return ids === undefined ? [] : [...ids];
  }

  clear(): void {
    this.byName.clear();
  }
}
