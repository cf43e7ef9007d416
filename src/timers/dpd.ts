/**
 * Dead peer detection, RFC 7296 2.4: when nothing has been heard from the peer for a while, an
 * endpoint sends an INFORMATIONAL request (possibly empty) as a liveness check; the ordinary
 * retransmission schedule (retransmit.ts) then decides when the peer is declared dead.
 */

/**
 * When the next liveness check is due: `intervalMs` after the peer was last heard from. Any
 * authenticated message from the peer moves `lastHeardMs`, so a busy SA never sends a check.
 */
export function dpdDue(lastHeardMs: number, intervalMs: number): number {
  if (!(intervalMs > 0 && Number.isFinite(intervalMs))) throw new RangeError(`DPD interval ${intervalMs} must be > 0`);
  return lastHeardMs + intervalMs;
}
