/**
 * A copy of a record that can be shared: the random draws that were secrets (DH private values,
 * COOKIE secrets) are withheld, zeros in their place. A draw counts as public when its octets
 * went out in a datagram the record has (SPIs, nonces, IVs), or when it is too short to be a key
 * (under 16 octets: lifetime jitter, retry choices). The PSKs are never in a record. A replay of
 * the copy follows the record up to the first use of a withheld draw and says so there.
 */
import type { RecordEntry } from './record-entry.js';

/** Draws shorter than this are no key material (a DH private value or secret is 16 octets or more). */
export const SECRET_MIN_OCTETS = 16;

export interface RedactedRecord {
  readonly entries: RecordEntry[];
  readonly kept: number;
  readonly withheld: number;
}

export function redactRecord(entries: readonly RecordEntry[]): RedactedRecord {
  const sent = entries.filter((e): e is Extract<RecordEntry, { t: 'out' }> => e.t === 'out').map((e) => Buffer.from(e.datagram.bytes));
  let kept = 0;
  let withheld = 0;
  const out = entries.map((e): RecordEntry => {
    if (e.t === 'header') return { ...e, redacted: true };
    if (e.t !== 'draw') return e;
    if (e.bytes.length < SECRET_MIN_OCTETS || sent.some((d) => d.includes(e.bytes))) {
      kept++;
      return e;
    }
    withheld++;
    return { t: 'draw', bytes: Buffer.alloc(e.bytes.length), withheld: true };
  });
  return { entries: out, kept, withheld };
}
