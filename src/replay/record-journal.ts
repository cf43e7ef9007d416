/**
 * The journal that makes a record: each thing the engine hands it becomes a RecordEntry for
 * `sink` (an array in tests, a file's lines in the daemon). Buffers are kept as handed over, not
 * copied: the engine never writes into a datagram it received or sent, nor into a draw.
 */
import { readFileSync } from 'node:fs';
import type { EngineConfig } from '../config/model.js';
import type { EngineJournal, JournalInput } from '../engine/engine-journal.js';
import { RECORD_FORMAT, RECORD_VERSION, type RecordEntry } from './record-entry.js';

/** The version in package.json: a record says which ikekm made it. */
export const IKEKM_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export function recordJournal(sink: (entry: RecordEntry) => void, start: { config: EngineConfig; kernelEnforcesByteLimits: boolean }): EngineJournal {
  sink({ t: 'header', format: RECORD_FORMAT, version: RECORD_VERSION, ikekm: IKEKM_VERSION, kernelEnforcesByteLimits: start.kernelEnforcesByteLimits, config: start.config });
  return {
    input: (atMs: number, input: JournalInput) => sink({ t: 'in', at: atMs, input }),
    draw: (bytes) => sink({ t: 'draw', bytes }),
    load: (value) => sink({ t: 'load', value }),
    output: (datagram) => sink({ t: 'out', datagram }),
    state: (actor, value) => sink({ t: 'state', actor, value }),
  };
}
