/** What the control socket serves: the daemon implements it; the socket knows nothing of the engine. */
import type { Observable } from 'rxjs';
import type { PublicRecordEntry } from '../replay/record-entry.js';

export interface ControlHandler {
  up(name: string): Promise<unknown>;
  down(name: string): Promise<unknown>;
  rekey(name: string, options: { ike: boolean }): Promise<unknown>;
  /** Re-reads the configuration file; rejects with the diagnostics when it is bad. */
  reload(): Promise<unknown>;
  /** The status JSON (it reads the kernel's byte counters: asynchronous). */
  status(): Promise<unknown>;
  /**
   * The same status as JSON text, handed to `write` in pieces that make one JSON value together,
   * for a reply of many SAs: neither side holds the whole table as objects (at 100 000 SAs those
   * made the daemon's heap grow by half and collect it all). Used instead of status() when present.
   */
  writeStatus?(write: (text: string) => void): Promise<void>;
  readonly events$: Observable<unknown>;
  /**
   * The engine's journal from the moment of subscription: first the current state of each live
   * actor, then every input, datagram out and state change; completes when the daemon stops.
   * With `connection`, only what concerns its SAs; throws at once if there is no such connection.
   */
  journal$(options?: { connection?: string }): Observable<PublicRecordEntry>;
  /** Starts a record of the negotiations from now on to `file` (absolute; created 0600 by the daemon). */
  recordStart(file: string, options: { connection?: string }): Promise<unknown>;
  /** Stops it; what it holds. */
  recordStop(): Promise<unknown>;
}
