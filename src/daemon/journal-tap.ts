/**
 * The engine's journal (src/engine/engine-journal.ts) for whoever follows it while the daemon
 * runs: `ikekm watch` over the control socket, a record started on a running daemon. Each
 * follower is attached to the engine on its own (engine.attachJournal: the engine fans out to
 * all of them, and seeds each with the current state of every live actor when it joins) and
 * detached when it leaves, so while nobody follows the engine journals nothing and XState
 * inspects nothing.
 *
 * What a follower gets are record entries (src/replay/record-entry.ts), as a record file has
 * them. A follower outside the daemon (the control socket) gets only `in`, `out` and `state`:
 * the random draws are the DH private values and nonces, and the load readings are no one
 * else's business; only a follower that writes a record (0600, like `--record`) gets them.
 *
 * The entries are handed over inside the machines' steps: a follower that throws is detached
 * and ended with the reason, and the engine goes on.
 */
import type { IkeEngine } from '../engine/ike-engine.js';
import type { EngineJournal, JournalInput } from '../engine/engine-journal.js';
import type { Datagram } from '../ports.js';
import type { PublicRecordEntry, RecordEntry } from '../replay/record-entry.js';

export interface JournalFollower<E extends RecordEntry> {
  entry(entry: E): void;
  /** The tap ended this follower: the daemon stops, or the follower threw (`reason`). */
  end(reason?: string): void;
}

export class JournalTap {
  /** Every follower's detach-and-end, for close(). */
  private readonly ends = new Set<(reason?: string) => void>();

  constructor(private readonly engine: Pick<IkeEngine, 'attachJournal'>) {}

  /** Followers now (each one is an engine attachment). */
  get followers(): number {
    return this.ends.size;
  }

  /** Follows the journal from now on without the secret entries (draws, loads); returns stop. */
  followPublic(follower: JournalFollower<PublicRecordEntry>): () => void {
    return this.attach(follower, false);
  }

  /** Follows everything, secret draws included: only for a record the daemon writes (0600). */
  followWithSecrets(follower: JournalFollower<RecordEntry>): () => void {
    return this.attach(follower as JournalFollower<RecordEntry>, true);
  }

  /** Ends every follower (the daemon stops). */
  close(reason?: string): void {
    for (const end of [...this.ends]) end(reason);
  }

  private attach(follower: JournalFollower<RecordEntry>, secrets: boolean): () => void {
    let following = true;
    let detach = (): void => undefined;
    const stop = (): void => {
      if (!following) return;
      following = false;
      this.ends.delete(end);
      detach();
    };
    const end = (reason?: string): void => {
      if (!following) return;
      stop();
      follower.end(reason);
    };
    const give = (entry: RecordEntry): void => {
      if (!following) return;
      try {
        follower.entry(entry);
      } catch (error) {
        end(`the follower failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    const journal: EngineJournal = {
      input: (at: number, input: JournalInput) => give({ t: 'in', at, input }),
      draw: secrets ? (bytes) => give({ t: 'draw', bytes }) : () => undefined,
      load: secrets ? (value) => give({ t: 'load', value }) : () => undefined,
      output: (datagram: Datagram) => give({ t: 'out', datagram }),
      state: (actor, value) => give({ t: 'state', actor, value }),
    };
    this.ends.add(end);
    detach = this.engine.attachJournal(journal);
    // It may have failed on a seed already.
    if (!following) detach();
    return stop;
  }
}
