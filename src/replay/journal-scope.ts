/**
 * Which groups of a journal attached to a running engine are kept: for a record begun mid-run
 * (`ikekm record start [--connection]`), and for a journal watch of one connection (the control
 * socket's `"connection"`, `existing: 'follow'`: every SA of that connection, whatever its age).
 *
 * What a record begun on a running engine can hold (`ikekm record start`): the negotiations that
 * begin after it. A replay starts from an empty engine, so the SAs that already existed cannot
 * be replayed (their keys, Message IDs and windows are not in the record), nor any SA derived
 * from one of them (an IKE SA rekeyed from an old one takes its keys from the old SK_d,
 * RFC 7296 2.18). What stays: the IKE SAs created from then on (by `initiate`, or by a peer's
 * IKE_SA_INIT) and their Child SAs and rekeys, and what concerns no SA at all.
 *
 * The journal comes in groups: one `in`, then everything that followed from it before the next
 * `in` (engine-journal.ts). A group is kept or left out whole, never split, as its draws are not
 * attributable to one SA. Each group is judged by the IKE SAs it touches: the SPIs of the
 * datagrams in and out (an actor is `ike-<our SPI>`, and a datagram carries both SPIs), the
 * owner of a delivered event, the target of a command, the actors of its state entries.
 *
 * - It touches only old SAs: left out. An actor that appears in it (an IKE SA rekeyed from an
 *   old one) is old too.
 * - Otherwise (new SAs only, nothing, or both): kept. An actor that appears in it is new.
 * - Engine-wide commands (`reload`, `refuseNewSas`, `terminateAll`, `stop`, and `terminate` by
 *   connection) are kept whatever they touch: the replay needs the configuration and the refusal
 *   they set. Where one of them also acted on old SAs (Deletes to their peers), the replay has no
 *   such SA and reports the divergence there: the limit of a record begun mid-run.
 *
 * The old SAs are the actors the journal first states when it is attached (journaled-ports.ts:
 * each live actor's current value, before the first input); those first states are not kept.
 *
 * With `connection`, only that connection's new SAs are kept: a group that touches new SAs is
 * held until the connection of each is known (an initiator knows it from the `initiate`
 * command; a responder learns it at IKE_AUTH, which `connection.of` reads from the engine; an
 * SA rekeyed from a new one has its parent's), and left out when none of them is that
 * connection's (or the SA ended before it knew). Groups are written in the order they came: one
 * held group holds those behind it.
 *
 * Still not in the record, whatever is kept: the engine-wide state the old SAs left behind
 * (half-open counts, the COOKIE secret, the IKE_SA_INIT rate buckets). Under load these may make
 * the replay admit what the daemon challenged, or the reverse; the replay then says where.
 */
import type { JournalInput } from '../engine/engine-journal.js';
import type { RecordEntry } from './record-entry.js';

/** Where an IKE SA's connection stands, as the engine knows it now. */
export type ConnectionOfSa = { readonly known: string } | 'pending' | 'gone';

export interface JournalScopeOptions {
  /** The kept entries, in order (the record file's lines after its header, or a watch's stream). */
  readonly sink: (entry: RecordEntry) => void;
  /** Keep only this connection's new SAs; `of` tells an IKE SA's connection by its actor id. */
  readonly connection?: { readonly name: string; readonly of: (ikeSaId: string) => ConnectionOfSa };
  /**
   * What becomes of the SAs live when the journal was attached: left out with their lineage (a
   * record, the default), or followed as if they were new, their first states kept (a journal
   * watch of one connection, which then sees that connection's SAs whatever their age).
   */
  readonly existing?: 'leave-out' | 'follow';
}

/** The IKE SA an actor belongs to: `ike-<SPI>` of `ike-<SPI>` or `ike-<SPI>/child-<SPI>`. */
const ikeSaOf = (actor: string): string | undefined => (actor.startsWith('ike-') ? actor.split('/', 1)[0] : undefined);

/** An IKE header's SPIs as the actor ids they would be on our side (RFC 7296 3.1: SPIi, SPIr). */
function datagramSas(bytes: Uint8Array): string[] {
  if (bytes.length < 16) return [];
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return [`ike-${b.toString('hex', 0, 8)}`, `ike-${b.toString('hex', 8, 16)}`];
}

const WIDE_COMMANDS: ReadonlySet<string> = new Set(['reload', 'refuseNewSas', 'terminateAll', 'stop']);

function isWide(input: JournalInput): boolean {
  if (input.kind !== 'command') return false;
  const c = input.command;
  return WIDE_COMMANDS.has(c.name) || (c.name === 'terminate' && 'connection' in c.target);
}

interface Group {
  readonly entries: RecordEntry[];
  /** New IKE SAs it touches (its fresh ones included): what `connection` judges it by. */
  readonly newSas: string[];
  readonly wide: boolean;
}

export class JournalScope {
  /** IKE SAs that existed when the journal was attached, and those derived from them. */
  private readonly old = new Set<string>();
  /** IKE SAs created since. */
  private readonly fresh = new Set<string>();
  /** The connection of each new IKE SA, once known; null: it ended without one. */
  private readonly connectionOf = new Map<string, string | null>();
  /** The IKE SAs that existed at the start (the header names them). */
  private readonly atStart: string[] = [];
  /** The group being gathered: its input, and what followed; `judged` once flush() judged its start. */
  private group: { readonly input: Extract<RecordEntry, { t: 'in' }>; entries: RecordEntry[]; judged: boolean } | undefined;
  /** Kept groups waiting for the connection of their new SAs (with `connection`). */
  private readonly held: Group[] = [];
  private keptGroups = 0;
  private leftOutGroups = 0;

  constructor(private readonly options: JournalScopeOptions) {}

  /** The IKE SAs that were live when the journal was attached: none of their groups is kept. */
  get existing(): readonly string[] {
    return this.atStart;
  }

  get counts(): { readonly kept: number; readonly leftOut: number; readonly held: number } {
    return { kept: this.keptGroups, leftOut: this.leftOutGroups, held: this.held.length };
  }

  push(entry: RecordEntry): void {
    if (entry.t === 'header') return;
    if (entry.t === 'in') {
      this.judgeGroup();
      this.group = { input: entry, entries: [], judged: false };
      return;
    }
    if (this.group !== undefined) {
      this.group.entries.push(entry);
      return;
    }
    // Before the first input: the journal tells where each live actor stands (the old SAs).
    const sa = entry.t === 'state' ? ikeSaOf(entry.actor) : undefined;
    if (sa === undefined) return;
    if (this.options.existing === 'follow') {
      this.fresh.add(sa);
      this.held.push({ entries: [entry], newSas: [sa], wide: false });
      this.release(false);
      return;
    }
    if (!this.old.has(sa)) {
      this.old.add(sa);
      this.atStart.push(sa);
    }
  }

  /**
   * Judges the group gathered so far without waiting for the next input (a live watch: what an
   * input sets off happens in its turn of the event loop, and a quiet daemon would hold its last
   * group back). Whatever still comes before the next input is judged as the same input's.
   */
  flush(): void {
    this.judgeGroup();
  }

  /** No more entries: judges the last group, and decides what is still held with what is known now. */
  end(): void {
    this.judgeGroup();
    this.group = undefined;
    this.release(true);
  }

  private judgeGroup(): void {
    const group = this.group;
    if (group === undefined || (group.judged && group.entries.length === 0)) return;
    this.judge(group.input, group.entries, !group.judged);
    group.judged = true;
    group.entries = [];
  }

  /** Judges an input and what followed it (`entries`); `withInput`: the `in` entry is kept too, if they are. */
  private judge(inEntry: Extract<RecordEntry, { t: 'in' }>, entries: RecordEntry[], withInput: boolean): void {
    const input = inEntry.input;
    const touched = new Set<string>();
    const appeared: string[] = [];
    const touch = (sa: string | undefined): void => {
      if (sa === undefined) return;
      if (this.old.has(sa) || this.fresh.has(sa)) touched.add(sa);
    };
    if (input.kind === 'datagram') datagramSas(input.datagram.bytes).forEach(touch);
    else if (input.kind === 'deliver') touch(ikeSaOf(input.owner));
    else if ('id' in input.command && typeof input.command.id === 'string') touch(ikeSaOf(input.command.id));
    else if (input.command.name === 'terminate' && 'id' in input.command.target) touch(ikeSaOf(input.command.target.id));
    for (const e of entries) {
      if (e.t === 'out') datagramSas(e.datagram.bytes).forEach(touch);
      if (e.t !== 'state') continue;
      const sa = ikeSaOf(e.actor);
      if (sa === undefined) continue;
      if (this.old.has(sa) || this.fresh.has(sa)) touched.add(sa);
      else if (!appeared.includes(sa)) appeared.push(sa);
    }
    const touchesOld = [...touched].some((sa) => this.old.has(sa));
    const touchesNew = [...touched].some((sa) => this.fresh.has(sa));
    const wide = isWide(input);
    if (touchesOld && !touchesNew && !wide) {
      for (const sa of appeared) this.old.add(sa);
      this.leftOutGroups++;
      return;
    }
    // What appears here is new: made by an initiate, a peer's IKE_SA_INIT, or a new SA's rekey
    // (which has its parent's connection).
    const parent = [...touched].find((sa) => this.fresh.has(sa));
    for (const sa of appeared) {
      this.fresh.add(sa);
      if (input.kind === 'command' && input.command.name === 'initiate') this.connectionOf.set(sa, input.command.connection);
      else if (parent !== undefined && this.connectionOf.has(parent)) this.connectionOf.set(sa, this.connectionOf.get(parent)!);
    }
    const newSas = [...touched].filter((sa) => this.fresh.has(sa)).concat(appeared);
    this.held.push({ entries: withInput ? [inEntry, ...entries] : entries, newSas, wide });
    this.release(false);
  }

  /** Writes or leaves out the held groups, in order, as far as their SAs' connections are known. */
  private release(final: boolean): void {
    while (this.held.length > 0) {
      const group = this.held[0]!;
      const keep = this.wanted(group, final);
      if (keep === undefined) return;
      this.held.shift();
      if (!keep) {
        this.leftOutGroups++;
        continue;
      }
      this.keptGroups++;
      for (const e of group.entries) this.options.sink(e);
    }
  }

  /** Whether a group is kept; undefined while a connection it depends on is not known yet. */
  private wanted(group: Group, final: boolean): boolean | undefined {
    const filter = this.options.connection;
    if (filter === undefined || group.wide || group.newSas.length === 0) return true;
    let pending = false;
    for (const sa of group.newSas) {
      let name = this.connectionOf.get(sa);
      if (name === undefined) {
        const now = filter.of(sa);
        if (typeof now === 'object') name = now.known;
        else if (now === 'gone' || final) name = null;
        if (name !== undefined) this.connectionOf.set(sa, name);
      }
      if (name === filter.name) return true;
      if (name === undefined) pending = true;
    }
    return pending ? undefined : false;
  }
}
