/**
 * A record: what one engine's machines took and sent (src/engine/engine-journal.ts), one entry
 * per line of JSON in a file. Buffers are written as `{ "hex": "…" }`, so every entry survives
 * JSON both ways. The first entry is the header.
 *
 *   header   format, version, the ikekm version that wrote it, what the replay must set alike
 *   in       an input and the clock's time when it came (datagram, deliver, command)
 *   draw     a random draw
 *   load     a reading of the load
 *   out      a datagram sent
 *   state    an IKE SA or Child SA actor's new state value
 *
 * Everything between two `in` entries followed from the first of them.
 */
import type { EngineConfig } from '../config/model.js';
import type { JournalInput } from '../engine/engine-journal.js';
import type { Datagram } from '../ports.js';
import { jsonView } from './json-view.js';

export const RECORD_FORMAT = 'ikekm-record';
export const RECORD_VERSION = 1;

export interface RecordHeader {
  readonly t: 'header';
  readonly format: typeof RECORD_FORMAT;
  readonly version: number;
  /** The ikekm version that wrote it (package.json). */
  readonly ikekm: string;
  /** The kernel enforced byte lifetimes (XFRM): the Child SA machines then do not poll. */
  readonly kernelEnforcesByteLimits: boolean;
  /** The configuration the engine started with. */
  readonly config: EngineConfig;
  /** Made by `ikekm record redact`: secret draws withheld, the replay ends at the first use of one. */
  readonly redacted?: true;
  /**
   * Begun on a running engine (`ikekm record start`), not from its start: it holds the SAs
   * created from then on (journal-scope.ts). `config` is the configuration of that moment. An
   * optional field: records without it read as before, so the format version stays 1.
   */
  readonly midRun?: MidRunScope;
}

export interface MidRunScope {
  /** The engine's clock when it began. */
  readonly startedAtMs: number;
  /** The IKE SAs (actor ids) live then, left out with every SA rekeyed from them. */
  readonly existingIkeSas: readonly string[];
  /** Only this connection's new SAs are in it. */
  readonly connection?: string;
}

export type RecordEntry =
  | RecordHeader
  | { readonly t: 'in'; readonly at: number; readonly input: JournalInput }
  /** `withheld`: a redacted record's draw whose octets were secret; zeros stand in for them. */
  | { readonly t: 'draw'; readonly bytes: Buffer; readonly withheld?: true }
  | { readonly t: 'load'; readonly value: number }
  | { readonly t: 'out'; readonly datagram: Datagram }
  | { readonly t: 'state'; readonly actor: string; readonly value: unknown };

/**
 * The entries that may leave the daemon (a journal watch on the control socket): what came in,
 * what went out, the actors' states. Not the draws (DH private values, nonces) nor the loads.
 */
export type PublicRecordEntry = Extract<RecordEntry, { t: 'in' | 'out' | 'state' }>;

export const isPublicRecordEntry = (entry: RecordEntry): entry is PublicRecordEntry => entry.t === 'in' || entry.t === 'out' || entry.t === 'state';

/** One entry as a line of JSON (no newline): Buffers as `{ "hex": … }`. */
export function encodeRecordLine(entry: RecordEntry): string {
  // The entries a negotiation makes by the dozen, written directly (the same JSON, a fifth of
  // the time of the generic walk); the rest through it.
  switch (entry.t) {
    case 'draw':
      return entry.withheld === true ? JSON.stringify(jsonView(entry)) : `{"t":"draw","bytes":{"hex":"${entry.bytes.toString('hex')}"}}`;
    case 'load':
      return `{"t":"load","value":${JSON.stringify(entry.value)}}`;
    case 'out':
      return `{"t":"out","datagram":${datagramJson(entry.datagram)}}`;
    case 'in':
      if (entry.input.kind === 'datagram') return `{"t":"in","at":${JSON.stringify(entry.at)},"input":{"kind":"datagram","datagram":${datagramJson(entry.input.datagram)}}}`;
      return JSON.stringify(jsonView(entry));
    case 'state':
    case 'header':
      return JSON.stringify(jsonView(entry));
  }
}

function datagramJson(d: Datagram): string {
  const endpoint = (e: Datagram['local']) => `{"address":${JSON.stringify(e.address)},"port":${JSON.stringify(e.port)}}`;
  return `{"local":${endpoint(d.local)},"remote":${endpoint(d.remote)},"bytes":{"hex":"${Buffer.from(d.bytes.buffer, d.bytes.byteOffset, d.bytes.byteLength).toString('hex')}"}}`;
}

/** A line written by encodeRecordLine, back to its entry; throws SyntaxError on bad JSON. */
export function decodeRecordLine(line: string): RecordEntry {
  return JSON.parse(line, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const keys = Object.keys(value);
      if (keys.length === 1 && keys[0] === 'hex' && typeof (value as { hex: unknown }).hex === 'string') return Buffer.from((value as { hex: string }).hex, 'hex');
    }
    return value;
  }) as RecordEntry;
}
