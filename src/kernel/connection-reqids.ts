/**
 * The kernel reqid of each connection: what ties its Child SAs' ESP SAs to their policies, and a
 * trap to the Child SA it brings up (as strongSwan's reqids do). Assigned in the order connections
 * are first seen (configuration order at start), stable across reloads, never reused; one table
 * serves the engine and the daemon's traps, so they always agree. Numbers come from ikekm's own
 * range (kernel-port.ts IKEKM_REQIDS).
 */
import { IKEKM_REQIDS } from './kernel-port.js';

export class ConnectionReqids {
  private readonly byName = new Map<string, number>();

  /** The reqid of connection `name`, assigned now if it has none yet. */
  of(name: string): number {
    let reqid = this.byName.get(name);
    if (reqid === undefined) {
      reqid = IKEKM_REQIDS.first + this.byName.size;
      if (reqid > IKEKM_REQIDS.last) throw new RangeError(`more than ${IKEKM_REQIDS.last - IKEKM_REQIDS.first + 1} connections: no reqid left`);
      this.byName.set(name, reqid);
    }
    return reqid;
  }
}
