/**
 * Bytes an SA keeps for its whole life (SPIs, keys, nonces, the cached last response), in memory
 * of their own. Node hands out small Buffers (`Buffer.from`, `Buffer.concat`, `allocUnsafe`,
 * under 4 KiB) as slices of a shared 8 KiB pool slab, and one live slice keeps its whole slab
 * alive: 32 octets of a key kept 8 KiB, and with each SA's values allocated between other
 * handshakes' short-lived ones, 2 000 responder SAs held 12 000 slabs, 8 KiB of Buffer memory
 * per SA for ~500 octets of values. A copy here is its own small allocation.
 */

/** A copy of `bytes` outside Node's Buffer pool. */
export function unpooledCopy(bytes: Uint8Array): Buffer {
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  copy.set(bytes);
  return copy;
}

/**
 * The one zero-length Buffer the kept values share (an AEAD's integrity keys, keys wiped after
 * use): a view of nothing still costs a Buffer object, about a hundred bytes per SA each.
 */
export const NO_OCTETS: Buffer = Buffer.alloc(0);

/**
 * `parts` copied, in order, into one allocation outside the pool, and returned as views of it
 * (NO_OCTETS for an empty part): values that live and die together cost one allocation. Views
 * do not overlap, so zeroing one (`fill(0)`) touches no other.
 */
export function unpooledViews(parts: readonly Uint8Array[]): Buffer[] {
  let total = 0;
  for (const p of parts) total += p.length;
  const block = Buffer.allocUnsafeSlow(total);
  const views: Buffer[] = [];
  let offset = 0;
  for (const p of parts) {
    block.set(p, offset);
    views.push(p.length === 0 ? NO_OCTETS : block.subarray(offset, offset + p.length));
    offset += p.length;
  }
  return views;
}
